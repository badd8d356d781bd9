"""Writes docs/benchmarks/messaging.md for scripts/bench/messaging.

Inputs come from the environment (BENCH_*) and the run directory
BENCH_WORK. Per backend B of BENCH_BACKENDS, B/status is "ok", "skipped:
reason" or "failed: reason"; an ok backend also has B/server (how its storage
ran), B/runs ("NAME=label" lines: names max* as fast as acknowledged, rate*
fixed rate, accept), B/rss_main, B/rss_accept (KiB), B/profile.txt (may be
empty) and per run NAME: NAME.json (webhook-load --json), NAME.cpu (ticks over
the run and the drain of its replies: gateway main loop, HTTP workers, other
gateway threads, sink, the machine's busy and total ticks, storage server),
NAME.last (CLOCK_MONOTONIC ns of the last reply at the sink, 0 when none) and
NAME.m0 / NAME.m1 (the gateway's /metrics before and after).
"""
import json
import math
import os
import re
import time

env = os.environ
work, out, hz = env["BENCH_WORK"], env["BENCH_OUT"], int(env["BENCH_HZ"])
TARGET = 10000
NCPU = os.cpu_count()
BACKENDS = env["BENCH_BACKENDS"].split()
REDIS_FSYNC = env.get("BENCH_REDIS_FSYNC", "everysec")
FSYNC_P50, FSYNC_P99 = (float(x) for x in env["BENCH_FSYNC_MS"].split())

PG_SYNC = env.get("BENCH_PG_SYNC", "on")
SQLITE_FULL = re.search(r"synchronous:\s*full", env.get("BENCH_SQLITE_EXTRA", "")) is not None

DURABILITY = {
    "sqlite": ("power loss (WAL, synchronous full)" if SQLITE_FULL else
               "gateway crash; power loss: the last commits lost (WAL, synchronous normal)"),
    "postgres": ("power loss (fsync and synchronous_commit on)" if PG_SYNC == "on" else
                 "gateway crash; postgres or OS crash: the last commits lost "
                 "(synchronous_commit off)"),
    "redis": ("gateway or redis crash; power loss: up to 1 s lost (AOF, appendfsync everysec)"
              if REDIS_FSYNC == "everysec" else
              "power loss (AOF, appendfsync always)"),
}


def read(backend, name, ext=""):
    with open(os.path.join(work, backend, name + ext)) as f:
        return f.read()


# ---- /metrics ------------------------------------------------------------------

LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
SAMPLE = re.compile(r"^(\w+)(?:\{(.*)\})?\s+(\S+)")
# A plugin's own count of lost connections (storage-postgres, storage-redis).
RECONNECTS = re.compile(r"^openclaw_storage_\w+_reconnects_total$")


