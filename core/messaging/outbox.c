/* messaging/outbox.c - delivering replies from the durable outbox through
 * the channels, retried with exponential backoff, at most OUT_MAX_INFLIGHT
 * sends at once. A scan cursor finds new items; a periodic sweep from the
 * start finds anything the cursor passed (items committed out of id order
 * by a multi-connection storage). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "messaging/msg_int.h"
#include "util/instance.h"

#define OUT_PAGE 256
#define OUT_MAX_INFLIGHT 512
#define OUT_MAX_ATTEMPTS 10
#define OUT_BACKOFF_MIN_MS 500
#define OUT_BACKOFF_MAX_MS 60000
#define OUT_SWEEP_MS 30000
#define OUT_CLAIM_MS 120000 /* longer than any channel send takes */
/* A store with several connections (PostgreSQL) may make an id visible
 * after larger ones: a scan after a commit starts this many ids behind the
 * cursor, so a reply committed late is found now, not at the next sweep.
 * Items already in flight come back and are skipped. */
#define OUT_LAG_IDS 2048

typedef struct delivery_s {
    gw_messaging_t *m;
    uint64_t id;
    char idkey[24]; /* the id as text: key of m->out_ids */
    char *idem, *channel, *account, *peer_id, *text, *in_reply_to, *error;
    int peer_kind;
    uint32_t attempts;
    uint32_t new_state;
    uint64_t next_ms;
    oc_timer_t *timer;
    int sending;
    char *peer_key;              /* channel, account and peer: key of m->out_peers */
    struct delivery_s *peer_next; /* the peer's later replies, parked in id order */
    uint64_t first_ms;           /* when the first attempt is due (wall clock) */
} delivery_t;

static void scan(gw_messaging_t *m, uint64_t after);
static void deliver(delivery_t *d);

static void start(delivery_t *d);

/* Replies to one peer go out one at a time, in id (commit) order: a reply
 * waiting for a retry holds back the later ones, so a conversation never
 * reads answers out of order. The active delivery heads m->out_peers. */
static void peer_done(delivery_t *d)
{
    gw_messaging_t *m = d->m;
    delivery_t *head = d->peer_key ? gw_map_get(&m->out_peers, d->peer_key) : NULL;
    if (head == NULL)
        return;
    if (head != d) { /* parked: unlink */
        for (delivery_t *p = head; p->peer_next; p = p->peer_next)
            if (p->peer_next == d) {
                p->peer_next = d->peer_next;
                break;
            }
        return;
    }
    delivery_t *next = d->peer_next;
    if (next == NULL) {
        gw_map_remove(&m->out_peers, d->peer_key);
        return;
    }
    /* The same key: next becomes the peer's active delivery. */
    if (gw_map_set(&m->out_peers, d->peer_key, next) != 0) {
        gw_map_remove(&m->out_peers, d->peer_key);
        for (delivery_t *p = next; p; p = p->peer_next) {
            free(p->peer_key); /* out of memory: the rest go on unordered */
            p->peer_key = NULL;
        }
        for (delivery_t *p = next->peer_next, *n; p && !m->stopping; p = n) {
            n = p->peer_next;
            p->peer_next = NULL;
            start(p);
        }
        next->peer_next = NULL;
    }
    if (!m->stopping)
        start(next);
}

static void delivery_free(delivery_t *d)
{
    gw_messaging_t *m = d->m;
    peer_done(d);
    free(d->peer_key);
    gw_map_remove(&m->out_ids, d->idkey);
    m->out_inflight--;
    if (d->timer)
        gw_host_api.timer_stop(d->timer);
    free(d->idem);
    free(d->channel);
    free(d->account);
    free(d->peer_id);
    free(d->text);
    free(d->in_reply_to);
    free(d->error);
    free(d);
}

static void count_sent(gw_messaging_t *m, const char *channel, const char *outcome)
{
    const char *lv[] = {channel, outcome};
    gw_metric_add(m->m_sent, lv, 1);
}

static void on_timer(void *data)
{
    delivery_t *d = data;
    d->timer = NULL;
    gw_msg_op_end(d->m);
    deliver(d);
}

