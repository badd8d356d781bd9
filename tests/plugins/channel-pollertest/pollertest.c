/* channel-pollertest - a test channel whose only job is single-poller work
 * under the host's lease_watch (ABI 1.2), for tests/integration/
 * shared_store.sh: it records, in a file shared by the gateways under test,
 * when this gateway got the lease, each "poll" while it holds it, and when
 * it lost it. Two gateways' records must never overlap in time.
 *
 *   channels:
 *     pollertest:
 *       file: /tmp/x/polls.log   # appended: "<pid> <event> <CLOCK_REALTIME ms>"
 *       ttlMs: 3000              # the lease's ttl
 *       intervalMs: 100          # one poll per interval while held
 *
 * It sends nothing (send fails with OC_ENOTSUP). The appends are a few
 * bytes to a local file with O_APPEND, one write() each: a test fixture, not
 * a pattern for real channels. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openclaw/plugin.h>

typedef struct pt_s {
    const oc_host_api_t *host;
    oc_plugin_t *self;
    char *file;
    int64_t ttl_ms, interval_ms;
    int fd;
    oc_lease_watch_t *watch;
    oc_timer_t *tick;
    int held;
    long polls;
} pt_t;

static void record(pt_t *p, const char *event)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char line[128];
    int n = snprintf(line, sizeof line, "%ld %s %lld\n", (long)getpid(), event,
                     (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    if (p->fd >= 0 && n > 0 && write(p->fd, line, (size_t)n) != n)
        p->host->log(p->self, OC_LOG_ERROR, "cannot append to %s", p->file);
}

static void on_tick(void *data)
{
    pt_t *p = data;
    p->polls++;
    record(p, "poll");
}

static void on_lease(void *data, int32_t held)
{
    pt_t *p = data;
    p->held = held;
    if (held) {
        record(p, "acquired");
        p->tick = p->host->timer_start(p->self, (uint64_t)p->interval_ms,
                                       (uint64_t)p->interval_ms, on_tick, p);
    } else {
        if (p->tick)
            p->host->timer_stop(p->tick);
        p->tick = NULL;
        record(p, "lost");
    }
}

static int32_t init(const oc_host_api_t *host, oc_plugin_t *self, oc_config_t *cfg, void **out)
{
    pt_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return OC_ENOMEM;
    p->host = host;
    p->self = self;
    p->fd = -1;
    const char *file = NULL;
    int bad = host->cfg_str(self, cfg, "file", NULL, &file) == OC_ECONFIG;
    bad |= host->cfg_int(self, cfg, "ttlMs", 3000, 1000, 600000, &p->ttl_ms) == OC_ECONFIG;
    bad |= host->cfg_int(self, cfg, "intervalMs", 100, 10, 60000, &p->interval_ms) ==
           OC_ECONFIG;
    (void)host->cfg_bool(self, cfg, "enabled", 1, &(int32_t){0});
    if (!bad && file == NULL) {
        host->cfg_error(self, cfg, "file is required (where polls are recorded)");
        bad = 1;
    }
    if (bad || (p->file = strdup(file)) == NULL) {
        free(p);
        return bad ? OC_ECONFIG : OC_ENOMEM;
    }
    *out = p;
    return OC_OK;
}

static int32_t start(void *state)
{
    pt_t *p = state;
    p->fd = open(p->file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (p->fd < 0) {
        p->host->log(p->self, OC_LOG_ERROR, "cannot open %s", p->file);
        return OC_EIO;
    }
    if (!OC_HOST_HAS(p->host, lease_watch))
        return OC_ENOTSUP;
    return p->host->lease_watch(p->self, "poller", (uint32_t)p->ttl_ms, on_lease, p, &p->watch);
}

static void stop(void *state, oc_stop_done_cb done, void *done_data)
{
    pt_t *p = state;
    if (p->tick)
        p->host->timer_stop(p->tick);
    p->tick = NULL;
    if (p->watch) {
        if (p->held)
            record(p, "released");
        p->host->lease_unwatch(p->watch);
        p->watch = NULL;
    }
    done(done_data);
}

static void destroy(void *state)
{
    pt_t *p = state;
    if (p == NULL)
        return;
    if (p->fd >= 0)
        close(p->fd);
    free(p->file);
    free(p);
}

static const char *channel_name(void *state)
{
    (void)state;
    return "pollertest";
}

static int32_t send_msg(void *state, const oc_outbound_t *msg, oc_send_cb cb, void *data)
{
    (void)state, (void)msg, (void)cb, (void)data;
    return OC_ENOTSUP;
}

static const char *status(void *state, const char **detail)
{
    pt_t *p = state;
    *detail = p->held ? "polling" : "standby (another gateway polls)";
    return "connected";
}

static const oc_plugin_ops_t plugin_ops = {
    OC_PLUGIN_OPS_INIT, .init = init, .start = start, .stop = stop, .destroy = destroy,
};

static const oc_channel_ops_t channel_ops = {
    OC_CHANNEL_OPS_INIT, .channel_name = channel_name, .send = send_msg, .status = status,
};

OC_PLUGIN_DEFINE(OC_KIND_CHANNEL, "channel-pollertest", "1.0.0",
                 "test fixture: single-poller work under lease_watch", &plugin_ops,
                 &channel_ops)
