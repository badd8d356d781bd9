/* messaging/inbound.c - accepting inbound messages (dedupe + durable), the
 * recovery scan at start, and dispatch to a session's lane. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "messaging/msg_int.h"

#define RECOVER_PAGE 256

void gw_msg_free(gw_msg_t *msg)
{
    if (msg == NULL)
        return;
    gw_envelope_free(&msg->env);
    free(msg);
}

/* The agent and session key of a message: 0, or -1 when the key is too long. */
static int route(gw_messaging_t *m, const gw_envelope_t *e, const gw_agent_cfg_t **agent,
                 char *key, size_t keylen)
{
    *agent = gw_route_agent(m->cfg, e->channel, e->account, e->peer_kind, e->peer_id);
    return gw_session_key(m->cfg, (*agent)->id, e, key, keylen) < 0 ? -1 : 0;
}

/* ---- accept ---- */

typedef struct accept_s {
    gw_messaging_t *m;
    oc_inbound_cb cb;
    void *data;
    gw_msg_t *msg;
    int32_t status;       /* for early failures answered through a post */
    const char *error;
} accept_t;

static void ack(accept_t *a, int32_t status, uint64_t id, int duplicate, const char *error)
{
    oc_inbound_ack_t k = {.struct_size = sizeof(k), .duplicate = duplicate, .id = id,
                          .error = error};
    a->cb(a->data, status, &k);
}

static void on_early_fail(void *data)
{
    accept_t *a = data;
    ack(a, a->status, 0, 0, a->error);
    gw_msg_free(a->msg);
    free(a);
}

static int32_t fail_later(accept_t *a, int32_t status, const char *error)
{
    a->status = status;
    a->error = error;
    if (gw_loop_post(a->m->home, on_early_fail, a) != 0) {
        gw_msg_free(a->msg);
        free(a);
        return OC_ECANCELED;
    }
    return OC_PENDING;
}

static void count_received(gw_messaging_t *m, const char *channel, const char *outcome)
{
    const char *lv[] = {channel, outcome};
    gw_metric_add(m->m_received, lv, 1);
}

static void on_inbox_put(void *data, int32_t status, uint64_t id, int32_t duplicate)
{
    accept_t *a = data;
    gw_messaging_t *m = a->m;
    gw_msg_op_end(m);
    gw_msg_t *msg = a->msg;
    if (status != OC_OK) {
        gw_log(OC_LOG_WARN, "inbound", "%s message %s not stored (%s): the channel will retry",
               msg->env.channel, msg->env.message_id, gw_host_api.strerror(status));
        count_received(m, msg->env.channel, "unavailable");
        ack(a, OC_EUNAVAIL, 0, 0, "storage unavailable");
        gw_msg_free(msg);
        free(a);
        return;
    }
    count_received(m, msg->env.channel, duplicate ? "duplicate" : "accepted");
    ack(a, OC_OK, id, duplicate, NULL);
    free(a);
    if (duplicate) {
        gw_msg_free(msg);
        return;
    }
    msg->inbox_id = id;
    if (m->recovering || !m->recovered) {
        /* The recovery scan may or may not see it: hold it, and decide when
         * the scan is over (gw_msg_recover's end). */
        msg->next = NULL;
        if (m->held_tail)
            m->held_tail->next = msg;
        else
            m->held_head = msg;
        m->held_tail = msg;
        return;
    }
    gw_msg_dispatch(m, msg);
}

