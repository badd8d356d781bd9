"""Writes llm.md, llm.json and llm-*.png for scripts/bench/llm.

Inputs come from the environment (BENCH_*) and the run directory BENCH_WORK:
points.tsv lists every point ("id scenario path label status", status ok,
skipped or failed), and for each point pts/ID.json (oc-llm-load --json),
pts/ID.cpu ("proxy_ticks hz t0 t1"), pts/ID.idle ("0 kB": the proxy's RSS
just before the run), pts/ID.rss ("epoch_s kB" every 100 ms during the run;
absent for the direct path) and for S5 pts/ID.primary (requests the failing
primary received). failed.tsv lists the paths that failed ("path reason").
"""
import json
import os
import subprocess
import time

env = os.environ
work, out = env["BENCH_WORK"], env["BENCH_OUT"]
quick = env.get("BENCH_QUICK") == "1"
PATH_NAMES = {"direct": "direct (mock)", "nginx": "nginx, 1 worker",
              "nginx2w": "nginx, 2 workers", "gateway": "gateway, 1 worker"}


def read(name, default=None):
    try:
        with open(os.path.join(work, name)) as f:
            return f.read()
    except OSError:
        return default


def load_point(pid, scen, path, label, status):
    p = {"id": pid, "scenario": scen, "path": path, "label": label, "status": status}
    if status != "ok":
        return p
    j = json.loads(read("pts/%s.json" % pid))
    p["load"] = j
    ticks, hz, t0, t1 = read("pts/%s.cpu" % pid).split()
    proxy = {"cpu_s": int(ticks) / int(hz), "wall_s": float(t1) - float(t0)}
    sent_all = j["sent"] + j["warmup"]["sent"]
    if path != "direct":
        proxy["cpu_us_per_req"] = proxy["cpu_s"] * 1e6 / sent_all if sent_all else None
        proxy["cores"] = proxy["cpu_s"] / proxy["wall_s"] if proxy["wall_s"] > 0 else None
        idle = int((read("pts/%s.idle" % pid) or "0 0").split()[1])
        samples = []
        for line in (read("pts/%s.rss" % pid) or "").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit() and int(parts[1]) > 0:
                samples.append((float(parts[0]), int(parts[1])))
        proxy["rss_idle_kb"] = idle
        proxy["rss_samples"] = len(samples)
        if samples:
            proxy["rss_peak_kb"] = max(s[1] for s in samples)
            proxy["rss_avg_kb"] = sum(s[1] for s in samples) / len(samples)
            p["rss_series"] = [(s[0] - samples[0][0], s[1]) for s in samples]
        st = j.get("stream")
        if st:
            chunks = st["content_events"] + j["warmup"].get("content_events", 0)
            proxy["cpu_us_per_chunk"] = proxy["cpu_s"] * 1e6 / chunks if chunks else None
    p["loadgen_us_per_req"] = j["cpu_s"] * 1e6 / sent_all if sent_all else None
    p["proxy"] = proxy
    prim = read("pts/%s.primary" % pid)
    if prim is not None and prim.strip().lstrip("-").isdigit():
        p["primary_requests"] = int(prim)
    return p


points = []
for line in (read("points.tsv") or "").splitlines():
    if line.strip():
        points.append(load_point(*line.split("\t")))
by_id = {p["id"]: p for p in points}
failed = {}
for line in (read("failed.tsv") or "").splitlines():
    if "\t" in line:
        k, v = line.split("\t", 1)
        failed[k] = v


def pt(pid):
    p = by_id.get(pid)
    return p if p is not None and p["status"] == "ok" else None


# ---- formatting --------------------------------------------------------------------------

def num(v, fmt="%.0f", none="–"):
    return none if v is None else fmt % v


def lat(p, key="latency_us"):
    if p is None:
        return None
    d = p["load"][key] if key == "latency_us" else p["load"]["stream"][key]
    return d if d["count"] > 0 else None


def errors_text(p):
    j = p["load"]
    parts = ["%s %d" % (k, v) for k, v in j["errors_by_kind"].items() if v and k != "http"]
    parts += ["HTTP %s: %d" % (k, v) for k, v in j["errors_by_status"].items()]
    if j["dropped"]:
        parts.append("dropped by the client %d" % j["dropped"])
    if j["unfinished"]:
        parts.append("unfinished %d" % j["unfinished"])
    return ", ".join(parts) if parts else "0"


