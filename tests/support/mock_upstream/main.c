/* mock_upstream/main.c - oc-mock-upstream: options, listeners, worker
 * threads, signals. See README.md for the flags, headers and control API.
 *
 * Start-up prints one line on stdout, "oc-mock-upstream listening on
 * HOST:PORT" (the real port with --port 0), once every worker listens.
 * SIGTERM and SIGINT stop the workers, close every connection and exit 0.
 *
 * Threads: the main thread parses options, binds, then only waits for a
 * signal; each worker runs its own libuv loop on its own listening socket
 * (SO_REUSEPORT when there are several). */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mock.h"
#include "util/strv.h"

#define MAX_WORKERS 64
#define BACKLOG 4096

enum { OPT_PORT = 1, OPT_HOST, OPT_WORKERS, OPT_MODELS, OPT_QUIET, OPT_SEED, OPT_HELP,
       OPT_KNOB = 100 };

typedef struct opts_s {
    const char *host;
    int port;
    int workers;
} opts_t;

static void usage(FILE *f)
{
    fputs("usage: oc-mock-upstream [--port N] [--host ADDR] [--workers N] [--models A,B]\n"
          "                        [--quiet] [--seed N] [KNOB FLAGS]\n"
          "A mock of the OpenAI and Anthropic HTTP APIs for tests and benchmarks:\n"
          "POST /v1/chat/completions, POST /v1/messages, POST /v1/embeddings,\n"
          "GET /v1/models, and the control API /mock/config, /mock/stats, /mock/reset.\n"
          "Prints \"oc-mock-upstream listening on HOST:PORT\" once ready.\n\n"
          "  --port N          TCP port, 0 = any free port (default 0)\n"
          "  --host ADDR       IPv4 or IPv6 address to bind (default 127.0.0.1)\n"
          "  --workers N       threads, each with its own loop and SO_REUSEPORT socket\n"
          "                    (1..64, default 1)\n"
          "  --models A,B      the model names GET /v1/models lists (default mock-model)\n"
          "  --quiet           no log line per request\n"
          "  --seed N          seed of the fail-rate draws (default 1)\n\n"
          "Knob flags (defaults; per request: the x-mock-* header; at run time:\n"
          "POST /mock/config with the JSON key):\n",
          f);
    for (size_t i = 0; i < knob_count; i++) {
        const knob_def_t *d = &knob_defs[i];
        gw_buf_t acc = GW_BUF_INIT;
        knob_describe(d, 0, &acc);
        fprintf(f, "  --%s%s\n      %s\n      %s%s%s; JSON \"%s\"\n", d->flag,
                d->type == KT_BOOL ? "" : " V", d->help, acc.data,
                d->header ? "; header " : "", d->header ? d->header : "", d->key);
        gw_buf_free(&acc);
    }
}

/* 0 and the value, or -1 when v is not a decimal in min..max. */
static int parse_range(const char *v, long long min, long long max, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || x < min || x > max)
        return -1;
    *out = x;
    return 0;
}

/* --models a,b: non-empty names. 0 or -1. */
static int parse_models(mock_t *m, const char *arg)
{
    char *copy = strdup(arg);
    size_t cap = strlen(arg) / 2 + 2, n = 0;
    const char **names = calloc(cap, sizeof *names);
    int rc = copy != NULL && names != NULL ? 0 : -1;
    for (char *p = copy; rc == 0 && p != NULL;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (*p == '\0' || strlen(p) > 256)
            rc = -1;
        else
            names[n++] = p;
        p = comma != NULL ? comma + 1 : NULL;
    }
    if (rc == 0 && gw_strv_dup(&m->models, &m->nmodels, names, n) != 0)
        rc = -1;
    free(names);
    free(copy);
    return rc;
}

static int flag_error(const char *flag, const char *v, const char *what)
{
    fprintf(stderr, "oc-mock-upstream: --%s: '%s' is not %s\n"
                    "run oc-mock-upstream --help for the flags\n",
            flag, v, what);
    return -1;
}

