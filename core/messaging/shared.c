/* messaging/shared.c - several gateways on one store (PostgreSQL, Redis).
 *
 * Any gateway may accept any message; the store decides who runs what:
 *  - per session, one gateway at a time: a lane runs its head only while it
 *    holds the lease "session:<key>" (renewed while held, released when the
 *    lane empties);
 *  - in inbox id order across gateways: before each head, the lane is
 *    reconciled with the session's pending inbox (inbox_session_pending):
 *    items another gateway accepted join the lane in id order, and items it
 *    already processed leave it;
 *  - exactly once: commits carry OC_COMMIT_F_INBOX_PENDING, so a late
 *    commit for an item processed elsewhere applies nothing (outbox.c claims
 *    each delivery the same way);
 *  - nothing stranded: a periodic scan of the whole pending inbox hands items
 *    whose session no local lane holds to a lane, which waits for the lease
 *    (a dead gateway's lease expires) and then reconciles.
 * Main loop only. */
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "messaging/msg_int.h"
#include "util/instance.h"

#define LEASE_TTL_MS 30000
#define LEASE_RENEW_MS 10000
#define LEASE_BUSY_RETRY_MS 200
#define LEASE_ERROR_RETRY_MS 1000
#define SYNC_PAGE 256
#define ORPHAN_SCAN_MS 5000
#define ORPHAN_AGE_MS 3000 /* younger items are still on their way to a lane */
#define ORPHAN_PAGE 256

/* storage.h caps lease names at 255 bytes, session keys go to 512: a long
 * key is named by its 64-bit FNV-1a hash (a collision would only make two
 * sessions take turns, never break one). */
#define LEASE_KEY_MAX 200

static void lease_name(const gw_lane_t *l, char *buf, size_t len)
{
    size_t n = strlen(l->key);
    if (n <= LEASE_KEY_MAX) {
        snprintf(buf, len, "session:%s", l->key);
        return;
    }
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)l->key[i]) * 1099511628211ull;
    snprintf(buf, len, "session#%016llx:%.*s", (unsigned long long)h, 64, l->key);
}

/* Lane async steps keep a reference through l->busy; the lane is never
 * freed while busy. */
static void resume(gw_lane_t *l)
{
    l->busy = 0;
    gw_lane_pump(l);
}

/* ---- reconcile with the store ---- */

static int has_id(const oc_inbox_item_t *const *items, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (items[i]->id == id)
            return 1;
    return 0;
}

static int cmp_msg(const void *a, const void *b)
{
    const gw_msg_t *x = *(const gw_msg_t *const *)a, *y = *(const gw_msg_t *const *)b;
    /* Hook runs are not in the inbox: they keep their place after it. */
    uint64_t kx = x->hook ? UINT64_MAX : x->inbox_id, ky = y->hook ? UINT64_MAX : y->inbox_id;
    return kx < ky ? -1 : kx > ky;
}

static void reconcile(gw_lane_t *l, const oc_inbox_item_t *const *items, size_t n)
{
    gw_messaging_t *m = l->m;
    /* A full page may not show every pending item: ids past it are kept. */
    uint64_t horizon = n == SYNC_PAGE ? items[n - 1]->id : UINT64_MAX;
    size_t count = 0;
    for (gw_msg_t *p = l->head; p; p = p->next)
        count++;
    gw_msg_t **all = calloc(count + n + 1, sizeof(*all));
    if (all == NULL)
        return; /* keep the lane as it is; the commit guard still holds */
    size_t k = 0;
    gw_msg_t *p = l->head;
    while (p) {
        gw_msg_t *next = p->next;
        p->next = NULL;
        if (p->hook == NULL && p->inbox_id != 0 && p->inbox_id <= horizon &&
            !has_id(items, n, p->inbox_id)) {
            gw_msg_free(p); /* processed by another gateway (or by us, already) */
        } else {
            all[k++] = p;
        }
        p = next;
    }
    uint64_t now = gw_now_ms();
    for (size_t i = 0; i < n; i++) {
        int known = 0;
        for (size_t j = 0; j < k && !known; j++)
            known = all[j]->hook == NULL && all[j]->inbox_id == items[i]->id;
        if (known)
            continue;
        gw_msg_t *msg = calloc(1, sizeof(*msg));
        if (msg == NULL)
            break;
        if (gw_envelope_from_json(&msg->env, items[i]->envelope_json) != 0) {
            gw_log(OC_LOG_ERROR, "inbound", "inbox item %llu is unreadable; marked done",
                   (unsigned long long)items[i]->id);
            msg->inbox_id = items[i]->id;
            gw_drop_msgs(m, msg, "invalid");
            continue;
        }
        msg->inbox_id = items[i]->id;
        msg->enqueued_mono = now;
        msg->queued_behind = 1;
        all[k++] = msg;
    }
    qsort(all, k, sizeof(*all), cmp_msg);
    m->queued -= l->depth;
    l->head = l->tail = NULL;
    for (size_t i = 0; i < k; i++) {
        if (l->tail)
            l->tail->next = all[i];
        else
            l->head = all[i];
        l->tail = all[i];
    }
    l->depth = k;
    m->queued += k;
    free(all);
}