def mib(kb):
    return None if kb is None else kb / 1024.0


def status_row(p, ncols, label=True):
    """A row for a point that did not run: skipped (its path failed, the
    reason is listed once above the tables) or failed (oc-llm-load did)."""
    why = ("skipped: the path failed (see above)" if p["status"] == "skipped"
           else "failed: oc-llm-load did not finish (see its output)")
    cells = ([p["label"]] if label else []) + [PATH_NAMES.get(p["path"], p["path"]),
                                               "**%s**" % why]
    return "| " + " | ".join(cells) + " |" + " |" * (ncols - len(cells))


def verdict(ok, text):
    return ("met" if ok else "**NOT MET**") + (": " + text if text else "")


# ---- S1 ----------------------------------------------------------------------------------
s1 = [p for p in points if p["scenario"] == "S1"]
S1_HEAD = ("| load | path | ok/s | success | errors | latency µs p50 / p90 / p99 / p99.9 / max "
           "| added µs p50 / p99 (vs direct) | proxy CPU µs/req | proxy cores | RSS MiB peak / avg "
           "| load gen µs/req |\n|---|---|---|---|---|---|---|---|---|---|---|")


def s1_key(p):
    return p["id"].rsplit("-", 1)[0]  # s1-sat, s1-r1000


def direct_of(p):
    return pt(s1_key(p) + "-direct") if p["scenario"] == "S1" else None


def s1_row(p):
    if p["status"] != "ok":
        return status_row(p, 11)
    j, pr = p["load"], p["proxy"]
    l = lat(p)
    d = lat(direct_of(p)) if p["path"] != "direct" else None
    added = "–"
    if l and d:
        added = "%+d / %+d" % (l["p50"] - d["p50"], l["p99"] - d["p99"])
    latcol = "–" if l is None else "%d / %d / %d / %d / %d" % (
        l["p50"], l["p90"], l["p99"], l["p999"], l["max"])
    rss = "–"
    if pr.get("rss_peak_kb"):
        rss = "%.1f / %.1f" % (mib(pr["rss_peak_kb"]), mib(pr["rss_avg_kb"]))
    return "| %s | %s | %.0f | %.2f%% | %s | %s | %s | %s | %s | %s | %s |" % (
        p["label"], PATH_NAMES[p["path"]], j["throughput"], j["success_pct"], errors_text(p),
        latcol, added, num(pr.get("cpu_us_per_req"), "%.1f"), num(pr.get("cores"), "%.2f"),
        rss, num(p["loadgen_us_per_req"], "%.1f"))


def ratio(a, b):
    return a / b if a is not None and b else None


sat = {k: pt("s1-sat-" + k) for k in ("direct", "nginx", "nginx2w", "gateway")}
tp = {k: (v["load"]["throughput"] if v else None) for k, v in sat.items()}
cpu_sat = {k: (v["proxy"].get("cpu_us_per_req") if v else None) for k, v in sat.items()}
tp_ratio = ratio(tp["gateway"], tp["nginx"])
cpu_ratio = ratio(cpu_sat["gateway"], cpu_sat["nginx"])
rates = sorted({int(p["id"].split("-")[1][1:]) for p in s1 if p["id"].startswith("s1-r")})
ref_rate = 10000 if 10000 in rates else (max(rates) if rates else None)


def added_p99(path, rate):
    a, d = lat(pt("s1-r%d-%s" % (rate, path))), lat(pt("s1-r%d-direct" % rate))
    return a["p99"] - d["p99"] if a and d else None


# ---- targets -----------------------------------------------------------------------------
targets = []


def target(name, measured, ok, how):
    targets.append({"target": name, "measured": measured,
                    "verdict": "not measured" if ok is None else verdict(ok, how)})


if tp_ratio is None:
    target("S1 throughput ≥ 90% of nginx (1 worker each)", "–", None, "")
else:
    target("S1 throughput ≥ 90% of nginx (1 worker each)",
           "%.0f vs %.0f ok/s = %.0f%%" % (tp["gateway"], tp["nginx"], 100 * tp_ratio),
           tp_ratio >= 0.9, "%+.0f points" % (100 * tp_ratio - 90))
