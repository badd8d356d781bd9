/* cli/gateway_cmd.c - `openclaw gateway start|stop|restart|status|validate`. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "gateway/state.h"
#include "util/buf.h"

/* How long `stop` waits for the gateway to drain before SIGKILL. */
#define STOP_WAIT_MS 30000

static const char help_start[] =
    "usage: openclaw gateway [start] [options]\n"
    "\n"
    "Starts the gateway in the foreground (or detached with --daemon).\n"
    "\n"
    "  --config PATH   configuration file (default $OPENCLAW_CONFIG_PATH, ~/.openclaw/gateway.yaml)\n"
    "  --port N        listen port (overrides server.port and $OPENCLAW_PORT)\n"
    "  --host H        listen address: an IP, `loopback` or `lan`\n"
    "  --dev           development: state in ~/.openclaw-dev, port 19001, loopback, no auth needed\n"
    "  --daemon        detach; returns once the gateway is ready, or with the reason it failed\n"
    "  --verbose       debug logging\n"
    "  --force         if a gateway of ours holds the port, stop it first\n";

static const char help_gateway[] =
    "usage: openclaw gateway <start|stop|restart|status|validate> [options]\n"
    "\n"
    "  start      start the gateway (the default); see `openclaw gateway start --help`\n"
    "  stop       graceful stop: drain in-flight work, bounded by a deadline\n"
    "  restart    stop, then start again (detached) with the same arguments\n"
    "  status     running or not, pid, version, uptime, listeners [--json] [--deep]\n"
    "  validate   parse and validate the configuration, load and init every plugin\n";

static const char help_status[] =
    "usage: openclaw gateway status [--json] [--deep] [--dev]\n"
    "\n"
    "Shows whether the gateway is running: pid, version, uptime, listeners, config path,\n"
    "plugins. --deep adds the gateway's own health report (storage, channels).\n"
    "Exits 0 when running, 1 when not.\n";

static const char help_stop[] =
    "usage: openclaw gateway stop [--dev]\n"
    "\n"
    "Sends SIGTERM to the running gateway and waits until it has drained and exited\n"
    "(SIGKILL after 30 s).\n";

static const char help_restart[] =
    "usage: openclaw gateway restart [--dev]\n"
    "\n"
    "Stops the running gateway and starts it again, detached, with the arguments it was\n"
    "started with.\n";

static const char help_validate[] =
    "usage: openclaw gateway validate [--config PATH] [--dev]\n"
    "\n"
    "Parses and validates the configuration, loads every plugin and runs its init, and\n"
    "starts nothing. Prints every problem with file:line:column; exits 0 or 78.\n";

int gw_cli_parse(int argc, char **argv, gw_cli_opts_t *o, unsigned accept, const char *help)
{
    static const struct option all[] = {
        {"config", required_argument, NULL, 'c'}, {"port", required_argument, NULL, 'p'},
        {"host", required_argument, NULL, 'H'},   {"dev", no_argument, NULL, 'd'},
        {"daemon", no_argument, NULL, 'D'},       {"verbose", no_argument, NULL, 'v'},
        {"force", no_argument, NULL, 'f'},        {"json", no_argument, NULL, 'j'},
        {"deep", no_argument, NULL, 'e'},         {"follow", no_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->start.ready_fd = -1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", all, NULL)) != -1) {
        unsigned need = 0;
        switch (c) {
        case 'c': case 'd': need = GW_CLI_CONFIG; break;
        case 'p': case 'H': case 'D': case 'v': case 'f': need = GW_CLI_START; break;
        case 'j': need = GW_CLI_JSON; break;
        case 'e': need = GW_CLI_DEEP; break;
        case 'F': need = GW_CLI_FOLLOW; break;
        case 'h':
            fputs(help, stdout);
            return GW_EXIT_OK;
        case ':':
            fprintf(stderr, "openclaw %s: option %s needs a value\n", argv[0], argv[optind - 1]);
            return GW_EXIT_USAGE;
        default:
            fprintf(stderr, "openclaw %s: unknown option %s\n%s", argv[0], argv[optind - 1], help);
            return GW_EXIT_USAGE;
        }
        /* --dev picks the state directory, so every command takes it. */
        if (!(accept & need) && c != 'd') {
            fprintf(stderr, "openclaw %s: option %s does not apply here\n%s", argv[0],
                    argv[optind - 1], help);
            return GW_EXIT_USAGE;
        }
        switch (c) {
        case 'c': o->start.cfg.path = optarg; break;
        case 'd': o->start.cfg.dev = 1; break;
        case 'H': o->start.cfg.host = optarg; break;
        case 'D': o->daemon = 1; break;
        case 'v': o->start.verbose = 1; o->start.cfg.log_level = "debug"; break;
        case 'f': o->start.force = 1; break;
        case 'j': o->json = 1; break;
        case 'e': o->deep = 1; break;
        case 'F': o->follow = 1; break;
        case 'p': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || v < 1 || v > 65535) {
                fprintf(stderr, "openclaw %s: --port: expected a port from 1 to 65535, got \"%s\"\n",
                        argv[0], optarg);
                return GW_EXIT_USAGE;
            }
            o->start.cfg.port = (int)v;
            break;
        }
        }
    }
    while ((accept & GW_CLI_ARGS) && optind < argc && o->nargs < GW_CLI_MAX_ARGS)
        o->args[o->nargs++] = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "openclaw %s: unexpected argument '%s'\n%s", argv[0], argv[optind], help);
        return GW_EXIT_USAGE;
    }
    return -1;
}