static void on_synced(void *data, int32_t status, const oc_inbox_item_t *const *items,
                      size_t n)
{
    gw_lane_t *l = data;
    gw_msg_op_end(l->m);
    if (status != OC_OK) {
        gw_log(OC_LOG_WARN, "queue", "session inbox read failed (%s); retrying",
               gw_host_api.strerror(status));
        l->busy = 0;
        gw_lane_wake_later(l, LEASE_ERROR_RETRY_MS);
        return;
    }
    reconcile(l, items, n);
    l->synced = 1;
    resume(l);
}

static void sync_lane(gw_lane_t *l)
{
    gw_messaging_t *m = l->m;
    gw_msg_op_begin(m);
    int32_t rc = m->st->ops->inbox_session_pending(m->st->state, l->key, 0, SYNC_PAGE,
                                                   on_synced, l);
    if (rc != OC_PENDING && rc != OC_OK)
        on_synced(l, rc, NULL, 0);
}

/* ---- the session lease ---- */

static void renew(void *data);

static void on_leased(void *data, int32_t status, const oc_lease_t *lease)
{
    gw_lane_t *l = data;
    gw_messaging_t *m = l->m;
    gw_msg_op_end(m);
    int renewal = l->renewing;
    l->renewing = 0;
    if (status == OC_OK) {
        l->leased = 1;
        if (l->renew == NULL)
            l->renew = gw_host_api.timer_start(NULL, LEASE_RENEW_MS, LEASE_RENEW_MS, renew, l);
        if (!renewal)
            sync_lane(l);
        else if (l->head == NULL && l->turn == NULL && !l->busy)
            gw_lane_pump(l); /* idle now: release and free */
        return;
    }
    if (l->leased)
        gw_log(OC_LOG_WARN, "queue", "lost the lease of a session (%s%s%s); its next "
               "message waits for it", gw_host_api.strerror(status),
               lease && lease->holder ? ", now held by " : "",
               lease && lease->holder ? lease->holder : "");
    l->leased = 0;
    if (l->renew) {
        gw_host_api.timer_stop(l->renew);
        l->renew = NULL;
    }
    if (renewal) {
        /* The running turn finishes; its commit is guarded. */
        if (l->head == NULL && l->turn == NULL && !l->busy)
            gw_lane_pump(l); /* frees the lane it kept alive */
        return;
    }
    l->busy = 0;
    gw_lane_wake_later(l, status == OC_EBUSY ? LEASE_BUSY_RETRY_MS : LEASE_ERROR_RETRY_MS);
}

static int acquire(gw_lane_t *l)
{
    gw_messaging_t *m = l->m;
    char name[GW_SESSION_KEY_MAX + 16];
    lease_name(l, name, sizeof(name));
    gw_msg_op_begin(m);
    int32_t rc = m->st->ops->lease_acquire(m->st->state, name, gw_instance_id(), LEASE_TTL_MS,
                                           on_leased, l);
    if (rc == OC_PENDING || rc == OC_OK)
        return 1;
    gw_msg_op_end(m);
    return 0;
}

static void renew(void *data)
{
    gw_lane_t *l = data;
    if (l->renewing || l->busy || l->m->stopping)
        return; /* an acquire is already on its way */
    l->renewing = 1;
    if (!acquire(l))
        l->renewing = 0;
}

