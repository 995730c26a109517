#!/usr/bin/env python3
"""How much of the Tmall log's held-out purchases simple signals reach, without any model (docs/results.md).

Reads ../shared/data/tmall-brand-2013/t_alibaba_data.csv.gz (not copied into the repo), splits as scripts/real.sh
tmall does (train up to 2013-07-31, purchases of 2013-08-01..15 by users seen in training, one event per (user,
brand, day)), and prints recall@100 and @1000 of:
  - popularity by purchases or clicks over the last N days (is recency a signal here?),
  - the user's own brands, most recent first, then the 60-day bestsellers (the evaluator's history_popularity),
  - item-kNN over the 60-day user x brand matrix (co-engagement, cosine-normalised), then bestsellers,
  - the user's own brands, then item-kNN, then bestsellers.
Plain Python 3, no packages: python3 scripts/analysis/tmall_signals.py
"""
import collections
import csv
import datetime
import gzip
import math
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOG = os.path.join(ROOT, "..", "shared", "data", "tmall-brand-2013", "t_alibaba_data.csv.gz")
T = datetime.date(2013, 7, 31)
WINDOW = 60
CLICK, BUY, COLLECT, CART = 0, 1, 2, 3

rows = []
with gzip.open(sys.argv[1] if len(sys.argv) > 1 else LOG, "rt") as f:
    for r in csv.DictReader(f):
        m, d = map(int, r["visit_datetime"].split("-"))
        rows.append((int(r["user_id"]), int(r["brand_id"]), int(r["type"]), datetime.date(2013, m, d)))
train = [x for x in rows if x[3] <= T]
users = {u for u, _, _, _ in train}
events = sorted({(u, b, d) for u, b, t, d in rows if t == BUY and d > T and u in users})
print(f"held-out purchase events: {len(events)} (users seen in training, one per user, brand and day)")


def recall(lists, k):
    return sum(1 for u, b, _ in events if b in lists(u)[:k]) / len(events)


def since(days):
    return T - datetime.timedelta(days=days - 1)


print("\npopularity by window (recall@100, @1000):")
for days in (7, 14, 30, 60, 107):
    for typ, name in ((BUY, "purchases"), (CLICK, "clicks")):
        top = [b for b, _ in collections.Counter(
            b for _, b, t, d in train if t == typ and d >= since(days)).most_common(1000)]
        print(f"  {name:9s} over {days:3d} days: {recall(lambda u: top, 100):.4f} {recall(lambda u: top, 1000):.4f}")

window = [x for x in train if x[3] >= since(WINDOW)]
weight = {CLICK: 1.0, BUY: 3.0, COLLECT: 2.0, CART: 2.0}
user_brands = collections.defaultdict(collections.Counter)
last_seen = collections.defaultdict(dict)
for u, b, t, d in window:
    user_brands[u][b] += weight[t]
    last_seen[u][b] = max(last_seen[u].get(b, d), d)
brand_users = collections.defaultdict(set)
for u, c in user_brands.items():
    for b in c:
        brand_users[b].add(u)
bestsellers = [b for b, _ in collections.Counter(b for _, b, t, _ in window if t == BUY).most_common(2000)]


def knn(u):
    s = collections.Counter()
    for b in user_brands[u]:
        for v in brand_users[b]:
            if v != u:
                for b2 in user_brands[v]:
                    s[b2] += 1.0 / math.sqrt(len(brand_users[b]) * len(brand_users[b2])) / math.log(2 + len(user_brands[v]))
    return [b for b, _ in s.most_common(1000)]


def chain(*sources):
    out, seen = [], set()
    for source in sources:
        for b in source:
            if b not in seen:
                out.append(b)
                seen.add(b)
                if len(out) == 1000:
                    return out
    return out


cache = {}


def lists(u):
    if u not in cache:
        own = sorted(last_seen[u], key=lambda b: (-last_seen[u][b].toordinal(), -user_brands[u][b]))
        near = knn(u)
        cache[u] = {"history_popularity": chain(own, bestsellers), "knn_popularity": chain(near, bestsellers),
                    "history_knn_popularity": chain(own, near, bestsellers)}
    return cache[u]


print(f"\nlists over the last {WINDOW} days (recall@100, @1000):")
for name in ("history_popularity", "knn_popularity", "history_knn_popularity"):
    print(f"  {name:23s} {recall(lambda u: lists(u)[name], 100):.4f} {recall(lambda u: lists(u)[name], 1000):.4f}")