static int cmd_status(gw_cli_opts_t *o)
{
    gw_running_t r;
    int up = gw_find_running(o->start.cfg.dev, &r);
    if (!up) {
        if (o->json)
            printf("{\"running\":false,\"stateDir\":%s%s%s}\n", r.state_dir ? "\"" : "",
                   r.state_dir ? r.state_dir : "null", r.state_dir ? "\"" : "");
        else
            printf("gateway is not running (state directory %s)\n",
                   r.state_dir ? r.state_dir : "unknown");
        gw_running_free(&r);
        return GW_EXIT_RUNTIME;
    }
    const char *host = gw_jstr(r.state, "host");
    int port = (int)gw_jint(r.state, "port");
    int mport = (int)gw_jint(r.state, "metricsPort");
    json_object *tlsv;
    int tls = json_object_object_get_ex(r.state, "tls", &tlsv) && json_object_get_boolean(tlsv);
    gw_buf_t hb = GW_BUF_INIT, db = GW_BUF_INIT;
    long hc = gw_probe(host ? host : "127.0.0.1", port, tls, "/health", NULL, &hb);
    long dc = o->deep ? gw_probe(host ? host : "127.0.0.1", port, tls, "/health/detailed", NULL,
                                 &db)
                      : 0;
    int64_t started = gw_jint(r.state, "startedAt");
    int64_t uptime = started ? ((int64_t)time(NULL) * 1000 - started) / 1000 : 0;
    if (o->json) {
        json_object *out = json_object_new_object();
        json_object_object_add(out, "running", json_object_new_boolean(1));
        json_object_object_add(out, "pid", json_object_new_int(r.pid));
        json_object_object_add(out, "uptime", json_object_new_int64(uptime));
        json_object_object_add(out, "healthy", json_object_new_boolean(hc == 200));
        json_object_object_foreach(r.state, k, v)
        {
            if (strcmp(k, "pid") != 0)
                json_object_object_add(out, k, json_object_get(v));
        }
        gw_buf_t url = GW_BUF_INIT;
        json_object *listeners = json_object_new_array();
        gw_buf_printf(&url, "%s://%s:%d", tls ? "https" : "http", host ? host : "?", port);
        json_object_array_add(listeners, json_object_new_string(url.data));
        if (mport > 0) {
            gw_buf_reset(&url);
            gw_buf_printf(&url, "http://%s:%d/metrics", host ? host : "?", mport);
            json_object_array_add(listeners, json_object_new_string(url.data));
        }
        gw_buf_free(&url);
        json_object_object_add(out, "listeners", listeners);
        if (o->deep)
            json_object_object_add(out, "health",
                                   dc ? json_tokener_parse(db.data ? db.data : "null") : NULL);
        printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
        json_object_put(out);
    } else {
        const char *cp = gw_jstr(r.state, "configPath");
        printf("gateway is running\n");
        printf("  pid       %d\n", r.pid);
        const char *ver = gw_jstr(r.state, "version");
        printf("  version   %s\n", ver ? ver : "?");
        printf("  uptime    %llds\n", (long long)uptime);
        printf("  listening %s://%s:%d (%s)\n", tls ? "https" : "http", host ? host : "?", port,
               hc == 200 ? "healthy" : "not answering /health");
        if (mport > 0)
            printf("  metrics   http://%s:%d/metrics\n", host ? host : "?", mport);
        printf("  config    %s\n", cp ? cp : "(defaults)");
        printf("  state     %s\n", r.state_dir);
        json_object *pl;
        if (json_object_object_get_ex(r.state, "plugins", &pl)) {
            printf("  plugins  ");
            for (size_t i = 0; i < json_object_array_length(pl); i++)
                printf(" %s", json_object_get_string(json_object_array_get_idx(pl, i)));
            printf("\n");
        }
        if (o->deep)
            printf("  health    %s\n", dc ? db.data : "(no answer)");
    }
    gw_buf_free(&hb);
    gw_buf_free(&db);
    gw_running_free(&r);
    return GW_EXIT_OK;
}