static void after(delivery_t *d, uint64_t ms, void (*fn)(void *))
{
    gw_msg_op_begin(d->m);
    d->timer = gw_host_api.timer_start(NULL, ms, 0, fn, d);
    if (d->timer == NULL) {
        gw_msg_op_end(d->m);
        delivery_free(d);
    }
}

static void update(delivery_t *d);

static void on_update_retry(void *data)
{
    delivery_t *d = data;
    d->timer = NULL;
    gw_msg_op_end(d->m);
    update(d);
}

static void on_updated(void *data, int32_t status)
{
    delivery_t *d = data;
    gw_messaging_t *m = d->m;
    gw_msg_op_end(m);
    int resume = m->out_inflight >= OUT_MAX_INFLIGHT;
    if (status != OC_OK && status != OC_ENOENT) {
        if (m->stopping) {
            delivery_free(d);
            return;
        }
        /* Until the state is stored, a restart would send again (with the
         * same idempotency key): keep trying. */
        after(d, 1000, on_update_retry);
        return;
    }
    if (d->new_state == OC_OUTBOX_PENDING && !m->stopping) {
        uint64_t now = gw_wall_ms();
        after(d, d->next_ms > now ? d->next_ms - now : 0, on_timer);
        return;
    }
    delivery_free(d);
    if (resume)
        gw_outbox_kick(m);
}

static void update(delivery_t *d)
{
    gw_messaging_t *m = d->m;
    gw_msg_op_begin(m);
    int32_t rc = m->st->ops->outbox_update(m->st->state, d->id, d->new_state, d->attempts,
                                           d->next_ms, d->error, on_updated, d);
    if (rc != OC_PENDING && rc != OC_OK)
        on_updated(d, rc);
}

static void on_sent(void *data, const oc_send_result_t *res)
{
    delivery_t *d = data;
    gw_messaging_t *m = d->m;
    gw_msg_op_end(m);
    d->sending = 0;
    d->attempts++;
    free(d->error);
    d->error = NULL;
    if (res->status == OC_OK) {
        count_sent(m, d->channel, "sent");
        d->new_state = OC_OUTBOX_SENT;
        d->next_ms = 0;
    } else {
        d->error = strdup(res->error ? res->error : gw_host_api.strerror(res->status));
        if (res->retryable && d->attempts < OUT_MAX_ATTEMPTS) {
            uint64_t wait = (uint64_t)OUT_BACKOFF_MIN_MS << (d->attempts < 8 ? d->attempts : 8);
            if (wait > OUT_BACKOFF_MAX_MS)
                wait = OUT_BACKOFF_MAX_MS;
            if (res->retry_after_ms > wait)
                wait = res->retry_after_ms;
            count_sent(m, d->channel, "retry");
            gw_log(OC_LOG_WARN, "outbox", "%s: send failed (%s); retry %u in %llu ms",
                   d->channel, d->error ? d->error : "?", d->attempts,
                   (unsigned long long)wait);
            d->new_state = OC_OUTBOX_PENDING;
            d->next_ms = gw_wall_ms() + wait;
        } else {
            count_sent(m, d->channel, "failed");
            gw_log(OC_LOG_WARN, "outbox", "%s: reply to %s not delivered after %u attempt(s): "
                   "%s", d->channel, d->peer_id, d->attempts, d->error ? d->error : "?");
            d->new_state = OC_OUTBOX_FAILED;
        }
    }
    update(d);
}

static void send_now(delivery_t *d);

/* Shared store: one attempt = one claim, so two gateways never send an
 * item at once, and one that was sent meanwhile is not sent again. */
static void on_claimed(void *data, int32_t status, const oc_outbox_item_t *item)
{
    delivery_t *d = data;
    gw_messaging_t *m = d->m;
    gw_msg_op_end(m);
    if (m->stopping || status == OC_EBUSY || status == OC_EEXIST || status == OC_ENOENT) {
        delivery_free(d); /* another gateway has it, or it is settled */
        return;
    }
    if (status != OC_OK) {
        after(d, OUT_BACKOFF_MIN_MS * 2, on_timer);
        return;
    }
    d->attempts = item->attempts;
    send_now(d);
}

