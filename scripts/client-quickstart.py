#!/usr/bin/env python3
"""The README's quickstart through a Python client generated from /openapi.json by
openapi-python-client (scripts/python-client.sh generates it and runs this against a real
server). Fails on the first answer that is not what the quickstart expects.

    python3 scripts/client-quickstart.py BASE_URL ADMIN_KEY   (the generated package on PYTHONPATH)"""
import sys

from rialto_client import AuthenticatedClient
from rialto_client.api.default import (
    get_v1_accounts_id,
    get_v1_ledger_verify,
    get_v1_payments_id,
    get_v1_transfers,
    post_v1_accounts,
    post_v1_api_keys,
    post_v1_payments,
    post_v1_transfers,
    post_v1_users,
)
from rialto_client.models import (
    AccountCreate,
    Account,
    ApiKeyCreate,
    Payment,
    RoleName,
    PaymentCreate,
    PaymentMethodName,
    Transfer,
    TransferCreate,
    TransferList,
    User,
    UserCreate,
)


def expect(what, value, kind):
    if not isinstance(value, kind):
        sys.exit(f"{what}: expected {kind.__name__}, got {value!r}")
    return value


def main(base, admin_key):
    admin = AuthenticatedClient(base_url=base, token=admin_key)
    # A writer key, as the README makes one.
    key = post_v1_api_keys.sync(client=admin, body=ApiKeyCreate(name="quickstart", role=RoleName.WRITER))
    secret = key.secret
    client = AuthenticatedClient(base_url=base, token=secret)

    fund = expect("funding account", post_v1_accounts.sync(client=client, body=AccountCreate(currency="USD", allow_negative_balance=True)), Account)
    wallet = expect("wallet", post_v1_accounts.sync(client=client, body=AccountCreate(currency="USD", name="alice")), Account)
    body = TransferCreate(source_account_id=fund.id, destination_account_id=wallet.id, amount=1050, currency="USD")
    first = expect("transfer", post_v1_transfers.sync(client=client, body=body, idempotency_key="deposit-1"), Transfer)
    again = expect("replayed transfer", post_v1_transfers.sync(client=client, body=body, idempotency_key="deposit-1"), Transfer)
    if again.id != first.id:
        sys.exit("a retried transfer moved money twice")
    account = expect("wallet", get_v1_accounts_id.sync(client=client, id=wallet.id), Account)
    if account.balance.posted != 1050:
        sys.exit(f"the wallet holds {account.balance.posted}, not 1050")

    # Paging with `limit`.
    post_v1_transfers.sync(client=client, body=TransferCreate(source_account_id=fund.id, destination_account_id=wallet.id, amount=1, currency="USD"))
    page = expect("transfers", get_v1_transfers.sync(client=client, limit=1, account_id=wallet.id), TransferList)
    if len(page.data) != 1 or not page.has_more:
        sys.exit(f"limit=1 gave {len(page.data)} transfers, has_more={page.has_more}")

    # A payment through the gates.
    user = expect("user", post_v1_users.sync(client=client, body=UserCreate(name="Alice")), User)
    pay = PaymentCreate(user_id=user.id, source_account_id=wallet.id, destination_account_id=fund.id, amount=250,
                        currency="USD", method=PaymentMethodName.CARD)
    payment = expect("payment", post_v1_payments.sync(client=client, body=pay), Payment)
    got = expect("payment", get_v1_payments_id.sync(client=client, id=payment.id), Payment)
    if got.status != "completed":
        sys.exit(f"the payment is {got.status}")
    verify = get_v1_ledger_verify.sync(client=client)
    if not getattr(verify, "ok", False):
        sys.exit(f"the ledger does not verify: {verify!r}")
    print("python client quickstart: accounts, an idempotent transfer, paging, a payment, verify: ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