static int parse_args(int argc, char **argv, mock_t *m, opts_t *o)
{
    static struct option opts[64]; /* base + knob flags + the terminator */
    static const struct option base[] = {
        {"port", required_argument, NULL, OPT_PORT},
        {"host", required_argument, NULL, OPT_HOST},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"models", required_argument, NULL, OPT_MODELS},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"seed", required_argument, NULL, OPT_SEED},
        {"help", no_argument, NULL, OPT_HELP},
    };
    size_t n = 0;
    if (sizeof base / sizeof base[0] + knob_count + 1 > sizeof opts / sizeof opts[0])
        abort(); /* a knob was added: grow opts */
    for (; n < sizeof base / sizeof base[0]; n++)
        opts[n] = base[n];
    for (size_t i = 0; i < knob_count; i++)
        opts[n++] = (struct option){knob_defs[i].flag,
                                    knob_defs[i].type == KT_BOOL ? no_argument
                                                                 : required_argument,
                                    NULL, OPT_KNOB + (int)i};
    opts[n] = (struct option){NULL, 0, NULL, 0};

    long long x;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_PORT:
            if (parse_range(optarg, 0, 65535, &x) != 0)
                return flag_error("port", optarg, "a port in 0..65535");
            o->port = (int)x;
            break;
        case OPT_HOST: o->host = optarg; break;
        case OPT_WORKERS:
            if (parse_range(optarg, 1, MAX_WORKERS, &x) != 0)
                return flag_error("workers", optarg, "an integer in 1..64");
            o->workers = (int)x;
            break;
        case OPT_MODELS:
            if (parse_models(m, optarg) != 0)
                return flag_error("models", optarg, "a comma-separated list of non-empty "
                                                    "model names (at most 256 bytes each)");
            break;
        case OPT_QUIET: m->quiet = 1; break;
        case OPT_SEED:
            if (parse_range(optarg, 0, INT64_MAX, &x) != 0)
                return flag_error("seed", optarg, "a non-negative integer");
            m->seed = (uint64_t)x;
            break;
        case OPT_HELP: usage(stdout); exit(0);
        default:
            if (c >= OPT_KNOB && c < OPT_KNOB + (int)knob_count) {
                const knob_def_t *d = &knob_defs[c - OPT_KNOB];
                const char *v = d->type == KT_BOOL ? "1" : optarg;
                char who[64];
                gw_buf_t err = GW_BUF_INIT;
                snprintf(who, sizeof who, "--%s", d->flag);
                if (knob_set_text(&m->defaults, d, v, strlen(v), who, &err) != 0) {
                    fprintf(stderr, "oc-mock-upstream: %s\nrun oc-mock-upstream --help for "
                                    "the flags\n", err.data);
                    gw_buf_free(&err);
                    return -1;
                }
                break;
            }
            fputs("run oc-mock-upstream --help for the flags\n", stderr);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "oc-mock-upstream: unexpected argument '%s' (all options are flags; "
                        "see --help)\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* A bound, non-blocking socket (listen() comes from uv_listen). -1 on error. */
static int bind_socket(const struct sockaddr *addr, int reuseport)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    socklen_t len = addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                : sizeof(struct sockaddr_in);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
        bind(fd, addr, len) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status == 0)
        conn_accept(server->data, server);
}

static void on_stop(uv_async_t *a)
{
    worker_t *w = a->data;
    uv_close((uv_handle_t *)&w->listener, NULL);
    uv_close((uv_handle_t *)&w->stop, NULL);
    for (conn_t *c = w->conns; c != NULL; c = c->next)
        conn_close(c, 0);
}

static void worker_main(void *arg)
{
    worker_t *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
}

/* The worker's loop, buffers and listener on fd (taken). 0 or -1. */
static int worker_init(mock_t *m, worker_t *w, int id, int fd)
{
    w->id = id;
    w->knobs_gen = UINT64_MAX; /* copy the shared knobs on first use */
    w->rng = (m->seed + 1) * 0x9e3779b97f4a7c15ULL + (uint64_t)id * 0xbf58476d1ce4e5b9ULL;
    if (w->rng == 0)
        w->rng = 1;
    if (uv_loop_init(&w->loop) != 0) {
        fprintf(stderr, "oc-mock-upstream: worker %d: cannot create its loop\n", id);
        close(fd);
        return -1;
    }
    w->m = m; /* from here on worker_free has a loop to clean */
    w->rbuf = malloc(MOCK_READ_BUF);
    w->tok = json_tokener_new();
    uv_tcp_init(&w->loop, &w->listener);
    w->listener.data = w;
    uv_async_init(&w->loop, &w->stop, on_stop);
    w->stop.data = w;
    int rc = uv_tcp_open(&w->listener, fd);
    if (rc != 0)
        close(fd);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&w->listener, BACKLOG, on_connection);
    if (rc != 0 || w->rbuf == NULL || w->tok == NULL) {
        fprintf(stderr, "oc-mock-upstream: worker %d: %s\n", id,
                rc != 0 ? uv_strerror(rc) : "out of memory");
        return -1;
    }
    return 0;
}

static void worker_free(worker_t *w)
{
    if (w->m == NULL)
        return;
    if (!uv_is_closing((uv_handle_t *)&w->stop)) { /* never started: close here */
        uv_close((uv_handle_t *)&w->listener, NULL);
        uv_close((uv_handle_t *)&w->stop, NULL);
    }
    uv_run(&w->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&w->loop) != 0)
        fprintf(stderr, "oc-mock-upstream: worker %d: handles left open at exit\n", w->id);
    json_tokener_free(w->tok);
    free(w->rbuf);
    gw_buf_free(&w->out);
    gw_buf_free(&w->scratch);
    gw_buf_free(&w->body);
    gw_buf_free(&w->user);
}