static void deliver(delivery_t *d)
{
    gw_messaging_t *m = d->m;
    if (m->stopping) {
        delivery_free(d);
        return;
    }
    if (m->shared) {
        gw_msg_op_begin(m);
        int32_t rc = m->st->ops->outbox_claim(m->st->state, d->id, gw_instance_id(),
                                              OUT_CLAIM_MS, on_claimed, d);
        if (rc != OC_PENDING && rc != OC_OK)
            on_claimed(d, rc, NULL);
        return;
    }
    send_now(d);
}

static void send_now(delivery_t *d)
{
    gw_messaging_t *m = d->m;
    oc_plugin_t *ch = gw_plugins_channel(m->ps, d->channel);
    if (ch == NULL) {
        oc_send_result_t r = {.struct_size = sizeof(r), .status = OC_EUNAVAIL, .retryable = 1,
                              .error = "channel not running"};
        gw_msg_op_begin(m);
        on_sent(d, &r);
        return;
    }
    oc_outbound_t out = {
        .struct_size = sizeof(out),
        .peer_kind = (uint32_t)d->peer_kind,
        .account = d->account,
        .peer_id = d->peer_id,
        .text = d->text,
        .in_reply_to = d->in_reply_to,
        .idempotency_key = d->idem,
    };
    d->sending = 1;
    gw_msg_op_begin(m);
    int32_t rc = ch->mod->k.channel.send(ch->state, &out, on_sent, d);
    if (rc != OC_PENDING && rc != OC_OK) {
        oc_send_result_t r = {.struct_size = sizeof(r), .status = rc,
                              .retryable = rc == OC_EAGAIN || rc == OC_EUNAVAIL,
                              .error = "the channel refused the message"};
        on_sent(d, &r);
    }
}