int32_t gw_msg_inbound(void *ctx, oc_plugin_t *from, const oc_envelope_t *env, oc_inbound_cb cb,
                       void *data)
{
    gw_messaging_t *m = ctx;
    (void)from;
    accept_t *a = calloc(1, sizeof(*a));
    gw_msg_t *msg = calloc(1, sizeof(*msg));
    if (a == NULL || msg == NULL) {
        free(a);
        free(msg);
        return OC_ENOMEM;
    }
    a->m = m;
    a->cb = cb;
    a->data = data;
    a->msg = msg;
    const char *why = NULL;
    int rc = gw_envelope_from_oc(&msg->env, env, &why);
    if (rc != 0) {
        count_received(m, env->channel && strlen(env->channel) < 64 ? env->channel : "unknown",
                       "rejected");
        return fail_later(a, rc == -ENOMEM ? OC_ENOMEM : OC_EINVAL, why);
    }
    if (m->stopping)
        return fail_later(a, OC_ECANCELED, "the gateway is stopping");
    const char *htext = NULL;
    if (m->st == NULL || m->st->ops->health(m->st->state, &htext) != OC_OK) {
        count_received(m, msg->env.channel, "unavailable");
        return fail_later(a, OC_EUNAVAIL, "storage unavailable");
    }
    char *json = gw_envelope_to_json(&msg->env);
    if (json == NULL)
        return fail_later(a, OC_ENOMEM, "out of memory");
    /* Routing is a pure function of the config: stored with the item so a
     * gateway sharing the store can read a session's pending messages. */
    const gw_agent_cfg_t *agent;
    char key[GW_SESSION_KEY_MAX + 1];
    int keyed = route(m, &msg->env, &agent, key, sizeof(key)) == 0;
    oc_inbox_item_t item = {
        .struct_size = sizeof(item),
        .channel = msg->env.channel,
        .account = msg->env.account,
        .message_id = msg->env.message_id,
        .envelope_json = json,
        .received_ms = msg->env.received_ms,
        .session_key = keyed ? key : NULL,
    };
    gw_msg_op_begin(m);
    rc = m->st->ops->inbox_put(m->st->state, &item, on_inbox_put, a);
    free(json);
    if (rc != OC_PENDING && rc != OC_OK) {
        gw_msg_op_end(m);
        count_received(m, msg->env.channel, "unavailable");
        return fail_later(a, OC_EUNAVAIL, "storage refused the message");
    }
    return OC_PENDING;
}

/* ---- dispatch ---- */

void gw_msg_dispatch(gw_messaging_t *m, gw_msg_t *msg)
{
    const gw_envelope_t *e = &msg->env;
    const gw_agent_cfg_t *agent;
    char key[GW_SESSION_KEY_MAX + 1];
    if (route(m, e, &agent, key, sizeof(key)) < 0) {
        gw_log(OC_LOG_WARN, "inbound", "%s message %s: session key too long; dropped",
               e->channel, e->message_id);
        gw_drop_msgs(m, msg, "invalid");
        return;
    }
    gw_lane_enqueue(m, key, agent, msg);
}

/* ---- recovery ---- */

static void recover_page(gw_messaging_t *m);

static void recover_end(gw_messaging_t *m)
{
    m->recovering = 0;
    m->recovered = 1;
    gw_msg_t *msg = m->held_head;
    m->held_head = m->held_tail = NULL;
    while (msg) {
        gw_msg_t *next = msg->next;
        msg->next = NULL;
        if (msg->inbox_id > m->recovered_max) {
            gw_msg_dispatch(m, msg);
        } else {
            gw_msg_free(msg); /* the scan dispatched it already */
        }
        msg = next;
    }
    if (m->recovered_count)
        gw_log(OC_LOG_INFO, "inbound", "recovery: %zu pending message(s) resumed",
               m->recovered_count);
}

static void on_recover_page(void *data, int32_t status, const oc_inbox_item_t *const *items,
                            size_t count)
{
    gw_messaging_t *m = data;
    gw_msg_op_end(m);
    if (m->stopping) {
        recover_end(m);
        return;
    }
    if (status != OC_OK) {
        gw_log(OC_LOG_WARN, "inbound", "recovery scan failed (%s); retrying in 1 s",
               gw_host_api.strerror(status));
        gw_host_api.timer_start(NULL, 1000, 0, (oc_timer_cb)recover_page, m);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const oc_inbox_item_t *it = items[i];
        if (it->id > m->recover_cursor)
            m->recover_cursor = it->id;
        if (it->id > m->recovered_max)
            m->recovered_max = it->id;
        gw_msg_t *msg = calloc(1, sizeof(*msg));
        if (msg == NULL || gw_envelope_from_json(&msg->env, it->envelope_json) != 0) {
            gw_log(OC_LOG_ERROR, "inbound", "inbox item %llu is unreadable; marked done",
                   (unsigned long long)it->id);
            if (msg == NULL)
                continue;
            msg->inbox_id = it->id;
            gw_drop_msgs(m, msg, "invalid");
            continue;
        }
        msg->inbox_id = it->id;
        m->recovered_count++;
        gw_msg_dispatch(m, msg);
    }
    if (count == RECOVER_PAGE)
        recover_page(m);
    else
        recover_end(m);
}

static void recover_page(gw_messaging_t *m)
{
    gw_msg_op_begin(m);
    int rc = m->st->ops->inbox_pending(m->st->state, m->recover_cursor, RECOVER_PAGE,
                                       on_recover_page, m);
    if (rc != OC_PENDING && rc != OC_OK)
        on_recover_page(m, rc, NULL, 0);
}

void gw_msg_recover(gw_messaging_t *m)
{
    m->recovering = 1;
    recover_page(m);
}