static int wait_gone(int pid, int ms)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    for (int waited = 0; waited < ms; waited += 20) {
        if (!gw_pid_running(pid))
            return 1;
        nanosleep(&ts, NULL); /* waiting on another process: nothing to poll */
    }
    return !gw_pid_running(pid);
}

static int stop_running(gw_running_t *r)
{
    if (kill(r->pid, SIGTERM) != 0) {
        fprintf(stderr, "openclaw: cannot signal pid %d: %s\n", r->pid, strerror(errno));
        return GW_EXIT_RUNTIME;
    }
    if (!wait_gone(r->pid, STOP_WAIT_MS)) {
        fprintf(stderr, "openclaw: gateway (pid %d) did not stop within %d s; sending SIGKILL\n",
                r->pid, STOP_WAIT_MS / 1000);
        kill(r->pid, SIGKILL);
        wait_gone(r->pid, 5000);
        gw_state_remove(r->state_dir, r->pid);
    }
    return GW_EXIT_OK;
}

static int cmd_stop(gw_cli_opts_t *o)
{
    gw_running_t r;
    if (!gw_find_running(o->start.cfg.dev, &r)) {
        printf("gateway is not running\n");
        gw_running_free(&r);
        return GW_EXIT_OK;
    }
    int rc = stop_running(&r);
    if (rc == GW_EXIT_OK)
        printf("gateway stopped (pid %d)\n", r.pid);
    gw_running_free(&r);
    return rc;
}

/* --daemon: validate here (errors print on this terminal), then fork; the
 * child reports "ready ..." or its errors through a pipe, and this process
 * exits only once it knows which. */
