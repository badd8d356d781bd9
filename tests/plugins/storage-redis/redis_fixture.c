/* redis_fixture.c - see redis_fixture.h. */
#include "redis_fixture.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVERS 4
#define MAX_HOLES 4
#define READY_MS 10000

char rf_prefix[96];
char rf_so[1024];

static char g_url[512], g_host[256];
static int g_port, g_db;
static rf_server_t g_servers[MAX_SERVERS]; /* pid 0: a free slot */
static int g_holes[MAX_HOLES];
static size_t g_nholes;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void rf_setup_offline(void)
{
    const char *dir = getenv("OPENCLAW_TEST_PLUGIN_DIR");
    cr_assert_not_null(dir, "OPENCLAW_TEST_PLUGIN_DIR is not set (run through ctest)");
    snprintf(rf_so, sizeof rf_so, "%s/" RF_PLUGIN ".so", dir);
    unsetenv("OPENCLAW_STORAGE_TYPE"); /* would override storage.type */
    static unsigned n;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(rf_prefix, sizeof rf_prefix, "openclaw-test:%ld-%u-%lld:", (long)getpid(), n++,
             (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    g_nholes = 0;
}

void rf_setup(void)
{
    const char *url = getenv("OPENCLAW_TEST_REDIS_URL");
    if (url == NULL || url[0] == '\0')
        cr_assert_fail("OPENCLAW_TEST_REDIS_URL is not set: start the test services with "
                 "`scripts/ci-services start` and export their URLs with "
                 "`eval \"$(scripts/ci-services env)\"` (scripts/test does both)");
    snprintf(g_url, sizeof g_url, "%s", url);
    if (sscanf(url, "redis://%255[^:/]:%d/%d", g_host, &g_port, &g_db) != 3)
        cr_assert_fail("OPENCLAW_TEST_REDIS_URL=%s: expected redis://host:port/db", url);
    rf_setup_offline();
}

void rf_teardown(void)
{
    for (size_t i = 0; i < MAX_SERVERS; i++) {
        rf_server_t *s = &g_servers[i];
        if (s->pid > 1) {
            kill(s->pid, SIGCONT);
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
        }
        if (s->dir[0] != '\0')
            rmdir(s->dir); /* --save '' and no AOF: it stays empty */
        memset(s, 0, sizeof *s);
    }
    for (size_t i = 0; i < g_nholes; i++)
        close(g_holes[i]);
    g_nholes = 0;
    if (rf_prefix[0] != '\0' && g_port != 0 && getenv("OPENCLAW_TEST_REDIS_URL") != NULL) {
        redisContext *c = rf_client();
        rf_delete_prefix(c, rf_prefix);
        redisFree(c);
    }
}

const char *rf_url(void)
{
    return g_url;
}

const char *rf_host(void)
{
    return g_host;
}

int rf_port(void)
{
    return g_port;
}

int rf_db(void)
{
    return g_db;
}

const char *rf_yaml(const char *url, const char *extra)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "storage:\n  type: redis\n  url: '%s'\n  keyPrefix: '%s'\n%s",
             url != NULL ? url : g_url, rf_prefix, extra != NULL ? extra : "");
    return buf;
}

static redisContext *connect_to(const char *host, int port)
{
    struct timeval tv = {5, 0};
    redisContext *c = redisConnectWithTimeout(host, port, tv);
    cr_assert(c != NULL && c->err == 0, "cannot connect to %s:%d: %s", host, port,
              c != NULL ? c->errstr : "out of memory");
    redisSetTimeout(c, tv);
    return c;
}

redisContext *rf_client(void)
{
    redisContext *c = connect_to(g_host, g_port);
    redisReply *r = rf_cmd(c, 0, "SELECT %d", g_db);
    freeReplyObject(r);
    return c;
}

redisReply *rf_cmd(redisContext *c, int allow_error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    cr_assert_not_null(r, "%s: %s", fmt, c->errstr);
    if (!allow_error)
        cr_assert_neq(r->type, REDIS_REPLY_ERROR, "%s: %s", fmt, r->str);
    return r;
}

