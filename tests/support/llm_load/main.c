/* tests/support/llm_load/main.c - oc-llm-load: the LLM load generator for
 * tests and scripts/bench/llm (see usage() and llm_load.h).
 *
 * Exit status: 0 when every measured request succeeded (none failed,
 * dropped or left unfinished), 1 otherwise, 2 on a usage error (the message
 * names the flag), 3 when the run could not be made (memory, timer, the
 * --json file). */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "llm_load.h"
#include "mini_http.h"

#define BUILTIN_BODY_BYTES 130
#define MAX_BODY_FILE (16u << 20)
#define MAX_CONNS 100000
#define FD_SPARE 32 /* stdio, the loop, the timer, signals, the --json file */

static void usage(FILE *f)
{
    fputs(
        "usage: oc-llm-load [options] URL\n"
        "Sends OpenAI chat completion requests (POST, HTTP/1.1 keep-alive) to URL\n"
        "(http://host[:port][/path]; no path or \"/\" means /v1/chat/completions) and\n"
        "reports throughput, errors and latency percentiles in microseconds.\n"
        "\n"
        "One mode:\n"
        "  --rate R --duration S        open loop: R requests/s at fixed intervals; latency\n"
        "                               from each intended send time (queue wait included)\n"
        "  --concurrency C --duration S closed loop: C connections, each sends its next\n"
        "                               request when the last is answered\n"
        "  --streams N --hold           N streams at once, one per connection; reports how\n"
        "                               many were open together, waits for all to end\n"
        "  --streams N --duration S     closed loop of N streams (= --stream --concurrency N)\n"
        "Options:\n"
        "  --warmup S            run S more seconds first, counted apart (rate, closed loop)\n"
        "  --connections N       fixed rate: connection pool (default 64)\n"
        "  --max-inflight M      fixed rate: requests sent or waiting for a connection at\n"
        "                        most; a request due beyond that is dropped by the client\n"
        "                        (default the larger of 10000 and --connections)\n"
        "  --stream              \"stream\": true; SSE is parsed as it arrives: TTFT, gaps\n"
        "                        between content chunks, chunks per stream, and reads that\n"
        "                        carried more than one content event (coalesced)\n"
        "  --model NAME          model of the built-in 130-byte body (default mock/m1)\n"
        "  --body-file FILE      the JSON request body instead (an object; \"stream\" is set\n"
        "                        from the mode, \"model\" from --model when given)\n"
        "  -H, --header 'N: V'   an extra request header (repeatable)\n"
        "  --timeout-ms T        per request, from its intended send time (default 30000)\n"
        "  --json FILE           also write the report as JSON\n"
        "  --quiet               no progress lines (default: one per second on stderr)\n"
        "  --help\n"
        "Exit: 0 every measured request ok, 1 some failed or were dropped, 2 usage error,\n"
        "3 the run could not be made.\n",
        f);
}

static int bad_flag(const char *flag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad_flag(const char *flag, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "oc-llm-load: %s: ", flag);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see oc-llm-load --help)\n");
    return -1;
}

static int parse_count(const char *flag, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (mh_parse_u64(v, out) != 0 || *out < lo || *out > hi)
        return bad_flag(flag, "'%s' is not a whole number from %llu to %llu", v,
                        (unsigned long long)lo, (unsigned long long)hi);
    return 0;
}

static int parse_seconds(const char *flag, const char *v, int zero_ok, double *out)
{
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !isfinite(d) || d < 0 || d > 86400 ||
        (d == 0 && !zero_ok))
        return bad_flag(flag, "'%s' is not a number of seconds (%s to 86400, e.g. 2.5)", v,
                        zero_ok ? "0" : "above 0");
    *out = d;
    return 0;
}

/* ---- the request --------------------------------------------------------------------- */

typedef struct opts_s {
    const char *model, *body_file;
    int model_set;
    const char **headers;
    size_t nheaders;
} opts_t;