static int start_daemon(gw_cli_opts_t *o)
{
    int code = gw_gateway_validate(&o->start.cfg, 1);
    if (code != GW_EXIT_OK)
        return code;
    char *state_dir = gw_config_state_dir(o->start.cfg.dev);
    if (state_dir == NULL || gw_mkdirs(state_dir) != 0) {
        fprintf(stderr, "openclaw: cannot create the state directory %s\n",
                state_dir ? state_dir : "(unknown home)");
        free(state_dir);
        return GW_EXIT_RUNTIME;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        free(state_dir);
        return GW_EXIT_RUNTIME;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "openclaw: fork: %s\n", strerror(errno));
        free(state_dir);
        return GW_EXIT_RUNTIME;
    }
    if (pid == 0) {
        close(p[0]);
        setsid();
        gw_buf_t logp = GW_BUF_INIT;
        gw_buf_printf(&logp, "%s/gateway.log", state_dir);
        int devnull = open("/dev/null", O_RDWR);
        int logfd = open(logp.data, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(devnull, 0);
        dup2(devnull, 1);
        /* The gateway also writes its log file itself; stderr keeps what
         * happens before it opens it (and crashes). */
        dup2(logfd >= 0 ? logfd : devnull, 2);
        if (logfd > 2)
            close(logfd);
        if (devnull > 2)
            close(devnull);
        gw_buf_free(&logp);
        free(state_dir);
        o->start.ready_fd = p[1];
        _exit(gw_gateway_run(&o->start));
    }
    close(p[1]);
    gw_buf_t msg = GW_BUF_INIT;
    char chunk[1024];
    ssize_t n;
    while ((n = read(p[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            gw_buf_append(&msg, chunk, (size_t)n);
    close(p[0]);
    int rc;
    if (msg.data && strncmp(msg.data, "ready ", 6) == 0) {
        int cpid = 0;
        char url[256] = "";
        sscanf(msg.data, "ready %d %255s", &cpid, url);
        printf("gateway started (pid %d): %s\nlog: %s/gateway.log\nstop: openclaw gateway stop%s\n",
               cpid, url, state_dir, o->start.cfg.dev ? " --dev" : "");
        rc = GW_EXIT_OK;
    } else {
        int status = 0;
        waitpid(pid, &status, 0);
        fputs(msg.data ? msg.data : "", stderr);
        rc = WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : GW_EXIT_RUNTIME;
        fprintf(stderr, "openclaw: the gateway did not start (exit %d); see %s/gateway.log\n", rc,
                state_dir);
    }
    gw_buf_free(&msg);
    free(state_dir);
    return rc;
}

static int cmd_restart(gw_cli_opts_t *o)
{
    gw_running_t r;
    if (!gw_find_running(o->start.cfg.dev, &r)) {
        fprintf(stderr, "openclaw: gateway is not running; start it with `openclaw gateway "
                        "start`\n");
        gw_running_free(&r);
        return GW_EXIT_RUNTIME;
    }
    /* The same arguments it was started with, re-parsed. */
    json_object *argvj;
    int argc = 0;
    char **argv = NULL;
    if (json_object_object_get_ex(r.state, "argv", &argvj)) {
        argc = (int)json_object_array_length(argvj);
        argv = calloc((size_t)argc + 1, sizeof(char *));
        for (int i = 0; argv && i < argc; i++)
            argv[i] = strdup(json_object_get_string(json_object_array_get_idx(argvj, i)));
    }
    int rc = stop_running(&r);
    gw_running_free(&r);
    if (rc == GW_EXIT_OK) {
        gw_cli_opts_t so;
        rc = argc > 0 ? gw_cli_parse(argc, argv, &so, GW_CLI_CONFIG | GW_CLI_START, help_start)
                      : -1;
        if (argc == 0)
            gw_cli_parse(1, (char *[]){"start", NULL}, &so, GW_CLI_CONFIG | GW_CLI_START,
                         help_start);
        if (rc < 0) {
            so.daemon = 1;
            so.start.argc = argc;
            so.start.argv = argv;
            rc = start_daemon(&so);
        }
    }
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
    return rc;
}

int gw_cli_gateway(int argc, char **argv)
{
    const char *sub = argc >= 2 && argv[1][0] != '-' ? argv[1] : "start";
    int shift = argc >= 2 && argv[1][0] != '-' ? 1 : 0;
    gw_cli_opts_t o;
    int rc;
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(help_gateway, stdout);
        fputs("\n", stdout);
        fputs(help_start, stdout);
        return GW_EXIT_OK;
    }
    if (strcmp(sub, "start") == 0) {
        if ((rc = gw_cli_parse(argc - shift, argv + shift, &o, GW_CLI_CONFIG | GW_CLI_START,
                               help_start)) >= 0)
            return rc;
        /* Kept for `restart`: the arguments after "start". */
        o.start.argc = argc - shift;
        o.start.argv = argv + shift;
        if (o.daemon) {
            /* The detached child must not see --daemon again on restart. */
            return start_daemon(&o);
        }
        return gw_gateway_run(&o.start);
    }
    if (strcmp(sub, "stop") == 0) {
        if ((rc = gw_cli_parse(argc - 1, argv + 1, &o, 0, help_stop)) >= 0)
            return rc;
        return cmd_stop(&o);
    }
    if (strcmp(sub, "restart") == 0) {
        if ((rc = gw_cli_parse(argc - 1, argv + 1, &o, 0, help_restart)) >= 0)
            return rc;
        return cmd_restart(&o);
    }
    if (strcmp(sub, "status") == 0) {
        if ((rc = gw_cli_parse(argc - 1, argv + 1, &o, GW_CLI_JSON | GW_CLI_DEEP, help_status)) >=
            0)
            return rc;
        return cmd_status(&o);
    }
    if (strcmp(sub, "validate") == 0) {
        if ((rc = gw_cli_parse(argc - 1, argv + 1, &o, GW_CLI_CONFIG, help_validate)) >= 0)
            return rc;
        return gw_gateway_validate(&o.start.cfg, 0);
    }
    fprintf(stderr, "openclaw gateway: unknown command '%s'\n%s", sub, help_gateway);
    return GW_EXIT_USAGE;
}