if cpu_ratio is None:
    target("gateway CPU per request ≤ 1.3× nginx", "–", None, "")
else:
    target("gateway CPU per request ≤ 1.3× nginx (S1 closed loop)",
           "%.1f vs %.1f µs = %.2f×" % (cpu_sat["gateway"], cpu_sat["nginx"], cpu_ratio),
           cpu_ratio <= 1.3, "%.2f× the limit" % (cpu_ratio / 1.3))
if ref_rate:
    g = pt("s1-r%d-gateway" % ref_rate)
    a99 = added_p99("gateway", ref_rate)
    if g is None or a99 is None:
        target("added P99 at %d/s < 0.5 ms, zero errors" % ref_rate, "–", None, "")
    else:
        errs = g["load"]["errors"] + g["load"]["dropped"]
        ok = a99 < 500 and errs == 0
        target("added P99 at %d/s < 0.5 ms, zero errors" % ref_rate,
               "%+d µs, %d errors" % (a99, errs), ok,
               "" if ok else "%s%s" % ("%+d µs over" % (a99 - 500) if a99 >= 500 else "",
                                      (", %d errors" % errs) if errs else ""))
    n = lat(pt("s1-r%d-nginx" % ref_rate))
    an = added_p99("nginx", ref_rate)
    if an is not None:
        targets.append({"target": "(reference) nginx added P99 at %d/s" % ref_rate,
                        "measured": "%+d µs" % an, "verdict": "–"})
s4g = pt("s4-rate-gateway")
if s4g is None:
    target("streams: never coalesced (0 coalesced reads)", "–", None, "")
else:
    st, j4 = s4g["load"]["stream"], s4g["load"]
    ok = st["coalesced_reads"] == 0 and st["content_reads"] > 0
    c = st["chunks_per_stream"]
    target("streams: chunks never coalesced (S4, gateway)",
           "%d of %d reads coalesced; chunks/stream %s (%d of %d streams completed)" % (
               st["coalesced_reads"], st["content_reads"],
               "%d..%d" % (c["min"], c["max"]) if c["count"] else "–", j4["ok"],
               j4["requests"]), ok,
           "" if ok else ("%d reads carried several chunks" % st["coalesced_reads"]
                          if st["coalesced_reads"] else "no stream delivered content"))
hold_n = int(env.get("BENCH_HOLD_STREAMS", "10000"))
hg = pt("s4-hold-gateway")
if hg is None:
    target("%d concurrent SSE streams" % hold_n, "–", None, "")
    target("< 8 KiB gateway memory per open stream", "–", None, "")
else:
    hs = hg["load"]["stream"]
    peak, opened = hs["peak_streaming"], hs["peak_open"]
    target("%d concurrent SSE streams (gateway)" % hold_n,
           "%d streaming together (%d opened); %d of %d ended well" % (
               peak, opened, hg["load"]["ok"], hg["load"]["requests"]),
           peak >= hold_n and hg["load"]["ok"] == hold_n,
           "" if peak >= hold_n else "%d short" % (hold_n - peak))
    pr = hg["proxy"]
    if pr.get("rss_peak_kb") and opened:
        per = (pr["rss_peak_kb"] - pr["rss_idle_kb"]) / opened
        target("< 8 KiB gateway memory per open stream", "%.2f KiB" % per, per < 8,
               "%.1f× the limit" % (per / 8) if per >= 8 else "")
    else:
        target("< 8 KiB gateway memory per open stream", "–", None, "")
for p in points:
    if p["scenario"] == "S3" and p["path"] == "gateway" and p["status"] == "ok":
        pr, j = p["proxy"], p["load"]
        if pr.get("rss_peak_kb") and j["peak_sent"]:
            per = (pr["rss_peak_kb"] - pr["rss_idle_kb"]) / j["peak_sent"]
            target("(proposed) ≤ 8 KiB per in-flight request: " + p["label"],
                   "%.2f KiB (%d in flight)" % (per, j["peak_sent"]), per <= 8,
                   "%.1f× the goal" % (per / 8) if per > 8 else "")