static int header_ok(const char *h, int *has_ct, int *has_accept)
{
    static const char *const owned[] = {"host", "content-length", "transfer-encoding",
                                        "connection"};
    const char *colon = strchr(h, ':');
    if (colon == NULL || colon == h)
        return bad_flag("--header", "'%s' is not 'Name: value'", h);
    for (const char *p = h; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return bad_flag("--header", "'%s' has a control character (CR, LF)", h);
    for (const char *p = h; p < colon; p++)
        if (!(*p == '-' || *p == '_' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
              (*p >= 'A' && *p <= 'Z')))
            return bad_flag("--header", "'%.*s' is not a header name", (int)(colon - h), h);
    size_t n = (size_t)(colon - h);
    for (size_t k = 0; k < sizeof owned / sizeof *owned; k++)
        if (n == strlen(owned[k]) && strncasecmp(h, owned[k], n) == 0)
            return bad_flag("--header", "%.*s is set by oc-llm-load itself", (int)n, h);
    if (n == 12 && strncasecmp(h, "content-type", n) == 0)
        *has_ct = 1;
    if (n == 6 && strncasecmp(h, "accept", n) == 0)
        *has_accept = 1;
    return 0;
}

static json_object *builtin_body(const char *model, int stream)
{
    json_object *o = json_object_new_object(), *msgs = json_object_new_array(),
                *m = json_object_new_object();
    json_object_object_add(o, "model", json_object_new_string(model));
    json_object_object_add(m, "role", json_object_new_string("user"));
    json_object_object_add(m, "content", json_object_new_string(""));
    json_object_array_add(msgs, m);
    json_object_object_add(o, "messages", msgs);
    if (stream)
        json_object_object_add(o, "stream", json_object_new_boolean(1));
    /* Fill the message up to 130 bytes in all (plain ASCII: no escaping). */
    size_t base = strlen(
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    static const char filler[] = "Write one short sentence about the sea, the sky and the wind "
                                 "for a load test of this gateway, please. Thanks!";
    char text[sizeof filler] = "Hi";
    if (base + 2 < BUILTIN_BODY_BYTES && BUILTIN_BODY_BYTES - base < sizeof filler)
        snprintf(text, sizeof text, "%.*s", (int)(BUILTIN_BODY_BYTES - base), filler);
    json_object_object_add(m, "content", json_object_new_string(text));
    return o;
}

static json_object *file_body(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        bad_flag("--body-file", "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    gw_buf_t b = GW_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len <= MAX_BODY_FILE)
        gw_buf_append(&b, chunk, n);
    int err = ferror(f);
    fclose(f);
    json_object *o = NULL;
    if (err) {
        bad_flag("--body-file", "cannot read %s", path);
    } else if (b.len > MAX_BODY_FILE) {
        bad_flag("--body-file", "%s is larger than %u bytes", path, MAX_BODY_FILE);
    } else {
        json_tokener *tok = json_tokener_new();
        o = json_tokener_parse_ex(tok, b.data ? b.data : "", (int)b.len);
        enum json_tokener_error je = json_tokener_get_error(tok);
        if (o == NULL || je != json_tokener_success ||
            (size_t)json_tokener_get_parse_end(tok) != b.len) {
            size_t at = json_tokener_get_parse_end(tok);
            bad_flag("--body-file", "%s is not one JSON value (byte %zu: %s)", path, at,
                     je == json_tokener_success ? "data after the value"
                                                : json_tokener_error_desc(je));
            json_object_put(o);
            o = NULL;
        } else if (!json_object_is_type(o, json_type_object)) {
            bad_flag("--body-file", "%s is JSON but not an object ({\"model\": ..., "
                                    "\"messages\": [...]})", path);
            json_object_put(o);
            o = NULL;
        }
        json_tokener_free(tok);
    }
    gw_buf_free(&b);
    return o;
}

/* L->request: the whole HTTP request, built once and sent as is. */
static int build_request(ll_t *L, const opts_t *o)
{
    int has_ct = 0, has_accept = 0;
    for (size_t k = 0; k < o->nheaders; k++)
        if (header_ok(o->headers[k], &has_ct, &has_accept) != 0)
            return -1;
    json_object *body;
    if (o->body_file != NULL) {
        if ((body = file_body(o->body_file)) == NULL)
            return -1;
        if (o->model_set)
            json_object_object_add(body, "model", json_object_new_string(o->model));
        if (L->stream || json_object_object_get_ex(body, "stream", NULL))
            json_object_object_add(body, "stream", json_object_new_boolean(L->stream));
    } else {
        body = builtin_body(o->model, L->stream);
    }
    const char *text = json_object_to_json_string_ext(
        body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    gw_buf_t r = GW_BUF_INIT;
    L->body_len = strlen(text);
    gw_buf_printf(&r, "POST %s HTTP/1.1\r\nHost: %s\r\n", L->url.path, L->url.host);
    if (!has_ct)
        gw_buf_puts(&r, "Content-Type: application/json\r\n");
    if (!has_accept)
        gw_buf_puts(&r, L->stream ? "Accept: text/event-stream\r\n"
                                  : "Accept: application/json\r\n");
    for (size_t k = 0; k < o->nheaders; k++)
        gw_buf_printf(&r, "%s\r\n", o->headers[k]);
    gw_buf_printf(&r, "Content-Length: %zu\r\n\r\n", L->body_len);
    int rc = gw_buf_puts(&r, text);
    json_object_put(body);
    if (rc != 0) {
        gw_buf_free(&r);
        fprintf(stderr, "oc-llm-load: out of memory\n");
        return -1;
    }
    L->request_len = r.len;
    L->request = gw_buf_steal(&r);
    return 0;
}

/* ---- options ---------------------------------------------------------------------------- */

enum { O_RATE = 1000, O_DURATION, O_WARMUP, O_CONNS, O_INFLIGHT, O_CONC, O_STREAMS, O_HOLD,
       O_STREAM, O_MODEL, O_BODY, O_TIMEOUT, O_JSON, O_QUIET };

static int parse_args(ll_t *L, opts_t *o, int argc, char **argv)
{
    static const struct option opts[] = {
        {"rate", required_argument, NULL, O_RATE},
        {"duration", required_argument, NULL, O_DURATION},
        {"warmup", required_argument, NULL, O_WARMUP},
        {"connections", required_argument, NULL, O_CONNS},
        {"max-inflight", required_argument, NULL, O_INFLIGHT},
        {"concurrency", required_argument, NULL, O_CONC},
        {"streams", required_argument, NULL, O_STREAMS},
        {"hold", no_argument, NULL, O_HOLD},
        {"stream", no_argument, NULL, O_STREAM},
        {"model", required_argument, NULL, O_MODEL},
        {"body-file", required_argument, NULL, O_BODY},
        {"header", required_argument, NULL, 'H'},
        {"timeout-ms", required_argument, NULL, O_TIMEOUT},
        {"json", required_argument, NULL, O_JSON},
        {"quiet", no_argument, NULL, O_QUIET},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t v, conns = 0, inflight = 0, conc = 0, streams = 0;
    int modes = 0, hold = 0, has_duration = 0, has_warmup = 0, c;
    opterr = 0; /* our own messages name the flag */
    while ((c = getopt_long(argc, argv, ":H:h", opts, NULL)) != -1) {
        const char *flag = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
        switch (c) {
        case O_RATE:
            if (parse_count("--rate", optarg, 1, 10000000, &L->rate) != 0)
                return -1;
            modes++;
            break;
        case O_DURATION:
            if (parse_seconds("--duration", optarg, 0, &L->duration_s) != 0)
                return -1;
            has_duration = 1;
            break;
        case O_WARMUP:
            if (parse_seconds("--warmup", optarg, 1, &L->warmup_s) != 0)
                return -1;
            has_warmup = 1;
            break;
        case O_CONNS:
            if (parse_count("--connections", optarg, 1, MAX_CONNS, &conns) != 0)
                return -1;
            break;
        case O_INFLIGHT:
            if (parse_count("--max-inflight", optarg, 1, 1000000, &inflight) != 0)
                return -1;
            break;
        case O_CONC:
            if (parse_count("--concurrency", optarg, 1, MAX_CONNS, &conc) != 0)
                return -1;
            modes++;
            break;
        case O_STREAMS:
            if (parse_count("--streams", optarg, 1, MAX_CONNS, &streams) != 0)
                return -1;
            modes++;
            break;
        case O_HOLD: hold = 1; break;
        case O_STREAM: L->stream = 1; break;
        case O_MODEL:
            if (optarg[0] == '\0' || strlen(optarg) > 256)
                return bad_flag("--model", "give a model name of 1 to 256 characters");
            o->model = optarg;
            o->model_set = 1;
            break;
        case O_BODY: o->body_file = optarg; break;
        case 'H': {
            const char **h = realloc(o->headers, (o->nheaders + 1) * sizeof *h);
            if (h == NULL)
                return bad_flag("--header", "out of memory");
            o->headers = h;
            o->headers[o->nheaders++] = optarg;
            break;
        }
        case O_TIMEOUT:
            if (parse_count("--timeout-ms", optarg, 1, 3600000, &v) != 0)
                return -1;
            L->timeout_ms = (uint32_t)v;
            break;
        case O_JSON: L->json_path = optarg; break;
        case O_QUIET: L->progress = 0; break;
        case 'h': usage(stdout); exit(0);
        case ':': return bad_flag(flag, "needs a value");
        default: return bad_flag(flag, "unknown option");
        }
    }
    if (optind != argc - 1)
        return bad_flag("URL", optind >= argc ? "give the target URL (http://host:port/path)"
                                              : "give exactly one URL (extra: '%s')",
                        argv[optind + 1 < argc ? optind + 1 : optind]);
    if (modes != 1)
        return bad_flag("mode", "give exactly one of --rate, --concurrency, --streams");
    if (hold && streams == 0)
        return bad_flag("--hold", "goes with --streams N");
    if (conns > 0 && L->rate == 0)
        return bad_flag("--connections", "only for --rate (closed loop and streams use one "
                                         "connection per concurrent request)");
    if (inflight > 0 && L->rate == 0)
        return bad_flag("--max-inflight", "only for --rate");
    if (hold) {
        if (has_duration || has_warmup)
            return bad_flag(has_duration ? "--duration" : "--warmup",
                            "does not apply to --hold (the run ends when the streams end)");
    } else if (!has_duration) {
        return bad_flag("--duration", "is required with --rate, --concurrency and --streams "
                                      "without --hold");
    }
    if (L->rate > 0) {
        L->mode = LM_RATE;
        L->nconns = (uint32_t)(conns ? conns : 64);
        L->max_inflight = inflight ? inflight : (L->nconns > 10000 ? L->nconns : 10000);
    } else {
        L->mode = hold ? LM_HOLD : LM_CLOSED;
        L->nconns = (uint32_t)(conc ? conc : streams);
        L->max_inflight = L->nconns;
        if (streams > 0)
            L->stream = 1;
    }
    L->url_text = argv[optind];
    char err[512];
    if (ln_url_parse(L->url_text, &L->url, err, sizeof err) != 0)
        return bad_flag("URL", "%s", err);
    if (!L->url.has_path || strcmp(L->url.path, "/") == 0) {
        free(L->url.path);
        L->url.path = strdup("/v1/chat/completions");
        if (L->url.path == NULL)
            return bad_flag("URL", "out of memory");
    }
    return build_request(L, o);
}

/* One descriptor per connection: raise the soft limit as far as needed. */
static int fd_room(const ll_t *L)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)L->nconns + FD_SPARE;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
        return bad_flag(L->mode == LM_RATE ? "--connections" : "--concurrency/--streams",
                        "%u connections need %llu open files; the hard limit is %llu (raise it "
                        "with ulimit -Hn as root, or ask for fewer)",
                        L->nconns, (unsigned long long)need, (unsigned long long)rl.rlim_max);
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return bad_flag("--connections", "cannot raise the open-file limit to %llu: %s",
                        (unsigned long long)need, strerror(errno));
    return 0;
}

static int exit_status(const ll_t *L)
{
    const ll_stats_t *m = &L->meas;
    uint64_t errors = 0;
    for (int k = 0; k < LK_KINDS; k++)
        errors += m->errors[k];
    return m->ok > 0 && errors == 0 && m->dropped == 0 && L->unfinished == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    static ll_t L; /* large (histograms, status tables): not on the stack */
    opts_t o = {.model = "mock/m1"};
    L.progress = 1;
    L.timeout_ms = 30000;
    int rc = parse_args(&L, &o, argc, argv) != 0 || fd_room(&L) != 0 ? 2 : 0;
    free(o.headers);
    if (rc != 0) {
        ln_url_free(&L.url);
        free(L.request);
        return rc;
    }
    signal(SIGPIPE, SIG_IGN); /* a write to a closed peer fails with EPIPE instead */
    L.loop = uv_default_loop();
    if (ll_sched_init(&L) != 0) {
        fprintf(stderr, "oc-llm-load: cannot set up the run (out of memory or no timerfd)\n");
        rc = 3;
    } else {
        ll_sched_start(&L);
        uv_run(L.loop, UV_RUN_DEFAULT);
        ll_report_text(&L, stdout);
        fflush(stdout);
        rc = exit_status(&L);
        if (L.json_path != NULL) {
            int jr = ll_report_json(&L, L.json_path);
            if (jr != 0) {
                fprintf(stderr, "oc-llm-load: --json: cannot write %s: %s\n", L.json_path,
                        strerror(-jr));
                rc = 3;
            }
        }
    }
    uv_loop_close(L.loop);
    ll_sched_free(&L);
    ln_url_free(&L.url);
    free(L.request);
    return rc;
}
