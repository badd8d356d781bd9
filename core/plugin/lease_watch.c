/* plugin/lease_watch.c - the host's lease_watch / lease_unwatch (ABI 1.2):
 * keep trying to hold a storage lease for a plugin's single-poller work,
 * and tell the plugin when it got it and when it lost it.
 *
 * Home loop only. The lease is "<plugin name>:<name>", held in this
 * gateway's name (gw_instance_id). It is renewed every ttl/3. It counts as
 * lost when a renewal is refused, or when no renewal succeeded within 2/3
 * of the ttl since the last good one was asked for: by then the store may
 * let another gateway take it, and two pollers must never overlap. */
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "loop/loop.h"
#include "plugin/plugins.h"
#include "util/instance.h"

#define WATCH_TTL_DEFAULT 15000u
#define WATCH_TTL_MIN 1000u
#define WATCH_TTL_MAX 600000u
#define WATCH_NAME_MAX 128

struct oc_lease_watch_s {
    oc_plugin_t *self;
    char *lease;            /* "<plugin>:<name>" */
    uint32_t ttl_ms;
    oc_lease_watch_cb cb;
    void *data;
    oc_timer_t *timer;      /* the next attempt */
    int in_flight;          /* an acquire is waiting for its answer */
    int dead;               /* unwatched while in flight: free on the answer */
    int held;
    uint64_t valid_until;   /* monotonic ms: held is trusted until then */
};

static void attempt(void *data);

static void set_held(oc_lease_watch_t *w, int held)
{
    if (w->held == held)
        return;
    w->held = held;
    gw_log(held ? OC_LOG_INFO : OC_LOG_WARN, w->self->name, "lease %s %s", w->lease,
           held ? "acquired: this gateway runs it" : "lost: another gateway may take it");
    w->cb(w->data, held);
}

static void schedule(oc_lease_watch_t *w, uint64_t ms)
{
    w->timer = gw_host_api.timer_start(w->self, ms, 0, attempt, w);
}

static void watch_free(oc_lease_watch_t *w)
{
    free(w->lease);
    free(w);
}

typedef struct attempt_s {
    oc_lease_watch_t *w;
    uint64_t asked;         /* monotonic ms when the acquire was sent */
} attempt_t;

static void on_acquired(void *data, int32_t status, const oc_lease_t *lease)
{
    attempt_t *a = data;
    oc_lease_watch_t *w = a->w;
    uint64_t asked = a->asked;
    free(a);
    w->in_flight = 0;
    if (w->dead) {
        watch_free(w);
        return;
    }
    uint64_t now = gw_now_ms();
    if (status == OC_OK) {
        /* Measured from when we asked: the store's clock started then at the latest. */
        w->valid_until = asked + (uint64_t)w->ttl_ms * 2 / 3;
        if (w->valid_until > now)
            set_held(w, 1);
        else
            set_held(w, 0); /* the answer came too late to trust */
    } else {
        if (status != OC_EBUSY && w->held)
            gw_log(OC_LOG_WARN, w->self->name, "lease %s: renewal failed (%s)", w->lease,
                   gw_host_api.strerror(status));
        else if (status == OC_EBUSY && !w->held && lease && lease->holder)
            gw_log(OC_LOG_DEBUG, w->self->name, "lease %s is held by %s", w->lease,
                   lease->holder);
        set_held(w, 0);
    }
    schedule(w, w->held ? w->ttl_ms / 3 : w->ttl_ms / 3 < 1000 ? w->ttl_ms / 3 : 1000);
}

static void attempt(void *data)
{
    oc_lease_watch_t *w = data;
    w->timer = NULL;
    uint64_t now = gw_now_ms();
    if (w->held && now >= w->valid_until)
        set_held(w, 0); /* the last renewal is too old: stop before the lease can move */
    const oc_storage_t *st = gw_plugins_storage(w->self->set);
    attempt_t *a = malloc(sizeof(*a));
    int32_t rc = OC_ENOMEM;
    if (a != NULL && st != NULL) {
        a->w = w;
        a->asked = now;
        w->in_flight = 1;
        rc = st->ops->lease_acquire(st->state, w->lease, gw_instance_id(), w->ttl_ms,
                                    on_acquired, a);
    }
    if (rc == OC_PENDING || rc == OC_OK)
        return;
    w->in_flight = 0;
    free(a);
    set_held(w, 0);
    schedule(w, 1000);
}

static int name_ok(const char *s)
{
    size_t n = s ? strnlen(s, WATCH_NAME_MAX + 1) : 0;
    if (n == 0 || n > WATCH_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

int32_t gw_host_lease_watch(oc_plugin_t *self, const char *name, uint32_t ttl_ms,
                            oc_lease_watch_cb cb, void *data, oc_lease_watch_t **out)
{
    if (self == NULL || cb == NULL || out == NULL || !name_ok(name) ||
        (ttl_ms != 0 && (ttl_ms < WATCH_TTL_MIN || ttl_ms > WATCH_TTL_MAX))) {
        if (self)
            gw_log(OC_LOG_ERROR, self->name, "lease_watch: invalid name or ttl (name is "
                   "1..128 of [A-Za-z0-9._:-], ttl 0 or 1000..600000 ms)");
        return OC_EINVAL;
    }
    const oc_storage_t *st = gw_plugins_storage(self->set);
    if (st == NULL || st->ops->struct_size < offsetof(oc_storage_ops_t, lease_release) +
                                                 sizeof(st->ops->lease_release) ||
        st->ops->lease_acquire == NULL || st->ops->lease_release == NULL) {
        gw_log(OC_LOG_ERROR, self->name, "lease_watch: the storage plugin has no leases "
               "(it needs ABI 1.2)");
        return OC_ENOTSUP;
    }
    oc_lease_watch_t *w = calloc(1, sizeof(*w));
    size_t len = strlen(self->name) + 1 + strlen(name) + 1;
    if (w == NULL || (w->lease = malloc(len)) == NULL) {
        free(w);
        return OC_ENOMEM;
    }
    snprintf(w->lease, len, "%s:%s", self->name, name);
    w->self = self;
    w->ttl_ms = ttl_ms ? ttl_ms : WATCH_TTL_DEFAULT;
    w->cb = cb;
    w->data = data;
    *out = w;
    attempt(w);
    return OC_OK;
}

static void on_released(void *data, int32_t status)
{
    (void)data;
    (void)status;
}

void gw_host_lease_unwatch(oc_lease_watch_t *w)
{
    if (w == NULL)
        return;
    if (w->timer)
        gw_host_api.timer_stop(w->timer);
    w->timer = NULL;
    const oc_storage_t *st = gw_plugins_storage(w->self->set);
    /* Hand it over now rather than make the next gateway wait for the ttl. */
    if (w->held && st != NULL)
        (void)st->ops->lease_release(st->state, w->lease, gw_instance_id(), on_released, NULL);
    if (w->in_flight) {
        w->dead = 1; /* freed by on_acquired */
        return;
    }
    watch_free(w);
}