for mode in ("500", "429"):
    p, b = pt("s5-" + mode), pt("s5-base")
    l, bl = lat(p), lat(b)
    if l and bl:
        extra = l["p50"] - bl["p50"]
        target("(proposed) failover on a %s adds ≤ 1 ms (S5, p50 vs baseline)" % mode,
               "%+d µs; %d of %d requests reached the primary" % (
                   extra, p.get("primary_requests", -1), p["load"]["sent"]),
               extra <= 1000, "%+d µs over" % (extra - 1000) if extra > 1000 else "")

# ---- S3 ----------------------------------------------------------------------------------
S3_HEAD = ("| load | path | ok/s | success | errors | latency µs p50 / p99 / max "
           "| in flight (peak) | proxy RSS MiB idle / peak | RSS per in-flight KiB "
           "| proxy CPU µs/req |\n"
           "|---|---|---|---|---|---|---|---|---|---|")


def s3_row(p):
    if p["status"] != "ok":
        return status_row(p, 10)
    j, pr = p["load"], p["proxy"]
    l = lat(p)
    latcol = "–" if l is None else "%d / %d / %d" % (l["p50"], l["p99"], l["max"])
    rss, per = "–", "–"
    if pr.get("rss_peak_kb"):
        rss = "%.1f / %.1f" % (mib(pr["rss_idle_kb"]), mib(pr["rss_peak_kb"]))
        if j["peak_sent"]:
            per = "%.2f" % ((pr["rss_peak_kb"] - pr["rss_idle_kb"]) / j["peak_sent"])
    return "| %s | %s | %.0f | %.2f%% | %s | %s | %d | %s | %s | %s |" % (
        p["label"], PATH_NAMES[p["path"]], j["throughput"], j["success_pct"], errors_text(p),
        latcol, j["peak_sent"], rss, per, num(pr.get("cpu_us_per_req"), "%.1f"))


# ---- S4 ----------------------------------------------------------------------------------
S4_HEAD = ("| path | streams ok | errors | TTFT µs p50 / p99 (added) "
           "| chunk gap µs p50 / p99 / max | chunks per stream | coalesced reads "
           "| proxy CPU µs/chunk | RSS MiB peak |\n"
           "|---|---|---|---|---|---|---|---|---|")


def s4_row(p):
    if p["status"] != "ok":
        return status_row(p, 9, label=False)
    j, pr, st = p["load"], p["proxy"], p["load"]["stream"]
    t, g = lat(p, "ttft_us"), lat(p, "chunk_gap_us")
    d = pt("s4-rate-direct")
    dt = lat(d, "ttft_us") if d else None
    ttft = "–"
    if t:
        ttft = "%d / %d" % (t["p50"], t["p99"])
        if dt and p["path"] != "direct":
            ttft += " (%+d / %+d)" % (t["p50"] - dt["p50"], t["p99"] - dt["p99"])
    gap = "–" if g is None else "%d / %d / %d" % (g["p50"], g["p99"], g["max"])
    c = st["chunks_per_stream"]
    chunks = "–" if c["count"] == 0 else "%d..%d" % (c["min"], c["max"])
    return "| %s | %d of %d | %s | %s | %s | %s | %d of %d | %s | %s |" % (
        PATH_NAMES[p["path"]], j["ok"], j["requests"], errors_text(p), ttft, gap, chunks,
        st["coalesced_reads"], st["content_reads"], num(pr.get("cpu_us_per_chunk"), "%.2f"),
        num(mib(pr.get("rss_peak_kb")), "%.1f"))


HOLD_HEAD = ("| path | streams ok | errors | open together (peak) | streaming together (peak) "
             "| all streaming after | RSS MiB idle / peak | memory per open stream KiB "
             "| proxy CPU s |\n|---|---|---|---|---|---|---|---|---|")


def hold_row(p):
    if p["status"] != "ok":
        return status_row(p, 9, label=False)
    j, pr, st = p["load"], p["proxy"], p["load"]["stream"]
    rss, per = "–", "–"
    if pr.get("rss_peak_kb"):
        rss = "%.1f / %.1f" % (mib(pr["rss_idle_kb"]), mib(pr["rss_peak_kb"]))
        if st["peak_open"]:
            per = "%.2f" % ((pr["rss_peak_kb"] - pr["rss_idle_kb"]) / st["peak_open"])
    allopen = "–" if st["all_streaming_s"] is None else "%.2f s" % st["all_streaming_s"]
    return "| %s | %d of %d | %s | %d | %d | %s | %s | %s | %s |" % (
        PATH_NAMES[p["path"]], j["ok"], j["requests"], errors_text(p), st["peak_open"],
        st["peak_streaming"], allopen, rss, per,
        "–" if p["path"] == "direct" else "%.2f" % pr["cpu_s"])


