/* tests/support/webhook_load.c - webhook-load: signed inbound messages for
 * POST /channels/webhook/inbound, at a fixed rate or as fast as answered,
 * with the latency of their acknowledgement (see load.h for the files,
 * load_sched.c for the schedule and the per-session order).
 *
 *   webhook-load --url http://127.0.0.1:PORT/channels/webhook/inbound
 *                --secret S [--messages N] [--sessions S] [--rate R]
 *                [--concurrency C] [--id-prefix P] [--retry] [--acked FILE]
 *                [--session-prefix Q] [--timeout-ms T] [--max-seconds T]
 *                [--unordered] [--progress] [--json]
 *
 * Message i: id P<i>, session k = i % S (chat {type direct, id "Qs<k>"},
 * sender "Qs<k>"; Q is empty by default), text "msg <i> seq <i / S> of
 * Qs<k>". Answers 202 (accepted) and 200 (duplicate) acknowledge a message
 * (written to --acked as "<id>\t<status>"); with --retry, connection errors,
 * timeouts, 429 and 5xx are retried with the same id after a short backoff
 * until acknowledged.
 * Exit 0 when every message was acknowledged, 1 otherwise, 2 on bad usage. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "load.h"
#include "mini_http.h"

static const char *const KIND_NAMES[LE_KINDS] = {"conn", "timeout", "http"};

static void usage(FILE *f)
{
    fputs("usage: webhook-load --url URL --secret S [--messages N] [--sessions S]\n"
          "         [--rate R] [--concurrency C] [--id-prefix P] [--retry] [--acked FILE]\n"
          "         [--session-prefix Q] [--timeout-ms T] [--max-seconds T] [--unordered]\n"
          "         [--progress] [--json]\n"
          "Sends N signed inbound webhook messages (R per second from the intended send\n"
          "time, or with --rate 0 as fast as C keep-alive connections are answered) and\n"
          "reports acknowledgements, errors, the achieved rate and latency percentiles.\n",
          f);
}

/* Printable ASCII without quote or backslash: the prefix goes into JSON. */
static int prefix_ok(const char *p)
{
    if (strlen(p) > 64)
        return 0;
    for (; *p; p++)
        if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == '\\')
            return 0;
    return 1;
}

static void print_counts(const char *name, const uint64_t *by_kind, const uint64_t *by_status)
{
    printf("\"%s\":{", name);
    int first = 1;
    for (int k = 0; k < LE_KINDS; k++) {
        if (k == LE_HTTP)
            continue;
        printf("%s\"%s\":%llu", first ? "" : ",", KIND_NAMES[k],
               (unsigned long long)by_kind[k]);
        first = 0;
    }
    for (int s = 0; s < 600; s++)
        if (by_status[s] > 0)
            printf(",\"http_%d\":%llu", s, (unsigned long long)by_status[s]);
    printf("}");
}

static void print_text_counts(const uint64_t *by_kind, const uint64_t *by_status)
{
    const char *sep = "";
    for (int k = 0; k < LE_KINDS; k++) {
        if (k != LE_HTTP && by_kind[k] > 0) {
            printf("%s%s %llu", sep, KIND_NAMES[k], (unsigned long long)by_kind[k]);
            sep = ", ";
        }
    }
    for (int s = 0; s < 600; s++) {
        if (by_status[s] > 0) {
            printf("%shttp %d: %llu", sep, s, (unsigned long long)by_status[s]);
            sep = ", ";
        }
    }
    printf("%s\n", *sep ? "" : "none");
}

static void report(const load_t *L)
{
    uint64_t acked = L->accepted + L->duplicates + L->other_2xx, errors = 0, retries = 0;
    for (int k = 0; k < LE_KINDS; k++) {
        errors += L->errors[k];
        retries += L->retried[k];
    }
    uint64_t end = L->last_answer_ns ? L->last_answer_ns : lc_now_ns();
    double secs = L->first_send_ns && end > L->first_send_ns
                      ? (double)(end - L->first_send_ns) / 1e9
                      : 0;
    double rate = secs > 0 ? (double)acked / secs : 0;
    const lh_hist_t *h = &L->latency;
    double p50 = (double)lh_quantile(h, 0.50) / 1000, p90 = (double)lh_quantile(h, 0.90) / 1000,
           p99 = (double)lh_quantile(h, 0.99) / 1000, mx = (double)h->max / 1000;
    uint64_t unfinished = L->messages - L->finished;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    if (L->json) {
        printf("{\"messages\":%llu,\"sessions\":%llu,\"target_rate\":%llu,\"concurrency\":%u,"
               "\"sent\":%llu,\"requests\":%llu,\"acked\":%llu,\"accepted\":%llu,"
               "\"duplicates\":%llu,\"other_2xx\":%llu,\"errors_total\":%llu,"
               "\"unfinished\":%llu,\"retries_total\":%llu,\"connect_failures\":%llu,",
               (unsigned long long)L->messages, (unsigned long long)L->sessions,
               (unsigned long long)L->rate, L->concurrency, (unsigned long long)L->sent_messages,
               (unsigned long long)L->requests, (unsigned long long)acked,
               (unsigned long long)L->accepted, (unsigned long long)L->duplicates,
               (unsigned long long)L->other_2xx, (unsigned long long)errors,
               (unsigned long long)unfinished, (unsigned long long)retries,
               (unsigned long long)L->connect_failures);
        print_counts("errors", L->errors, L->http_status);
        printf(",");
        print_counts("retries", L->retried, L->retry_status);
        printf(",\"elapsed_s\":%.6f,\"rate\":%.1f,\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,"
               "\"p99\":%.3f,\"max\":%.3f},\"first_send_ns\":%llu,\"last_answer_ns\":%llu,"
               "\"cpu_s\":%.3f}\n",
               secs, rate, p50, p90, p99, mx, (unsigned long long)L->first_send_ns,
               (unsigned long long)L->last_answer_ns, cpu);
        return;
    }
    printf("messages    %llu in %llu sessions (%s), ", (unsigned long long)L->messages,
           (unsigned long long)L->sessions, L->ordered ? "in order per session" : "unordered");
    if (L->rate > 0)
        printf("fixed rate %llu/s, %u connections\n", (unsigned long long)L->rate,
               L->concurrency);
    else
        printf("as fast as answered on %u connections\n", L->concurrency);
    printf("sent        %llu messages in %llu requests\n", (unsigned long long)L->sent_messages,
           (unsigned long long)L->requests);
    printf("acked       %llu (202 accepted %llu, 200 duplicate %llu, other 2xx %llu)\n",
           (unsigned long long)acked, (unsigned long long)L->accepted,
           (unsigned long long)L->duplicates, (unsigned long long)L->other_2xx);
    printf("errors      %llu final: ", (unsigned long long)errors);
    print_text_counts(L->errors, L->http_status);
    printf("retries     %llu: ", (unsigned long long)retries);
    print_text_counts(L->retried, L->retry_status);
    printf("unfinished  %llu; failed connects %llu\n", (unsigned long long)unfinished,
           (unsigned long long)L->connect_failures);
    printf("rate        %.0f acks/s over %.3f s (first send to last answer)\n", rate, secs);
    printf("latency ms  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f (%s)\n", p50, p90, p99, mx,
           L->rate > 0 ? "from the intended send time" : "from the first attempt");
    printf("cpu         %.3f s (this process)\n", cpu);
}