def parse_metrics(text):
    """({op: {le: cumulative count}}, {(op, status): count}) of the storage
    families, summed over any other labels; a reconnect counter is in the
    second as ("(reconnects)", its name)."""
    hist, ops = {}, {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m and RECONNECTS.match(m.group(1)):
            ops[("(reconnects)", m.group(1))] = float(m.group(3))
            continue
        if not m or m.group(1) not in ("openclaw_storage_op_seconds_bucket",
                                       "openclaw_storage_ops_total"):
            continue
        labels = dict(LABEL.findall(m.group(2) or ""))
        value = float(m.group(3))
        op = labels.get("op", "?")
        if m.group(1) == "openclaw_storage_ops_total":
            key = (op, labels.get("status", "?"))
            ops[key] = ops.get(key, 0) + value
        else:
            le = math.inf if labels["le"] == "+Inf" else float(labels["le"])
            h = hist.setdefault(op, {})
            h[le] = h.get(le, 0) + value
    return hist, ops


def metrics_delta(backend, name):
    """The storage metrics of one run: after minus before."""
    h0, o0 = parse_metrics(read(backend, name, ".m0"))
    h1, o1 = parse_metrics(read(backend, name, ".m1"))
    hist = {op: {le: c - h0.get(op, {}).get(le, 0) for le, c in b.items()}
            for op, b in h1.items()}
    ops = {k: v - o0.get(k, 0) for k, v in o1.items()}
    return hist, ops


def quantile(buckets, q):
    """Seconds at quantile q of cumulative buckets {le: count}, linearly
    interpolated inside the bucket that holds it (as Prometheus's
    histogram_quantile); ("above", bound) when it is in the +Inf bucket;
    None without observations."""
    items = sorted(buckets.items())
    total = items[-1][1] if items else 0
    if total <= 0:
        return None
    rank = q * total
    prev_le, prev_c = 0.0, 0.0
    for le, c in items:
        if c >= rank:
            if math.isinf(le):
                return ("above", prev_le)
            if c <= prev_c:
                return le
            return prev_le + (le - prev_le) * (rank - prev_c) / (c - prev_c)
        prev_le, prev_c = le, c
    return ("above", prev_le)


def fmt_s(v):
    """Seconds as milliseconds, 2-3 significant figures."""
    if v is None:
        return "-"
    if isinstance(v, tuple):
        return "> %s" % fmt_s(v[1])
    ms = v * 1000
    return "%.2f" % ms if ms < 10 else "%.1f" % ms if ms < 100 else "%.0f" % ms


# ---- replies at the sink ----------------------------------------------------------


def parse_replies():
    """{id prefix: [(message index, receive ns)]} from the sink's replies.tsv
    (inReplyTo is the message id: prefix + index)."""
    by_prefix = {}
    path = os.path.join(work, "replies.tsv")
    if not os.path.exists(path):
        return by_prefix
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 5:
                continue
            mid = fields[1]
            cut = mid.rfind("-") + 1
            if cut <= 0 or not mid[cut:].isdigit():
                continue
            by_prefix.setdefault(mid[:cut], []).append((int(mid[cut:]), int(float(fields[4]))))
    return by_prefix


REPLIES = parse_replies()


LATE_S = 1.0


def acked_ids(backend, name, prefix):
    """Indexes of the messages webhook-load saw acknowledged (NAME.acked)."""
    ids = set()
    for line in read(backend, name, ".acked").splitlines():
        mid = line.split("\t", 1)[0]
        if mid.startswith(prefix) and mid[len(prefix):].isdigit():
            ids.add(int(mid[len(prefix):]))
    return ids


def reply_stats(j, prefix, acked):
    """Acknowledged messages without a reply, replies beyond the first to a
    message, replies to messages webhook-load never saw acknowledged (sent
    before --max-seconds stopped it); the replies overtaken by more than
    LATE_S by replies to messages sent later (webhook-load sends in index
    order: a spread of end-to-end latency the rate hides), and by how much; for a
    fixed-rate run the replies more than LATE_S after their message's
    scheduled send time and the latest (s). The schedule is counted from the
    first send: webhook-load's own start is some ms earlier (connection
    set-up), which is why only lateness far above that is counted."""
    got = REPLIES.get(prefix, [])
    first = {}
    for i, ns in got:
        if i not in first or ns < first[i]:
            first[i] = ns
    j["replied"], j["dup_replies"] = len(first), len(got) - len(first)
    j["missing"] = len(acked - set(first))
    j["unacked_replies"] = len(set(first) - acked)
    order = sorted(first.items())
    over, worst, later_min = [], 0.0, float("inf")
    for i, ns in reversed(order):
        if later_min < ns - LATE_S * 1e9:
            over.append(ns)
            worst = max(worst, (ns - later_min) / 1e9)
        later_min = min(later_min, ns)
    j["overtaken"] = (len(over), worst)
    j["late"] = None
    rate = j.get("target_rate", 0)
    if rate > 0 and order:
        lat = [(ns - (j["first_send_ns"] + i * 1e9 / rate)) / 1e9 for i, ns in order]
        j["late"] = (sum(1 for x in lat if x > LATE_S), max(lat))


# ---- runs ------------------------------------------------------------------------


def load(backend, name):
    j = json.loads(read(backend, name, ".json"))
    m, w, p, s, busy, total, srv = (int(x) for x in read(backend, name, ".cpu").split())
    last = int(float(read(backend, name, ".last") or 0))
    acked = max(j["acked"], 1)
    first = j["first_send_ns"]
    j["wall"] = (last - first) / 1e9 if last > first else 0
    j["e2e"] = acked / j["wall"] if j["wall"] > 0 else 0
    ticks = {"main": m, "workers": w, "pool": p, "sink": s, "gw": m + w + p, "srv": srv}
    j["us"] = {k: v / hz / acked * 1e6 for k, v in ticks.items()}
    j["us"]["load"] = j["cpu_s"] / acked * 1e6
    j["busy"] = 100.0 * busy / total if total > 0 else 0
    j["hist"], j["ops"] = metrics_delta(backend, name)
    prefix = read(backend, name, ".prefix").strip()
    reply_stats(j, prefix, acked_ids(backend, name, prefix))
    return j


def verdict(rate):
    if rate >= TARGET:
        return "meets the target (%.0f%%)" % (100 * rate / TARGET)
    if rate <= 0:
        return "not measured"
    return "%.0f%% of the target: short by %.0f msgs/s (x%.1f needed)" % (
        100 * rate / TARGET, TARGET - rate, TARGET / rate)


class Backend:
    def __init__(self, name):
        self.name = name
        try:
            self.status = read(name, "status").strip()
        except OSError:
            self.status = "failed: no status written (the run stopped early)"
        self.ok = self.status == "ok"
        if not self.ok:
            return
        self.server = read(name, "server").strip()
        self.runs = []
        for line in read(name, "runs").strip().splitlines():
            run, label = line.split("=", 1)
            self.runs.append((run, label, load(name, run)))
        self.maxes = [(lb, j) for n, lb, j in self.runs if n.startswith("max")]
        self.rates = [(lb, j) for n, lb, j in self.runs if n.startswith("rate")]
        self.half = dict((n, j) for n, _, j in self.runs).get("half")
        self.full = [(lb, j) for n, lb, j in self.runs if n != "accept"]
        self.accept = [j for n, _, j in self.runs if n == "accept"][0]
        self.best_acc = max(self.maxes, key=lambda r: r[1]["rate"])
        self.best_e2e = max(self.full, key=lambda r: r[1]["e2e"])
        self.ref_label, self.a = max(self.maxes, key=lambda r: r[1]["e2e"])
        self.rss_main = int(read(name, "rss_main")) / 1024
        self.rss_accept = int(read(name, "rss_accept")) / 1024
        self.profile = read(name, "profile.txt").rstrip()

    def cores(self, part):
        """Cores busy on average in the reference run for one component."""
        a = self.a
        return a["us"][part] * a["acked"] / 1e6 / a["wall"] if a["wall"] > 0 else 0


backends = [Backend(b) for b in BACKENDS]
done = [b for b in backends if b.ok]
by_name = {b.name: b for b in backends}
rate_labels = [lb for lb, _ in done[0].rates] if done else []


# ---- tables ----------------------------------------------------------------------


def summary_table():
    head = ("| backend | an acknowledged message survives | accepted msgs/s (best A) "
            "| end-to-end msgs/s (best) | accept only msgs/s (C) |")
    sep = "|---|---|---|---|---|"
    head += (" half of A's end-to-end rate: rate; end-to-end msgs/s; ack ms p50 / p99; replies "
             "> 1 s late (latest) |")
    sep += "---|"
    for lb in rate_labels:
        head += (" %s: end-to-end msgs/s; ack ms p50 / p99; replies > 1 s late (latest) |"
                 % lb[3:])
        sep += "---|"
    head += (" gateway CPU µs/msg | storage server CPU µs/msg | storage server cores |")
    sep += "---|---|---|"
    rows = [head, sep]
    for b in backends:
        if not b.ok:
            rows.append("| %s | **%s** |%s" % (b.name, b.status, " - |" * (len(rate_labels) + 7)))
            continue
        row = "| %s | %s | %.0f | %.0f | %.0f |" % (
            b.name, DURABILITY[b.name], b.best_acc[1]["rate"], b.best_e2e[1]["e2e"],
            b.accept["rate"])
        h = b.half
        row += (" %d/s; %.0f; %.2f / %.2f; %s |" % (
            h["target_rate"], h["e2e"], h["latency_ms"]["p50"], h["latency_ms"]["p99"],
            "%d (%.1f s)" % h["late"] if h["late"] else "-") if h else " - |")
        for lb in rate_labels:
            j = dict(b.rates).get(lb)
            late = j["late"] if j else None
            row += (" %.0f; %.2f / %.2f; %s |" % (
                j["e2e"], j["latency_ms"]["p50"], j["latency_ms"]["p99"],
                "%d (%.1f s)" % late if late else "-") if j else " - |")
        srv = b.name != "sqlite"
        row += " %.0f | %s | %s |" % (
            b.a["us"]["gw"], "%.0f" % b.a["us"]["srv"] if srv else "- (in the gateway)",
            "%.2f" % b.cores("srv") if srv else "-")
        rows.append(row)
    return "\n".join(rows)


def run_table(b):
    rows = [
        "| run | acked | errors | replies missing / duplicate | accepted msgs/s | end-to-end "
        "msgs/s | ack latency ms p50 / p90 / p99 / max | replies > 1 s late (latest) | "
        "replies overtaken > 1 s (by up to) | "
        "gateway CPU s per 1000 msgs | gateway CPU µs/msg (main / workers / other) | storage "
        "server µs/msg | load gen µs/msg | sink µs/msg | machine busy |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, label, j in b.runs:
        lat, us = j["latency_ms"], j["us"]
        e2e = "-" if name == "accept" else "%.0f" % j["e2e"]
        srv = "-" if b.name == "sqlite" else "%.0f" % us["srv"]
        replies = "-" if name == "accept" else "%d / %d%s" % (
            j["missing"], j["dup_replies"],
            " (+%d unacked)" % j["unacked_replies"] if j["unacked_replies"] else "")
        late, over = j["late"], j["overtaken"]
        rows.append(
            "| %s | %d | %d | %s | %.0f | %s | %.2f / %.2f / %.2f / %.2f | %s | %s | %.2f | %.0f "
            "(%.0f / %.0f / %.0f) | %s | %.0f | %.0f | %.0f%% |" % (
                label, j["acked"], j["errors_total"] + j["unfinished"], replies, j["rate"], e2e,
                lat["p50"], lat["p90"], lat["p99"], lat["max"],
                "%d (%.1f s)" % late if late else "-",
                "-" if name == "accept" else "%d (%.1f s)" % over[:2] if over[0] else "0",
                us["gw"] / 1000, us["gw"],
                us["main"], us["workers"], us["pool"], srv, us["load"], us["sink"],
                j["busy"]))
    return "\n".join(rows)


def op_table():
    """Per backend and op: ops per message and bucket-interpolated p50 / p99
    per run, plus every outcome other than ok."""
    names, labels = [], []
    for b in done:
        for name, lb, _ in b.runs:
            if name not in names:
                names.append(name)
                labels.append("B: half of A" if name == "half" else lb)
    head = "| backend | op | ops per message |" + "".join(
        " %s: p50 / p99 ms |" % lb for lb in labels) + " not ok |"
    rows = [head, "|---|---|---|" + "---|" * len(labels) + "---|"]
    for b in done:
        full_acked = sum(j["acked"] for _, j in b.full)
        count, bad = {}, {}
        for _, _, j in b.runs:
            for (op, status), v in j["ops"].items():
                if v <= 0 or op == "(reconnects)":
                    continue
                count[op] = count.get(op, 0) + v
                if status != "ok":
                    bad.setdefault(op, {}).setdefault(status, 0)
                    bad[op][status] += v
        ops = sorted((op for op in count if count[op] > 0), key=lambda o: (-count[o], o))
        for op in ops:
            per_msg = sum(j["ops"].get((op, "ok"), 0) for _, j in b.full) / max(full_acked, 1)
            row = "| %s | %s | %.2f |" % (b.name, op, per_msg)
            by_name = dict((n, j) for n, _, j in b.runs)
            for name in names:
                h = by_name[name]["hist"].get(op) if name in by_name else None
                if not h or quantile(h, 0.5) is None:
                    row += " - |"
                else:
                    row += " %s / %s |" % (fmt_s(quantile(h, 0.5)), fmt_s(quantile(h, 0.99)))
            row += " %s |" % (", ".join("%s %d" % kv for kv in sorted(bad[op].items()))
                              if op in bad else "0")
            rows.append(row)
    return "\n".join(rows)


def bucket_bounds():
    """The finite bucket bounds, once per distinct set."""
    sets = {}
    for b in done:
        les = set()
        for _, _, j in b.runs:
            for h in j["hist"].values():
                les.update(le for le in h if not math.isinf(le))
        sets.setdefault(tuple(sorted(les)), []).append(b.name)
    return "; ".join("%s ms (%s)" % (", ".join(fmt_s(x) for x in les), ", ".join(names))
                     for les, names in sets.items())


def enoent_note():
    """Explains transcript_read's enoent when it is one per fresh session."""
    notes = []
    for b in done:
        n = sum(j["ops"].get(("transcript_read", "enoent"), 0) for _, _, j in b.runs)
        fresh = sum(min(j["sessions"], j["acked"]) for _, j in b.full)
        if n > 0:
            notes.append("%s %d (%s)" % (b.name, n, "one per fresh session of the A and B runs"
                                          if n == fresh else "%d fresh sessions" % fresh))
    if not notes:
        return ""
    return ("\ntranscript_read's enoent is the first turn of a fresh session finding no "
            "transcript yet: %s.\n" % "; ".join(notes))


# ---- text ------------------------------------------------------------------------


def where_time_goes(b):
    a = b.a
    box_us = a["us"]["gw"] + a["us"]["load"] + a["us"]["sink"] + a["us"]["srv"]
    common = dict(ref=b.ref_label, wall=a["wall"], gw_cores=b.cores("gw"),
                  main_cores=b.cores("main"), pool_cores=b.cores("pool"),
                  workers_cores=b.cores("workers"), load_cores=b.cores("load"),
                  sink_cores=b.cores("sink"), srv_cores=b.cores("srv"), busy=a["busy"],
                  gw_us=a["us"]["gw"], gw_us_c=b.accept["us"]["gw"], srv_us=a["us"]["srv"],
                  gw_cores_10k=a["us"]["gw"] * TARGET / 1e6,
                  srv_cores_10k=a["us"]["srv"] * TARGET / 1e6,
                  box_cores_10k=box_us * TARGET / 1e6, ncpu=NCPU, main_us=a["us"]["main"],
                  pool_us=a["us"]["pool"],
                  ours_cores=sum(b.cores(k) for k in ("gw", "srv", "load", "sink")))
    if b.name == "sqlite":
        return """Where the time goes ({ref}): {wall:.1f} s from the first send to the last reply;
the gateway used {gw_cores:.2f} cores (main loop {main_cores:.2f}, sqlite pool
{pool_cores:.2f}, HTTP workers {workers_cores:.2f}), the load generator {load_cores:.2f}
and the sink {sink_cores:.2f}; the machine was {busy:.0f}% busy (kernel networking
included). Per message the gateway spends {gw_us:.0f} µs of CPU ({gw_us_c:.0f} µs when it
only stores and acknowledges, C), so 10k msgs/s would take {gw_cores_10k:.1f} cores of
gateway CPU ({box_cores_10k:.1f} with the load generator and the sink) on this
{ncpu}-core machine. Two stages are serial by design: the main loop ({main_us:.0f} µs per
message: routing, lanes, the turn, provider-mock, the outbox, every storage
completion) and storage-sqlite, which runs one batch (one transaction) at a time on
the libuv pool ({pool_us:.0f} µs per message: the inbox insert, the history read, the
turn's commit of transcript + outbox + inbox state, the outbox update). Acceptance
alone is cheap; the agent turn and its storage round trips are what the full
pipeline pays for.
""".format(**common)
    return """Where the time goes ({ref}): {wall:.1f} s from the first send to the last reply;
the gateway used {gw_cores:.2f} cores (main loop {main_cores:.2f}, HTTP workers
{workers_cores:.2f}, other threads {pool_cores:.2f}), the storage server {srv_cores:.2f},
the load generator {load_cores:.2f} and the sink {sink_cores:.2f}; the machine was
{busy:.0f}% busy; gateway, storage server, load generator and sink together used
{ours_cores:.2f} of the {ncpu} cores. Per message the gateway spends {gw_us:.0f} µs of
CPU ({gw_us_c:.0f} µs when it only stores and acknowledges, C) and the storage server
{srv_us:.0f} µs, so 10k
msgs/s would take {gw_cores_10k:.1f} cores of gateway CPU plus {srv_cores_10k:.1f} of
storage server ({box_cores_10k:.1f} with the load generator and the sink) on this
{ncpu}-core machine.
""".format(**common)


def reconnects(b):
    """The plugin's reconnect counters over the runs, when it has any."""
    total = {}
    for _, _, j in b.runs:
        for (op, name), v in j["ops"].items():
            if op == "(reconnects)":
                total[name] = total.get(name, 0) + v
    return "".join("\n- Connections lost and re-established during the runs (`%s`): %d%s." % (
        name, v, "" if v == 0 else " (the server ran throughout)")
        for name, v in sorted(total.items()))


def backend_section(b):
    if not b.ok:
        return "## %s\n\n**%s.**\n" % (b.name, b.status[0].upper() + b.status[1:])
    md = """## {name}

Storage: {server}. An acknowledged message survives: {durability}.

{table}

- Peak RSS of the gateway (VmHWM): {rss_main:.1f} MiB over A and B, {rss_accept:.1f} MiB
  in C.{reconnects}

{where}""".format(name=b.name, server=b.server, durability=DURABILITY[b.name],
                  table=run_table(b), rss_main=b.rss_main, rss_accept=b.rss_accept,
                  reconnects=reconnects(b), where=where_time_goes(b))
    if b.profile:
        md += """
Profile of the gateway in one more run like A (not in the table), 4 s of `perf record
--call-graph dwarf` over all threads: self time by library, then functions by
inclusive % of the samples (self %; [k] = kernel):

```
{}
```
""".format(b.profile)
    return md


TARGET_HEAD = ("## Against the target (SPEC §11: 10k inbound messages/s accepted durably on "
               "sqlite, end to end)\n")


def target_section():
    sq = by_name.get("sqlite")
    if sq is None or not sq.ok:
        why = "not in BENCH_STORAGE" if sq is None else sq.status
        return TARGET_HEAD + """
**Not judged in this run: sqlite was {}.**
""".format(why)
    e2e = sq.best_e2e[1]["e2e"]
    md = TARGET_HEAD + """
**{verdict_line}**

- Accepted, full pipeline (best A, {acc_label}): **{acc:.0f} msgs/s**, {v_acc}.
- End to end, replies at the sink (best run, {e2e_label}): **{e2e:.0f} msgs/s**,
  {v_e2e}.
- Acceptance alone (C: dmPolicy allowlist with nobody allowed, so messages are stored,
  acknowledged and dropped without a turn): **{acc_c:.0f} msgs/s**, {v_acc_c}.

With more connections acceptance runs ahead of the agent turns: the inbox takes
messages faster than they are answered, and the end-to-end rate, the one that can be
sustained, does not follow. The fixed-rate runs show what is sustained with the
acknowledgement latency that goes with it.
""".format(
        verdict_line=("Met end to end: %.0f msgs/s." % e2e if e2e >= TARGET else
                      "Not met end to end: %.0f msgs/s sustained, %.0f%% of 10k/s."
                      % (e2e, 100 * e2e / TARGET)),
        acc_label=sq.best_acc[0], acc=sq.best_acc[1]["rate"], v_acc=verdict(sq.best_acc[1]["rate"]),
        e2e_label=sq.best_e2e[0], e2e=e2e, v_e2e=verdict(e2e), acc_c=sq.accept["rate"],
        v_acc_c=verdict(sq.accept["rate"]))
    others = [b for b in done if b.name != "sqlite"]
    if others:
        md += "\nThe target is set for sqlite only; for comparison, end to end: %s.\n" % "; ".join(
            "%s %.0f msgs/s (%.0f%% of 10k/s)" % (b.name, b.best_e2e[1]["e2e"],
                                                  100 * b.best_e2e[1]["e2e"] / TARGET)
            for b in others)
    return md


SQLITE_TEXT = """\
- **sqlite**: storage-sqlite in the gateway process (its statements on libuv's thread
  pool, one transaction per batch of queued ops: group commit), WAL with
"""
SQLITE_NORMAL = """\
  `synchronous: normal` (the default): a message is acknowledged once its commit is
  in the WAL file, which survives a crash or `kill -9` of the gateway; an OS crash or
  power loss can lose the last commits (`storage.synchronous: full` fsyncs every
  commit: `BENCH_SQLITE_CONFIG="synchronous: full"` measures it)."""
SQLITE_FULL_TEXT = """\
  `synchronous: full`: every commit is fsynced before the callbacks run, so
  acknowledged messages survive power loss (the default is `normal`)."""
PG_TEXT = """\
- **postgres**: storage-postgres against a throwaway PostgreSQL server the bench starts
  (initdb in its temp directory, a free loopback port; not the shared test server) with
"""
PG_ON = """\
  `fsync=on`, `synchronous_commit=on`, `full_page_writes=on` (PostgreSQL's defaults,
  as in production; scripts/ci-services turns them off for the tests): every commit is
  flushed to the WAL on disk before the gateway acknowledges, so acknowledged messages
  survive power loss. Concurrent commits share WAL flushes."""
PG_OFF = """\
  `fsync=on`, **`synchronous_commit=off`** (not the default), `full_page_writes=on`:
  a commit is answered before its WAL is flushed (within 3 × wal_writer_delay, 600 ms),
  so a crash of postgres or the OS can lose the last acknowledged messages; this
  measures what waiting for the flush costs."""
REDIS_TEXT = """\
- **redis**: storage-redis against a throwaway redis-server the bench starts (a free
  loopback port; not the shared test server) with `appendonly yes`, `appendfsync
"""
REDIS_EVERYSEC = """\
  everysec`, no RDB snapshots: a write is in the AOF (the OS page cache) before redis
  answers, so it survives a crash of redis or the gateway, but it is fsynced only once
  a second: an OS crash or power loss can lose up to about a second of acknowledged
  messages. `appendfsync always` fsyncs before answering (durable like postgres, at an
  fsync per event-loop round): `BENCH_REDIS_APPENDFSYNC=always` measures it."""
REDIS_ALWAYS = """\
  always`, no RDB snapshots: redis fsyncs the AOF before answering (once per
  event-loop round, shared by the writes of that round), so acknowledged messages
  survive power loss. The default of the bench is `everysec` (fsync once a second)."""


def backend_list():
    items = {
        "sqlite": SQLITE_TEXT + (SQLITE_FULL_TEXT if SQLITE_FULL else SQLITE_NORMAL),
        "postgres": PG_TEXT + (PG_ON if PG_SYNC == "on" else PG_OFF),
        "redis": REDIS_TEXT + (REDIS_EVERYSEC if REDIS_FSYNC == "everysec" else REDIS_ALWAYS),
    }
    return "\n".join(items[b] for b in BACKENDS)


md = """# Messaging throughput

Measured by `scripts/bench/messaging` on {date}: {machine}, gateway {version}, build
`{build}`; gateway, load generator (`webhook-load`), receiver (`webhook-sink`) and storage
server on the same machine, unpinned. Load average before the run: {loadavg} (the machine
may be shared: runs vary by tens of percent from one to the next). An 8 KiB write +
fdatasync in the bench's temp directory takes {fsync_p50:.2f} ms (p50), {fsync_p99:.2f} ms
(p99) on this disk: the floor of a commit that waits for the disk.

Setup: provider-mock with latencyMs 0 (reply "mock: <text>"), channel-webhook with
dmPolicy open, dmScope per-peer (one session per chat), queue followup,
agents.defaults.maxConcurrent 256, historyLimit 50 (the default), server.workers 2.
Every run uses its own {sessions} fresh sessions. A message is signed (HMAC-SHA256),
acknowledged with 202 once it is in the storage inbox, answered by one agent turn
(history read, provider call, one commit of transcript + outbox + inbox state), and the
reply is POSTed to the sink. The load generator keeps one message per session in flight
(per-session order, as a chat platform delivers). Each backend runs the same phases on
a gateway of its own: A as fast as acknowledged (per connection count), B at fixed
rates, C acceptance alone.

```
{cmd}
```

Storage backends (each on fresh storage, one after the other):

{backend_list}

## Per backend

{summary}

- an acknowledged message survives: the worst failure it survives (details above).
- accepted msgs/s: acknowledgements per second, first send to last acknowledgement
  (best of the A runs). End-to-end: acknowledged messages / time from the first send to
  the last reply at the sink (best of the A and B runs). Fixed-rate columns: the
  end-to-end rate, the acknowledgement latency from the intended send time, and the
  replies that reached the sink more than 1 s after their message's scheduled send
  time (with the latest). The first fixed rate is half of the backend's best
  end-to-end rate in A, so that every backend shows its latency without a backlog.
- In the tables per backend below: errors = failed sends plus those unfinished when
  `--max-seconds` (6 × BENCH_SECONDS) stopped the load generator; replies missing /
  duplicate = acknowledged messages without a reply at the sink / replies beyond the
  first to a message (exactly once is expected: both 0; "unacked": replies to messages
  sent before the stop whose acknowledgement was not waited for); replies > 1 s late
  (fixed-rate runs): replies that reached the sink more than 1 s after their message's
  scheduled send time (the schedule counted from the first send), and the latest;
  replies overtaken > 1 s: replies that arrived more than 1 s after a reply to a
  message sent later, and by how much at most (a spread of end-to-end latency that
  the rates hide). Latency of the fixed-rate runs counts from the intended send time
  (open loop: a stall shows as latency, not as fewer sends); acknowledgement latency
  of the other runs from the first attempt (closed loop).
- CPU from /proc over each run including the drain of its replies; in this table per
  message in the A run with the best end-to-end rate. Gateway: main = its main loop
  (messaging core, agent turns, provider-mock, outbox, storage completions;
  storage-postgres's socket I/O too), workers = the h2o HTTP threads, other = the
  remaining threads (libuv's pool: storage-sqlite's statements; storage-redis's own I/O
  thread). Storage server: every process of the server (PostgreSQL's postmaster,
  backends, WAL writer, checkpointer; redis with its threads and AOF rewrites). Machine
  busy: all CPUs, from /proc/stat (other users of the machine included).

{target}
## Storage operation latency

From the storage plugin's `openclaw_storage_op_seconds{{op}}` histogram (time from the
call to the callback, the plugin's queueing included), scraped from `/metrics` before
and after each run (the drain of its replies included); the difference per run gives
the quantiles, **bucket-interpolated**: linear inside the bucket that holds the
quantile (as Prometheus's `histogram_quantile`), so a figure is only as fine as its
bucket ("> x": above the largest bound). Bucket bounds: {bounds}. Ops per message: ops
of the A and B runs / messages acknowledged in them. Not ok: operations that ended
with another status, by status, over all runs.

{ops}
{enoent}
{sections}""".format(
    date=time.strftime("%Y-%m-%d", time.gmtime()), loadavg=env["BENCH_LOADAVG"],
    machine=env["BENCH_MACHINE"], version=env["BENCH_VERSION"], build=env["BENCH_BUILD"],
    fsync_p50=FSYNC_P50, fsync_p99=FSYNC_P99, sessions=env["BENCH_SESSIONS"],
    cmd=env["BENCH_CMD"], backend_list=backend_list(), summary=summary_table(),
    target=target_section(), bounds=bucket_bounds() if done else "-",
    ops=op_table() if done else "No backend ran.", enoent=enoent_note(),
    sections="\n".join(backend_section(b) for b in backends))

with open(out, "w") as f:
    f.write(md)