# ---- S5 ----------------------------------------------------------------------------------
S5_HEAD = ("| primary fails with | ok/s | success | errors | latency µs p50 / p99 / max | extra µs "
           "p50 / p99 (vs baseline) | calls that reached the primary |\n"
           "|---|---|---|---|---|---|---|")
def s5_row(p):
    """Failover points against the baseline of their kind (streaming or not)."""
    if p["status"] != "ok":
        return status_row(p, 7)
    j = p["load"]
    base = pt("s5-base-stream" if j["streaming"] else "s5-base")
    l, b = lat(p), lat(base)
    latcol = "–" if l is None else "%d / %d / %d" % (l["p50"], l["p99"], l["max"])
    extra = "–" if not (l and b) or p is base else "%+d / %+d" % (l["p50"] - b["p50"],
                                                                   l["p99"] - b["p99"])
    prim = p.get("primary_requests")
    reached = "–" if prim is None else "%d of %d requests" % (prim, j["sent"])
    return "| %s | %.0f | %.2f%% | %s | %s | %s | %s |" % (
        p["label"], j["throughput"], j["success_pct"], errors_text(p), latcol, extra, reached)


# ---- plots -------------------------------------------------------------------------------
plots = []


def gnuplot(name, script, series):
    """series: list of (title, [(x, y), ...]); nothing is drawn without data."""
    series = [(t, pts) for t, pts in series if pts]
    if not series:
        return
    files = []
    for i, (t, pts) in enumerate(series):
        f = os.path.join(work, "%s-%d.dat" % (name, i))
        with open(f, "w") as fh:
            for x, y in pts:
                fh.write("%g %g\n" % (x, y))
        files.append((t, f))
    png = os.path.join(out, "llm-%s.png" % name)
    plot = ", ".join("'%s' using 1:2 with linespoints title '%s'" % (f, t) for t, f in files)
    gp = ("set terminal pngcairo size 900,520 font ',10'\nset output '%s'\nset grid\n%s\n"
          "plot %s\n" % (png, script, plot))
    try:
        r = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        print("warning: gnuplot: %s: no %s plot" % (e, name))
        return
    if r.returncode != 0:
        print("warning: gnuplot failed for %s: %s" % (name, r.stderr.strip()[:300]))
        return
    plots.append((name, os.path.basename(png)))


def rate_series(path, fn):
    pts_ = []
    for r in rates:
        p = pt("s1-r%d-%s" % (r, path))
        v = fn(p) if p else None
        if v is not None:
            pts_.append((r, v))
    return pts_


lat_series = []
for path in ("direct", "nginx", "gateway"):
    for q in ("p50", "p99"):
        lat_series.append(("%s %s" % (path, q),
                           rate_series(path, lambda p, q=q: (lat(p) or {}).get(q))))
gnuplot("latency", "set title 'S1: latency from the intended send time (fixed rate)'\n"
        "set logscale xy\nset xlabel 'requests/s'\nset ylabel 'µs'\nset key top left",
        lat_series)
gnuplot("cpu", "set title 'S1: proxy CPU per request'\nset logscale x\nset xlabel 'requests/s'\n"
        "set ylabel 'CPU µs per request'\nset yrange [0:*]\nset key top right",
        [(path, rate_series(path, lambda p: p["proxy"].get("cpu_us_per_req")))
         for path in ("nginx", "gateway")])
hold_series = []
for path in ("nginx", "gateway"):
    p = pt("s4-hold-" + path)
    if p and p.get("rss_series"):
        hold_series.append((path, [(t, kb / 1024.0) for t, kb in p["rss_series"]]))
gnuplot("hold-rss", "set title 'S4: proxy RSS while %s streams are held open'\n"
        "set xlabel 'seconds'\nset ylabel 'RSS MiB'\nset yrange [0:*]\nset key top left"
        % env.get("BENCH_HOLD_STREAMS", "?"), hold_series)

# ---- the document ------------------------------------------------------------------------
def table(head, rows, none="(no points)"):
    return head + "\n" + "\n".join(rows) if rows else none