static char *dup0(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void take(gw_messaging_t *m, const oc_outbox_item_t *it)
{
    delivery_t *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return;
    d->m = m;
    d->id = it->id;
    snprintf(d->idkey, sizeof(d->idkey), "%llu", (unsigned long long)it->id);
    d->idem = dup0(it->idempotency_key);
    d->channel = dup0(it->channel);
    d->account = dup0(it->account);
    d->peer_id = dup0(it->peer_id);
    d->text = dup0(it->text);
    d->in_reply_to = dup0(it->in_reply_to);
    d->peer_kind = (int)it->peer_kind;
    d->attempts = it->attempts;
    if (!d->channel || !d->peer_id || !d->text || gw_map_set(&m->out_ids, d->idkey, d) != 0) {
        free(d->idem);
        free(d->channel);
        free(d->account);
        free(d->peer_id);
        free(d->text);
        free(d->in_reply_to);
        free(d);
        return;
    }
    m->out_inflight++;
    d->first_ms = it->next_attempt_ms;
    size_t klen = strlen(d->channel) + strlen(d->account ? d->account : "") +
                  strlen(d->peer_id) + 3;
    d->peer_key = malloc(klen);
    if (d->peer_key != NULL)
        snprintf(d->peer_key, klen, "%s\x1f%s\x1f%s", d->channel,
                 d->account ? d->account : "", d->peer_id);
    delivery_t *head = d->peer_key ? gw_map_get(&m->out_peers, d->peer_key) : NULL;
    if (head != NULL) {
        /* Parked behind the peer's earlier replies, in id order. */
        delivery_t *p = head;
        while (p->peer_next && p->peer_next->id < d->id)
            p = p->peer_next;
        d->peer_next = p->peer_next;
        p->peer_next = d;
        return;
    }
    if (d->peer_key && gw_map_set(&m->out_peers, d->peer_key, d) != 0) {
        free(d->peer_key);
        d->peer_key = NULL;
    }
    start(d);
}

static void start(delivery_t *d)
{
    uint64_t now = gw_wall_ms();
    if (d->first_ms > now)
        after(d, d->first_ms - now, on_timer);
    else
        deliver(d);
}

static void on_page(void *data, int32_t status, const oc_outbox_item_t *const *items,
                    size_t count)
{
    gw_messaging_t *m = data;
    gw_msg_op_end(m);
    m->out_scanning = 0;
    if (status != OC_OK) {
        m->out_rescan = 0;
        return; /* the sweep or the next kick tries again */
    }
    int full = 0;
    for (size_t i = 0; i < count && !m->stopping; i++) {
        const oc_outbox_item_t *it = items[i];
        char k[24];
        snprintf(k, sizeof(k), "%llu", (unsigned long long)it->id);
        if (gw_map_get(&m->out_ids, k)) {
            if (it->id > m->out_cursor)
                m->out_cursor = it->id;
            continue;
        }
        if (m->out_inflight >= OUT_MAX_INFLIGHT) {
            full = 1; /* resumes from here when sends complete */
            break;
        }
        if (it->id > m->out_cursor)
            m->out_cursor = it->id;
        take(m, it);
    }
    if (m->stopping || full)
        return;
    if (count == OUT_PAGE) {
        scan(m, items[count - 1]->id); /* the next page */
    } else if (m->out_rescan) {
        m->out_rescan = 0;
        gw_outbox_kick(m);
    }
}

static void scan(gw_messaging_t *m, uint64_t after)
{
    if (m->stopping || m->st == NULL)
        return;
    m->out_scanning = 1;
    gw_msg_op_begin(m);
    int32_t rc = m->st->ops->outbox_pending(m->st->state, after, OUT_PAGE, on_page, m);
    if (rc != OC_PENDING && rc != OC_OK)
        on_page(m, rc, NULL, 0);
}

void gw_outbox_kick(gw_messaging_t *m)
{
    if (m->out_scanning) {
        m->out_rescan = 1;
        return;
    }
    uint64_t after = m->out_cursor;
    if (m->shared)
        after = after > OUT_LAG_IDS ? after - OUT_LAG_IDS : 0;
    scan(m, after);
}

static void on_sweep(void *data)
{
    gw_messaging_t *m = data;
    m->out_cursor = 0;
    gw_outbox_kick(m);
}

void gw_outbox_start(gw_messaging_t *m)
{
    m->out_cursor = 0;
    m->out_sweep = gw_host_api.timer_start(NULL, OUT_SWEEP_MS, OUT_SWEEP_MS, on_sweep, m);
    gw_outbox_kick(m);
}

/* Map walk: appends each delivery to the array behind arg (the map must
 * not change while it is walked, so callers free afterwards). */
static void collect(const char *key, void *value, void *arg)
{
    (void)key;
    delivery_t ***list = arg;
    **list = value;
    (*list)++;
}

void gw_outbox_stop(gw_messaging_t *m)
{
    if (m->out_sweep) {
        gw_host_api.timer_stop(m->out_sweep);
        m->out_sweep = NULL;
    }
    /* Deliveries waiting on a timer end now; sends in flight end when the
     * channel answers (channels stop after the messaging core). */
    size_t n = m->out_ids.count;
    if (n == 0)
        return;
    delivery_t **all = calloc(n, sizeof(*all)), **p = all;
    if (all == NULL)
        return;
    gw_map_each(&m->out_ids, collect, &p);
    for (size_t i = 0; i < n; i++)
        if (all[i]->timer) {
            gw_host_api.timer_stop(all[i]->timer);
            all[i]->timer = NULL;
            gw_msg_op_end(m);
            delivery_free(all[i]);
        }
    free(all);
}

void gw_outbox_free(gw_messaging_t *m)
{
    size_t n = m->out_ids.count;
    delivery_t **all = n ? calloc(n, sizeof(*all)) : NULL, **p = all;
    if (all) {
        gw_map_each(&m->out_ids, collect, &p);
        for (size_t i = 0; i < n; i++)
            delivery_free(all[i]);
        free(all);
    }
    gw_map_free(&m->out_ids);
    gw_map_free(&m->out_peers);
}