/* Binds every worker's socket (the first picks the port when 0). 0 or -1. */
static int start_listeners(mock_t *m, const opts_t *o, struct sockaddr_storage *addr)
{
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
    if (uv_ip4_addr(o->host, o->port, a4) != 0 && uv_ip6_addr(o->host, o->port, a6) != 0) {
        fprintf(stderr, "oc-mock-upstream: --host: '%s' is not an IPv4 or IPv6 address\n",
                o->host);
        return -1;
    }
    for (int i = 0; i < m->nworkers; i++) {
        int fd = bind_socket((struct sockaddr *)addr, m->nworkers > 1);
        if (fd < 0) {
            fprintf(stderr, "oc-mock-upstream: cannot bind %s:%d: %s\n", o->host,
                    addr->ss_family == AF_INET6 ? ntohs(a6->sin6_port) : ntohs(a4->sin_port),
                    strerror(errno));
            return -1;
        }
        if (i == 0) { /* the others join the port the first one got */
            socklen_t len = sizeof *addr;
            getsockname(fd, (struct sockaddr *)addr, &len);
        }
        if (worker_init(m, &m->workers[i], i, fd) != 0)
            return -1;
    }
    return 0;
}

typedef struct sigs_s {
    mock_t *m;
    uv_signal_t term, intr;
} sigs_t;

static void close_signals(sigs_t *s)
{
    uv_close((uv_handle_t *)&s->term, NULL);
    uv_close((uv_handle_t *)&s->intr, NULL);
}

/* The first SIGTERM or SIGINT stops every worker; the main loop ends. */
static void on_signal(uv_signal_t *h, int signum)
{
    sigs_t *s = h->data;
    (void)signum;
    for (int i = 0; i < s->m->nworkers; i++)
        uv_async_send(&s->m->workers[i].stop);
    close_signals(s);
}

/* Many concurrent streams need many descriptors. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            fprintf(stderr, "oc-mock-upstream: cannot raise the open-file limit: %s\n",
                    strerror(errno));
    }
}

static int run(mock_t *m, const opts_t *o)
{
    struct sockaddr_storage addr;
    if (start_listeners(m, o, &addr) != 0)
        return 1;
    uv_loop_t *main_loop = uv_default_loop();
    sigs_t sigs = {.m = m};
    uv_signal_init(main_loop, &sigs.term);
    uv_signal_init(main_loop, &sigs.intr);
    sigs.term.data = sigs.intr.data = &sigs;
    uv_signal_start(&sigs.term, on_signal, SIGTERM);
    uv_signal_start(&sigs.intr, on_signal, SIGINT);
    int started = 0, rc = 0;
    for (; started < m->nworkers; started++) {
        if (uv_thread_create(&m->workers[started].thread, worker_main, &m->workers[started]) !=
            0) {
            fprintf(stderr, "oc-mock-upstream: cannot start worker thread %d\n", started);
            rc = 1;
            break;
        }
    }
    if (rc == 0) {
        char host[64];
        int port;
        if (addr.ss_family == AF_INET6) {
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;
            char ip[48];
            uv_ip6_name(a6, ip, sizeof ip);
            snprintf(host, sizeof host, "[%s]", ip);
            port = ntohs(a6->sin6_port);
        } else {
            struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
            uv_ip4_name(a4, host, sizeof host);
            port = ntohs(a4->sin_port);
        }
        printf("oc-mock-upstream listening on %s:%d\n", host, port);
        fflush(stdout);
        if (!m->quiet) {
            gw_buf_t k = GW_BUF_INIT;
            knobs_to_json(&m->defaults, &k);
            fprintf(stderr, "oc-mock-upstream: %d worker(s), %zu model(s), knobs %s\n",
                    m->nworkers, m->nmodels, k.data);
            gw_buf_free(&k);
        }
    } else {
        for (int i = 0; i < started; i++)
            uv_async_send(&m->workers[i].stop);
        close_signals(&sigs);
    }
    uv_run(main_loop, UV_RUN_DEFAULT);
    for (int i = 0; i < started; i++)
        uv_thread_join(&m->workers[i].thread);
    uv_loop_close(main_loop);
    return rc;
}

int main(int argc, char **argv)
{
    static mock_t m; /* large (per-worker stats), and shared with the threads */
    opts_t o = {.host = "127.0.0.1", .port = 0, .workers = 1};
    knobs_init(&m.defaults);
    m.seed = 1;
    int rc = parse_args(argc, argv, &m, &o) == 0 ? 0 : 2;
    if (rc == 0 && m.models == NULL && parse_models(&m, "mock-model") != 0)
        rc = 1;
    if (rc == 0) {
        signal(SIGPIPE, SIG_IGN); /* a vanished client is an error code, not a signal */
        raise_nofile();
        pthread_mutex_init(&m.mu, NULL);
        m.knobs = m.defaults;
        m.nworkers = o.workers;
        m.workers = calloc((size_t)o.workers, sizeof *m.workers);
        rc = m.workers != NULL ? run(&m, &o) : 1;
        for (int i = 0; m.workers != NULL && i < m.nworkers; i++)
            worker_free(&m.workers[i]);
        free(m.workers);
        pthread_mutex_destroy(&m.mu);
    }
    gw_strv_free(m.models, m.nmodels);
    return rc;
}
