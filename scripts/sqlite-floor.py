#!/usr/bin/env python3
"""What SQLite itself needs to write the rows of `rialto bench --direct`: the floor the writer
is measured against (docs/PERFORMANCE.md).

Per transfer it writes what the writer writes for a posted transfer: the transfer row, two
entries, the idempotency record and the event (both with a JSON body the size of the rendered
answer), optionally an audit record (--audit, as through HTTP), and the balances of the
touched accounts (one UPDATE per account per batch) and the head row per batch. Prepared
statements (executemany), batches of --batch transfers, one durable transaction each, on a
database migrated by `rialto migrate` (same schema, indexes, triggers and pragmas:
WAL, synchronous=FULL).

    rm -f /tmp/floor.db*; target/release/rialto migrate --database sqlite:///tmp/floor.db
    python3 scripts/sqlite-floor.py /tmp/floor.db [--transfers 100000] [--batch 1000] [--hot] [--audit]
"""
import argparse
import hashlib
import os
import random
import sqlite3
import time

p = argparse.ArgumentParser()
p.add_argument("db")
p.add_argument("--transfers", type=int, default=100_000)
p.add_argument("--batch", type=int, default=1000)
p.add_argument("--accounts", type=int, default=1000)
p.add_argument("--hot", action="store_true")
p.add_argument("--audit", action="store_true")
a = p.parse_args()

conn = sqlite3.connect(a.db, isolation_level=None)
for pragma in ["journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON", "busy_timeout = 10000",
               "cache_size = -65536", "temp_store = MEMORY"]:
    conn.execute(f"PRAGMA {pragma}")


_counter = [0]


def new_id(prefix):
    """Time-ordered like the UUIDv7 ids Rialto makes: 48-bit milliseconds, then a counter."""
    _counter[0] += 1
    return f"{prefix}_{int(time.time() * 1000):012x}{_counter[0]:08x}{os.urandom(6).hex()}"


now = int(time.time() * 1e6)
account_cols = ("id, user_id, name, currency, allow_negative_balance, status, debits_posted, credits_posted, "
                "debits_pending, credits_pending, metadata, created_at, updated_at")
sources = [new_id("acct") for _ in range(a.accounts)]
destinations = [new_id("acct") for _ in range(1 if a.hot else a.accounts)]
balance = {}
conn.execute("BEGIN IMMEDIATE")
for acct in sources + destinations:
    # Sources start funded (credits) so no entry can overdraw them.
    credits = 10**12 if acct in sources else 0
    balance[acct] = [0, credits]
    conn.execute(f"INSERT INTO accounts ({account_cols}) VALUES (?, NULL, NULL, 'USD', 0, 'active', 0, ?, 0, 0, '{{}}', ?, ?)",
                 (acct, credits, now, now))
conn.execute("COMMIT")

# A rendered transfer answer is about this long (what the writer stores and sends as the event).
body = '{"object":"transfer","id":"%s","source_account_id":"%s","destination_account_id":"%s","amount":%d,' \
       '"currency":"USD","status":"posted","pending":false,"posted_amount":%d,"description":null,"reference":null,' \
       '"metadata":{},"expires_at":null,"reversal_of":null,"reversed_by":null,"created_at":"2026-12-02T00:00:00.000000Z",' \
       '"updated_at":"2026-12-02T00:00:00.000000Z"}'
(event_seq, audit_seq, head_hash) = conn.execute("SELECT event_seq, audit_seq, audit_hash FROM ledger_heads WHERE id = 1").fetchone()
rng = random.Random(7)
started = time.perf_counter()
done = 0
while done < a.transfers:
    n = min(a.batch, a.transfers - done)
    transfers, entries, idem, events, audits, touched = [], [], [], [], [], set()
    for _ in range(n):
        t = new_id("tr")
        src, dst = rng.choice(sources), rng.choice(destinations)
        amount = rng.randint(1, 100)
        transfers.append((t, src, dst, "USD", amount, amount, "posted", 0, None, None, "{}", None, None, None, now, now))
        balance[src][0] += amount
        balance[dst][1] += amount
        entries.append((src, t, None, "debit", amount, "USD", balance[src][1] - balance[src][0], now))
        entries.append((dst, t, None, "credit", amount, "USD", balance[dst][1] - balance[dst][0], now))
        answer = body % (t, src, dst, amount, amount)
        idem.append((f"key_x:{t}", hashlib.sha256(answer.encode()).hexdigest(), 201, answer, now, now + 86_400_000_000))
        event_seq += 1
        events.append((event_seq, new_id("evt"), "transfer.created", "transfer", t, answer, None, now))
        if a.audit:
            audit_seq += 1
            prev, head_hash = head_hash, hashlib.sha256((head_hash + t).encode()).hexdigest()
            audits.append((audit_seq, new_id("aud"), "key_x", "transfer.create", "transfer", t, "success", None,
                           "127.0.0.1", "{}", now, prev, head_hash))
        touched.update((src, dst))
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO transfers (id, source_account_id, destination_account_id, currency, amount, "
                     "posted_amount, status, pending, description, reference, metadata, expires_at, reversal_of, "
                     "reversed_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     transfers)
    conn.executemany("INSERT INTO entries (account_id, transfer_id, journal_entry_id, direction, amount, currency, "
                     "balance_after, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", entries)
    conn.executemany("UPDATE accounts SET debits_posted = ?, credits_posted = ?, updated_at = ? WHERE id = ?",
                     [(balance[x][0], balance[x][1], now, x) for x in touched])
    conn.executemany("INSERT INTO idempotency_keys (id, request_hash, status_code, body, created_at, expires_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)", idem)
    conn.executemany("INSERT INTO events (seq, id, type, resource_type, resource_id, data, request_id, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", events)
    if audits:
        conn.executemany("INSERT INTO audit_events (seq, id, actor, action, resource_type, resource_id, result, "
                         "request_id, ip, details, created_at, prev_hash, hash) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", audits)
    conn.execute("UPDATE ledger_heads SET event_seq = ?, audit_seq = ?, audit_hash = ? WHERE id = 1",
                 (event_seq, audit_seq, head_hash))
    conn.execute("COMMIT")
    done += n
elapsed = time.perf_counter() - started
print(f"{done} transfers in {elapsed:.2f} s: {done / elapsed:,.0f} transfers/s "
      f"({'hot' if a.hot else 'spread'}, batch {a.batch}{', audit' if a.audit else ''})")
