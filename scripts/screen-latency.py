#!/usr/bin/env python3
"""Latency of POST /v1/sanctions/screen through HTTP: one keep-alive client, sequential,
over listed names (every primary OFAC and UN name found in the files given) and generated
unlisted names, alternating.
  scripts/screen-latency.py BASE_URL KEY SDN_CSV N
"""
import csv, http.client, json, random, sys, time, urllib.parse

base, key, sdn, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
listed = [row[1] for row in csv.reader(open(sdn, encoding="utf-8", errors="replace")) if len(row) > 2]
given = "james mary olga pedro wei priya kwame sofia lars ingrid hiroshi amara dmitri lucia".split()
family = "smith garcia ivanov chen okafor rossi muller kowalski tanaka silva nguyen haddad".split()
rng = random.Random(1)
url = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(url.hostname, url.port)
headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
times = []
for i in range(n):
    name = rng.choice(listed) if i % 2 == 0 else f"{rng.choice(given)} {rng.choice(family)}"
    body = json.dumps({"name": name})
    t = time.perf_counter()
    conn.request("POST", "/v1/sanctions/screen", body, headers)
    r = conn.getresponse()
    r.read()
    times.append((time.perf_counter() - t) * 1e6)
    assert r.status == 200, (r.status, name)
times.sort()
pct = lambda p: times[int((len(times) - 1) * p)]
print(f"{n} screenings through HTTP: p50 {pct(0.5):.0f} µs, p90 {pct(0.9):.0f} µs, p99 {pct(0.99):.0f} µs, max {times[-1]:.0f} µs")