static int parse_args(load_t *L, int argc, char **argv, const char **acked)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},       {"secret", required_argument, NULL, 's'},
        {"messages", required_argument, NULL, 'n'},  {"sessions", required_argument, NULL, 'S'},
        {"rate", required_argument, NULL, 'r'},      {"concurrency", required_argument, NULL, 'c'},
        {"id-prefix", required_argument, NULL, 'P'}, {"retry", no_argument, NULL, 'R'},
        {"acked", required_argument, NULL, 'a'},     {"progress", no_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},            {"timeout-ms", required_argument, NULL, 't'},
        {"max-seconds", required_argument, NULL, 'm'}, {"unordered", no_argument, NULL, 'U'},
        {"session-prefix", required_argument, NULL, 'Q'},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
    };
    const char *url = NULL;
    uint64_t v;
    int c, which = 0;
    while ((c = getopt_long(argc, argv, "", opts, &which)) != -1) {
        int bad = 0;
        switch (c) {
        case 'u': url = optarg; break;
        case 's': L->secret = optarg; break;
        case 'n': bad = mh_parse_u64(optarg, &L->messages); break;
        case 'S': bad = mh_parse_u64(optarg, &L->sessions) || L->sessions == 0; break;
        case 'r': bad = mh_parse_u64(optarg, &L->rate); break;
        case 'c':
            bad = mh_parse_u64(optarg, &v) || v == 0 || v > 10000;
            L->concurrency = (uint32_t)v;
            break;
        case 'P': L->prefix = optarg; bad = !prefix_ok(optarg); break;
        case 'Q': L->session_prefix = optarg; bad = !prefix_ok(optarg); break;
        case 'R': L->retry = 1; break;
        case 'a': *acked = optarg; break;
        case 'p': L->progress = 1; break;
        case 'j': L->json = 1; break;
        case 't':
            bad = mh_parse_u64(optarg, &v) || v == 0 || v > 3600000;
            L->timeout_ms = (uint32_t)v;
            break;
        case 'm': bad = mh_parse_u64(optarg, &v); L->max_seconds = (double)v; break;
        case 'U': L->ordered = 0; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
        if (bad) {
            fprintf(stderr, "webhook-load: bad value for --%s: %s\n", opts[which].name, optarg);
            return -1;
        }
    }
    if (optind != argc || url == NULL || L->secret == NULL) {
        usage(stderr);
        return -1;
    }
    char err[256];
    if (ln_url_parse(url, &L->url, err, sizeof err) != 0) {
        fprintf(stderr, "webhook-load: --url: %s\n", err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static load_t L; /* large (histogram, status tables): not on the stack */
    L.messages = 1000;
    L.sessions = 1;
    L.concurrency = 16;
    L.timeout_ms = 10000;
    L.prefix = "m";
    L.session_prefix = "";
    L.ordered = 1;
    L.tfd.fd = -1;
    const char *acked = NULL;
    if (parse_args(&L, argc, argv, &acked) != 0)
        return 2;
    if (acked != NULL && (L.acked_file = fopen(acked, "w")) == NULL) {
        fprintf(stderr, "webhook-load: cannot write %s: %s\n", acked, strerror(errno));
        return 2;
    }
    L.loop = uv_default_loop();
    if (load_sched_init(&L) != 0) {
        fprintf(stderr, "webhook-load: out of memory or no timerfd\n");
        return 1;
    }
    load_sched_start(&L);
    uv_run(L.loop, UV_RUN_DEFAULT);
    report(&L);
    fflush(stdout);
    if (L.acked_file != NULL)
        fclose(L.acked_file);
    load_sched_free(&L);
    uv_loop_close(L.loop);
    ln_url_free(&L.url);
    return L.accepted + L.duplicates + L.other_2xx == L.messages ? 0 : 1;
}