def scen_rows(scen, fn, pred=lambda p: True):
    return [fn(p) for p in points if p["scenario"] == scen and pred(p)]


failed_md = ""
if failed:
    failed_md = "\n**Failed paths** (their points were skipped; the others ran):\n\n" + "\n".join(
        "- %s: %s" % (PATH_NAMES.get(k, k), v) for k, v in sorted(failed.items())) + "\n"
gw_pre = "answered 200" if "gateway" not in failed else "did not answer 200 (see above)"
ratio_lines = []
if tp_ratio is not None:
    ratio_lines.append("- S1 closed loop: gateway/nginx throughput **%.2f** (%.0f / %.0f ok/s)"
                       % (tp_ratio, tp["gateway"], tp["nginx"]))
if cpu_ratio is not None:
    ratio_lines.append("- S1 closed loop: gateway/nginx CPU per request **%.2f** (%.1f / %.1f µs)"
                       % (cpu_ratio, cpu_sat["gateway"], cpu_sat["nginx"]))
for r in rates:
    g, n = pt("s1-r%d-gateway" % r), pt("s1-r%d-nginx" % r)
    if g and n and n["proxy"].get("cpu_us_per_req"):
        ratio_lines.append("- fixed %d/s: gateway/nginx CPU per request %.2f; added P99 "
                           "gateway %s µs, nginx %s µs" % (
                               r, g["proxy"]["cpu_us_per_req"] / n["proxy"]["cpu_us_per_req"],
                               num(added_p99("gateway", r), "%+d"),
                               num(added_p99("nginx", r), "%+d")))
if tp["nginx2w"] is not None:
    ratio_lines.append("- nginx with 2 workers, closed loop: %.0f ok/s" % tp["nginx2w"])

