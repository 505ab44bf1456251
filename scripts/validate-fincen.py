#!/usr/bin/env python3
"""Validates a FinCEN BSA E-Filing batch against FinCEN's schema (XML Schema 1.1).

    validate-fincen.py ctr|sar FILE.xml

Needs `xmlschema` (pip install xmlschema). The schemas are FinCEN's own, shipped unchanged in
crates/compliance/xsd/ (see SOURCE.md there). Exit status 1 and the errors when it does not
validate.
"""
import pathlib
import sys

import xmlschema

SCHEMAS = {"ctr": "EFL_CTRXBatchSchema.xsd", "sar": "EFL_SARXBatchSchema.xsd"}


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in SCHEMAS:
        print(__doc__, file=sys.stderr)
        return 2
    here = pathlib.Path(__file__).resolve().parent.parent / "crates" / "compliance" / "xsd"
    schema = xmlschema.XMLSchema11(str(here / SCHEMAS[sys.argv[1]]))
    errors = list(schema.iter_errors(sys.argv[2]))
    for e in errors[:20]:
        print(f"{e.path}: {e.reason}")
    if errors:
        print(f"{sys.argv[2]}: {len(errors)} error(s) against {SCHEMAS[sys.argv[1]]}")
        return 1
    print(f"{sys.argv[2]}: valid against {SCHEMAS[sys.argv[1]]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
