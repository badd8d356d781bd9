#!/usr/bin/env python3
"""verdict.py ACKED SINK SESSIONS: what the webhook load tests conclude.

ACKED: webhook-load --acked (message id, status); SINK: webhook-sink's
records (reply key, message id, peer, text, ...); SESSIONS: the load's
session count (message i belongs to session i % SESSIONS). Prints one JSON
object: lost (acknowledged, never answered), twice (answered with two reply
keys), order (per session, a first reply for an older message after a newer
one), raw_repeats (a reply key delivered again: allowed, receivers dedupe on
it), bad_text / bad_key (a reply that is not the mock's answer to it).
Used by crash_durability.sh, shared_store.sh and storage_faults.sh.
"""
import collections, json, sys
acked_path, sink_path, sessions = sys.argv[1], sys.argv[2], int(sys.argv[3])
acked = {}
for line in open(acked_path):
    if line.strip():
        mid, status = line.rstrip("\n").split("\t")
        acked.setdefault(mid, set()).add(status)
keys_of = collections.defaultdict(set)   # message id -> reply keys
reply_of = collections.defaultdict(set)  # reply key -> message ids
seen, raw, bad_text, order = set(), 0, 0, 0
last = {}                                # session -> last message index replied
for line in open(sink_path):
    f = line.rstrip("\n").split("\t")
    if len(f) < 5:
        continue
    key, mid, to, text = f[0], f[1], f[2], f[3]
    if not (mid[:1] == "m" and mid[1:].isdigit()):
        continue  # not a load message (a test's own probe)
    keys_of[mid].add(key)
    reply_of[key].add(mid)
    if key in seen:
        raw += 1
        continue
    seen.add(key)
    i = int(mid[1:])
    want = "mock: msg %d seq %d " % (i, i // sessions)
    if to != "s%d" % (i % sessions) or not text.startswith(want):
        bad_text += 1
    s = i % sessions
    if s in last and i < last[s]:
        order += 1
    last[s] = max(i, last.get(s, -1))
lost = [m for m in acked if m not in keys_of]
twice = [m for m, k in keys_of.items() if len(k) > 1]
print(json.dumps({
    "acked": len(acked),
    "dup_acks": sum(1 for v in acked.values() if "200" in v),
    "lost": len(lost), "lost_ids": sorted(lost)[:10],
    "twice": len(twice), "twice_ids": sorted(twice)[:10],
    "key_shared": sum(1 for v in reply_of.values() if len(v) > 1),
    "unacked_replied": len([m for m in keys_of if m not in acked]),
    "bad_key": sum(1 for k in reply_of if not k.startswith("reply:")),
    "bad_text": bad_text, "raw_repeats": raw, "order": order,
    "deliveries": sum(1 for _ in open(sink_path)),
}))