void rf_delete_prefix(redisContext *c, const char *prefix)
{
    char cursor[32] = "0";
    do {
        redisReply *r = rf_cmd(c, 0, "SCAN %s MATCH %s* COUNT 1000", cursor, prefix);
        cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        redisReply *keys = r->element[1];
        for (size_t i = 0; i < keys->elements; i++)
            freeReplyObject(rf_cmd(c, 0, "UNLINK %b", keys->element[i]->str,
                                   keys->element[i]->len));
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
}

static int bound_socket(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0, "bind: %s", strerror(errno));
    socklen_t len = sizeof a;
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

int rf_free_port(void)
{
    int port;
    close(bound_socket(&port)); /* the kernel does not hand it out again at once */
    return port;
}

int rf_blackhole(void)
{
    int port;
    int fd = bound_socket(&port);
    cr_assert_eq(listen(fd, 16), 0);
    cr_assert_lt(g_nholes, (size_t)MAX_HOLES);
    g_holes[g_nholes++] = fd;
    return port;
}

/* Starts redis-server and reads its output until it is ready. */
static void spawn(rf_server_t *s)
{
    int pipefd[2];
    cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    const char *argv[32] = {"redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no",
                            "--dir", s->dir, "--logfile", ""};
    size_t n = 17;
    for (size_t i = 0; s->args != NULL && s->args[i] != NULL && n < 31; i++)
        argv[n++] = s->args[i];
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        /* Dies with the test, even when the test dies first. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(pipefd[1], STDOUT_FILENO);
        dup2(pipefd[1], STDERR_FILENO);
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    s->pid = pid;
    char out[8192] = "";
    size_t have = 0;
    uint64_t deadline = now_ms() + READY_MS;
    while (strstr(out, "Ready to accept connections") == NULL) {
        uint64_t now = now_ms();
        struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
        int rc = now < deadline ? poll(&p, 1, (int)(deadline - now)) : 0;
        ssize_t got = rc > 0 ? read(pipefd[0], out + have, sizeof out - 1 - have) : 0;
        if (got <= 0) {
            close(pipefd[0]);
            cr_assert_fail("redis-server on port %d did not get ready (%s):\n%s", s->port,
                     rc == 0 ? "timed out" : "it exited", out);
        }
        have += (size_t)got;
        out[have] = '\0';
        if (have == sizeof out - 1) { /* keep the tail: the line may straddle */
            memmove(out, out + have / 2, have - have / 2 + 1);
            have -= have / 2;
        }
    }
    /* Redis ignores SIGPIPE: its later log lines just go nowhere. */
    close(pipefd[0]);
}

rf_server_t *rf_server_start(const char *const *args)
{
    size_t i = 0;
    while (i < MAX_SERVERS && (g_servers[i].pid != 0 || g_servers[i].dir[0] != '\0'))
        i++;
    cr_assert_lt(i, (size_t)MAX_SERVERS);
    rf_server_t *s = &g_servers[i];
    s->args = args;
    s->port = rf_free_port();
    snprintf(s->dir, sizeof s->dir, "/tmp/oc-redis-XXXXXX");
    cr_assert_not_null(mkdtemp(s->dir));
    spawn(s);
    return s;
}

void rf_server_kill(rf_server_t *s)
{
    cr_assert_gt(s->pid, 1);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

void rf_server_restart(rf_server_t *s)
{
    spawn(s);
}

void rf_server_pause(rf_server_t *s)
{
    cr_assert_gt(s->pid, 1);
    cr_assert_eq(kill(s->pid, SIGSTOP), 0);
}

void rf_server_resume(rf_server_t *s)
{
    cr_assert_gt(s->pid, 1);
    cr_assert_eq(kill(s->pid, SIGCONT), 0);
}

redisContext *rf_server_client(const rf_server_t *s, const char *password)
{
    redisContext *c = connect_to("127.0.0.1", s->port);
    if (password != NULL)
        freeReplyObject(rf_cmd(c, 0, "AUTH %s", password));
    return c;
}

oc_test_host_t *rf_load(const char *yaml, int32_t expect)
{
    oc_test_host_t *th = oc_test_host_new(yaml);
    cr_assert_not_null(th, "test host: %s", oc_test_host_last_error());
    int32_t rc = oc_test_host_load(th, rf_so);
    cr_assert_eq(rc, expect, "loading %s gave %d, not %d: %s", rf_so, rc, expect,
                 oc_test_host_errors(th));
    return th;
}

const oc_storage_ops_t *rf_ops(oc_test_host_t *th)
{
    const oc_storage_ops_t *o = oc_test_host_kind_ops(th, RF_PLUGIN);
    cr_assert_not_null(o);
    return o;
}

void *rf_state(oc_test_host_t *th)
{
    void *st = oc_test_host_state(th, RF_PLUGIN);
    cr_assert_not_null(st);
    return st;
}

size_t rf_plugin_clients(redisContext *c, long long *ids, size_t max)
{
    char name[64];
    snprintf(name, sizeof name, " name=openclaw-%ld ", (long)getpid());
    redisReply *r = rf_cmd(c, 0, "CLIENT LIST");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    size_t n = 0;
    for (char *line = r->str; line != NULL && *line != '\0' && n < max;) {
        char *end = strchr(line, '\n');
        if (end != NULL)
            *end = '\0';
        if (strstr(line, name) != NULL && strncmp(line, "id=", 3) == 0)
            ids[n++] = strtoll(line + 3, NULL, 10);
        line = end != NULL ? end + 1 : NULL;
    }
    freeReplyObject(r);
    return n;
}