md = """# LLM proxying: gateway vs nginx vs the mock alone

Measured by `scripts/bench/llm` on {date}: {machine}, gateway {version} (build `{build}`),
{nginx}. Gateway, nginx, `oc-mock-upstream` and the load generator `oc-llm-load` share this
machine ({pin}). Load average before the run: {loadavg} (the machine may be shared: runs
vary from one to the next). Open files per process: {nofile}.{quick_note}

How to reproduce: `{cmd}` (writes this file, `llm.json` and the plots).

Setup: every path reaches the same mock processes (one worker each; the fast one answers a
non-streaming chat completion at once). *direct*: client → mock. *nginx*: client → nginx
(HTTP/1.1 keep-alive both sides, upstream keepalive pool, `proxy_buffering off` on the stream
locations, `access_log off`) → mock. *gateway*: client → `openclaw gateway` (`server.workers:
1`, auth-apikey, provider-openai with `baseUrl` at the mock) → mock; clients send
`"model": "<provider>/m1"` with `Authorization: Bearer`. Requests are the built-in 130-byte
chat body. Each point: {warmup} s warm-up (not counted) then {seconds} s measured. Fixed-rate
latency counts from each request's intended send time (open loop: a stall shows as latency,
never as fewer requests); closed-loop latency from the send. Proxy CPU: utime + stime from
`/proc/PID/stat` over the whole point (all nginx processes summed) divided by the requests
sent; RSS: VmRSS sampled every 100 ms (nginx: all processes summed). Pre-flight: a
`curl -X POST …/v1/chat/completions` through the gateway {gw_pre}.
{failed_md}
## Against the targets (SPEC §11; "(proposed)": goals from the peers study, not SPEC)

| target | measured | verdict |
|---|---|---|
{targets}

Ratios to nginx, same run:

{ratios}

## S1: non-streaming, 130-byte request, mock latency 0

{s1}

- added = via the proxy minus direct at the same load (negative: noise or a
  different connection count; at saturation the paths run at different rates).
- proxy cores: CPU seconds of the proxy / wall seconds of the point.

{plot_lat}{plot_cpu}
## S3: slow upstream, thousands of requests in flight

{s3}

- in flight: requests sent and not yet answered, at the peak (requests the client held
  back for want of a free connection are not counted: the proxy never saw them).
- RSS per in-flight request = (peak − idle RSS) / peak in flight; both proxies were
  restarted before each point, so idle is a fresh process.

## S4: SSE streams

Streams of 50 content chunks 20 ms apart, started at a fixed rate:

{s4}

- TTFT: intended send → first content chunk; chunk gap: between content chunks at the
  client (the mock sends them 20 ms apart). Coalesced reads: TCP reads at the client that
  carried more than one content event (a proxy that holds or merges chunks shows here).
- CPU per chunk: proxy CPU / content chunks delivered (warm-up included).

Streams held open together (50 chunks × {hold_iv} ms each; every proxy restarted first):

{hold}

- open: the response head came; streaming: content came too (a proxy may answer the
  head before its upstream does). Memory per open stream = (peak − idle RSS) / streams
  open together at the peak. A proxy needs two sockets per stream: with {nofile} open
  files per process it cannot hold more than about {maxstreams} streams.

{plot_hold}
## S5: failover (gateway only: nginx has no equivalent)

`agents.defaults.model: {{primary: bad/m1, fallbacks: [fast/m1]}}`; clients send
`"model": "bad/m1"`. The primary is a second mock that answers 500, or 429 inside a
rate-limit window, or stalls before the first token (streaming requests; the provider's
`timeoutMs: 1000` ends the attempt). The last rows are the baselines: `fast/m1` directly at
the same rate (the stall row is compared with the streaming one). "Calls that reached the
primary" counts the requests the failing mock received: once the primary is in cooldown the
gateway skips it.

{s5}
""".format(
    date=time.strftime("%Y-%m-%d", time.gmtime()), machine=env["BENCH_MACHINE"],
    version=env["BENCH_VERSION"], build=env["BENCH_BUILD"],
    nginx=env.get("BENCH_NGINX") or "nginx not installed",
    pin="proxies on CPU 0, mocks and load generator on CPU 1" if env.get("BENCH_PIN") == "1"
    else "unpinned", loadavg=env["BENCH_LOADAVG"], nofile=env["BENCH_NOFILE"],
    quick_note=("\n\n**--quick run**: about a second per point and small loads, a smoke test "
                "of the harness; do not quote these figures.") if quick else "",
    cmd=env["BENCH_CMD"], warmup=env["BENCH_WARMUP"], seconds=env["BENCH_SECONDS"],
    gw_pre=gw_pre, failed_md=failed_md,
    targets="\n".join("| %s | %s | %s |" % (t["target"], t["measured"], t["verdict"])
                      for t in targets),
    ratios="\n".join(ratio_lines) if ratio_lines else "(no nginx/gateway pair measured)",
    s1=table(S1_HEAD, scen_rows("S1", s1_row)),
    plot_lat="![S1 latency](llm-latency.png)\n" if ("latency", "llm-latency.png") in plots else "",
    plot_cpu="![S1 CPU per request](llm-cpu.png)\n" if ("cpu", "llm-cpu.png") in plots else "",
    s3=table(S3_HEAD, scen_rows("S3", s3_row)),
    s4=table(S4_HEAD, scen_rows("S4", s4_row, lambda p: p["id"].startswith("s4-rate"))),
    hold_iv=env.get("BENCH_HOLD_INTERVAL", "?"),
    hold=table(HOLD_HEAD, scen_rows("S4", hold_row, lambda p: p["id"].startswith("s4-hold"))),
    maxstreams=(int(env["BENCH_NOFILE"]) - 50) // 2,
    plot_hold="![S4 RSS while streams are held](llm-hold-rss.png)\n"
    if ("hold-rss", "llm-hold-rss.png") in plots else "",
    s5=table(S5_HEAD, scen_rows("S5", s5_row),
             "Not run: the gateway path failed (see above)." if "gateway" in failed
             else "(no points)"))

with open(os.path.join(out, "llm.md"), "w") as f:
    f.write(md)
for p in points:  # the RSS series stay for the held streams only (their plot)
    if not p["id"].startswith("s4-hold"):
        p.pop("rss_series", None)
raw = {"meta": {k[6:].lower(): v for k, v in env.items() if k.startswith("BENCH_")
                and k not in ("BENCH_WORK", "BENCH_OUT")},
       "failed_paths": failed, "targets": targets, "points": points,
       "plots": [p[1] for p in plots]}
with open(os.path.join(out, "llm.json"), "w") as f:
    json.dump(raw, f, indent=1, sort_keys=True)
    f.write("\n")