int gw_shared_gate(gw_lane_t *l)
{
    if (!l->m->shared || l->synced)
        return 1;
    if (l->head && l->head->hook && l->head == l->tail && !l->leased)
        return 1; /* only a hook run: nothing of the inbox to order against */
    l->busy = 1;
    if (l->leased) {
        sync_lane(l);
        return 0;
    }
    if (!acquire(l)) {
        l->busy = 0;
        gw_lane_wake_later(l, LEASE_ERROR_RETRY_MS);
    }
    return 0;
}

void gw_shared_head_consumed(gw_lane_t *l)
{
    l->synced = 0;
}

static void on_released(void *data, int32_t status)
{
    gw_messaging_t *m = data;
    (void)status;
    gw_msg_op_end(m);
}

void gw_shared_lane_idle(gw_lane_t *l)
{
    gw_messaging_t *m = l->m;
    if (l->renew) {
        gw_host_api.timer_stop(l->renew);
        l->renew = NULL;
    }
    if (!l->leased)
        return;
    l->leased = 0;
    l->synced = 0;
    char name[GW_SESSION_KEY_MAX + 16];
    lease_name(l, name, sizeof(name));
    gw_msg_op_begin(m);
    int32_t rc = m->st->ops->lease_release(m->st->state, name, gw_instance_id(), on_released, m);
    if (rc != OC_PENDING && rc != OC_OK)
        gw_msg_op_end(m);
}

/* ---- orphans: pending items no gateway is working on ---- */

static void orphan_page(gw_messaging_t *m);

static void on_orphans(void *data, int32_t status, const oc_inbox_item_t *const *items,
                       size_t n)
{
    gw_messaging_t *m = data;
    gw_msg_op_end(m);
    if (m->stopping || status != OC_OK) {
        m->orphan_scanning = 0;
        return;
    }
    uint64_t cutoff = gw_wall_ms() - ORPHAN_AGE_MS;
    for (size_t i = 0; i < n; i++) {
        const oc_inbox_item_t *it = items[i];
        m->orphan_cursor = it->id;
        if (it->received_ms > cutoff || it->session_key == NULL)
            continue;
        if (gw_map_get(&m->lanes, it->session_key) != NULL)
            continue; /* a lane has the session: its next sync finds the item */
        gw_msg_t *msg = calloc(1, sizeof(*msg));
        if (msg == NULL)
            break;
        if (gw_envelope_from_json(&msg->env, it->envelope_json) != 0) {
            gw_msg_free(msg);
            continue; /* reconcile reports and settles unreadable items */
        }
        msg->inbox_id = it->id;
        gw_msg_dispatch(m, msg);
    }
    if (n == ORPHAN_PAGE) {
        orphan_page(m);
        return;
    }
    m->orphan_scanning = 0;
    m->orphan_cursor = 0;
}

static void orphan_page(gw_messaging_t *m)
{
    gw_msg_op_begin(m);
    int32_t rc = m->st->ops->inbox_pending(m->st->state, m->orphan_cursor, ORPHAN_PAGE,
                                           on_orphans, m);
    if (rc != OC_PENDING && rc != OC_OK) {
        gw_msg_op_end(m);
        m->orphan_scanning = 0;
    }
}

static void on_orphan_timer(void *data)
{
    gw_messaging_t *m = data;
    if (m->orphan_scanning || m->stopping || !m->recovered)
        return;
    m->orphan_scanning = 1;
    m->orphan_cursor = 0;
    orphan_page(m);
}

void gw_shared_start(gw_messaging_t *m)
{
    if (!m->shared)
        return;
    gw_log(OC_LOG_INFO, "messaging", "shared store: sessions are leased per gateway (this "
           "one is %s)", gw_instance_id());
    m->orphan_timer =
        gw_host_api.timer_start(NULL, ORPHAN_SCAN_MS, ORPHAN_SCAN_MS, on_orphan_timer, m);
}

void gw_shared_stop(gw_messaging_t *m)
{
    if (m->orphan_timer) {
        gw_host_api.timer_stop(m->orphan_timer);
        m->orphan_timer = NULL;
    }
}
