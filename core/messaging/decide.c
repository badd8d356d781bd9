/* messaging/decide.c - policy for a lane's head message, and settling the
 * messages that get no agent run: drops, context-only group messages and
 * the DM pairing flow. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "messaging/cjob.h"
#include "messaging/msg_int.h"

#define PAIRING_CODE_TRIES 10

/* ---- decision ---- */

typedef struct allow_ctx_s {
    gw_lane_t *l;
    gw_msg_t *msg;
} allow_ctx_t;

static void on_allow(void *data, int32_t status)
{
    allow_ctx_t *c = data;
    gw_lane_t *l = c->l;
    gw_msg_op_end(l->m);
    l->busy = 0;
    if (status == OC_OK) {
        c->msg->verdict = GW_VERDICT_RUN;
    } else if (status == OC_ENOENT) {
        c->msg->verdict = GW_VERDICT_PAIRING;
    } else {
        gw_log(OC_LOG_WARN, "policy", "allow-list lookup failed (%s); retrying in 1 s",
               gw_host_api.strerror(status));
        free(c);
        gw_lane_wake_later(l, 1000);
        return;
    }
    free(c);
    gw_lane_pump(l);
}

int gw_decide(gw_lane_t *l, gw_msg_t *msg)
{
    gw_messaging_t *m = l->m;
    if (msg->hook) {
        msg->verdict = GW_VERDICT_RUN;
        return 1;
    }
    const char *reason = NULL;
    int v = gw_policy_decide(gw_msg_policy(m, msg->env.channel),
                             gw_msg_agent_mentions(m, l->agent), &msg->env, &reason);
    if (v != GW_VERDICT_PAIRING) {
        msg->verdict = v;
        if (v != GW_VERDICT_RUN)
            gw_log(OC_LOG_DEBUG, "policy", "%s message %s: %s (%s)", msg->env.channel,
                   msg->env.message_id, v == GW_VERDICT_DROP ? "dropped" : "kept as context",
                   reason ? reason : "policy");
        return 1;
    }
    /* dmPolicy pairing and not in allowFrom: senders approved through
     * pairing are in the storage's allow list. */
    allow_ctx_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        gw_lane_wake_later(l, 1000);
        return 0;
    }
    c->l = l;
    c->msg = msg;
    l->busy = 1;
    gw_msg_op_begin(m);
    int32_t rc = m->st->ops->allow_check(m->st->state, msg->env.channel, msg->env.account,
                                         msg->env.sender_id, on_allow, c);
    if (rc != OC_PENDING && rc != OC_OK)
        on_allow(c, rc);
    return 0;
}

/* ---- settling ---- */

typedef struct settle_s {
    gw_lane_t *l;       /* NULL for drops outside lane order */
    gw_messaging_t *m;
    gw_msg_t *msgs;
    const char *what;
    int tries;
    char code[GW_PAIRING_CODE_LEN + 1];
} settle_t;

static void settle_free(settle_t *s)
{
    gw_msg_t *msg = s->msgs;
    while (msg) {
        gw_msg_t *n = msg->next;
        gw_msg_free(msg);
        msg = n;
    }
    free(s);
}

static void on_settled(gw_cjob_t *j, int32_t status, void *ctx)
{
    settle_t *s = ctx;
    (void)j;
    /* OC_EEXIST: processed already (another gateway, or an earlier try). */
    if (status != OC_OK && status != OC_EEXIST)
        gw_log(OC_LOG_WARN, "messaging", "could not record a %s message as processed (%s); "
               "it stays pending and is handled again at the next start", s->what,
               gw_host_api.strerror(status));
    else if (s->msgs && s->msgs->hook == NULL)
        gw_outbox_kick(s->m);
    gw_lane_t *l = s->l;
    settle_free(s);
    if (l) {
        l->busy = 0;
        gw_lane_pump(l);
    }
}

/* Commits "done" for s->msgs (plus whatever the caller put in j). */
static void settle_commit(settle_t *s, gw_cjob_t *j)
{
    for (gw_msg_t *msg = s->msgs; msg; msg = msg->next)
        if (msg->inbox_id)
            gw_cjob_inbox_done(j, msg->inbox_id);
    gw_cjob_run(j, on_settled, s);
}

void gw_drop_msgs(gw_messaging_t *m, gw_msg_t *list, const char *reason)
{
    for (gw_msg_t *msg = list; msg; msg = msg->next) {
        const char *lv[] = {reason};
        gw_metric_add(m->m_dropped, lv, 1);
        if (msg->hook) {
            gw_hook_done(msg->hook, OC_ELIMIT, NULL, "the session's queue is full", NULL);
            msg->hook = NULL;
        }
    }
    settle_t *s = calloc(1, sizeof(*s));
    gw_cjob_t *j = gw_cjob_new(m);
    if (s == NULL || j == NULL) {
        free(s);
        free(j);
        return; /* still pending in storage: handled at the next start */
    }
    s->m = m;
    s->msgs = list;
    s->what = "dropped";
    settle_commit(s, j);
}

static char *turn_meta(const gw_msg_t *msg)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "channel", json_object_new_string(msg->env.channel));
    json_object_object_add(o, "sender", json_object_new_string(msg->env.sender_id));
    if (msg->env.sender_name)
        json_object_object_add(o, "senderName", json_object_new_string(msg->env.sender_name));
    json_object_object_add(o, "messageId", json_object_new_string(msg->env.message_id));
    char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

char *gw_msg_turn_meta(const gw_msg_t *msg)
{
    return turn_meta(msg);
}

static void settle_context(settle_t *s)
{
    gw_msg_t *msg = s->msgs;
    gw_cjob_t *j = gw_cjob_new(s->m);
    if (j == NULL) {
        on_settled(NULL, OC_ENOMEM, s);
        return;
    }
    char *meta = turn_meta(msg);
    gw_cjob_session(j, s->l->key, s->l->agent->id, msg->env.channel);
    gw_cjob_turn(j, "user", msg->env.text, meta, msg->env.received_ms);
    free(meta);
    settle_commit(s, j);
}

/* ---- pairing ---- */

static void pairing_step(settle_t *s);

static void on_pairing(void *data, int32_t status, const oc_pairing_t *req, int32_t created)
{
    settle_t *s = data;
    gw_messaging_t *m = s->m;
    gw_msg_op_end(m);
    gw_msg_t *msg = s->msgs;
    const char *ch = msg->env.channel;
    gw_cjob_t *j = gw_cjob_new(m);
    if (j == NULL) {
        on_settled(NULL, OC_ENOMEM, s);
        return;
    }
    if (status == OC_EEXIST && ++s->tries < PAIRING_CODE_TRIES) {
        free(j);
        pairing_step(s);
        return;
    }
    /* Recovery after a crash between the request and its reply: the
     * request remembers which inbox item created it, so the code goes out
     * once, exactly as it would have. */
    int reply = 0;
    if (status == OC_OK && req) {
        reply = created;
        if (!created && req->meta_json) {
            char want[48];
            snprintf(want, sizeof(want), "\"inbox\":%llu", (unsigned long long)msg->inbox_id);
            reply = strstr(req->meta_json, want) != NULL;
        }
    }
    const char *outcome = status == OC_ELIMIT ? "limited"
                          : status != OC_OK   ? "error"
                          : reply             ? "created"
                                              : "existing";
    const char *lv[] = {ch, outcome};
    gw_metric_add(m->m_pairing, lv, 1);
    if (status == OC_ELIMIT)
        gw_log(OC_LOG_INFO, "pairing", "%s: %u pairing requests already pending for account "
               "%s; no code for sender %s", ch, GW_PAIRING_MAX_PENDING, msg->env.account,
               msg->env.sender_id);
    else if (status != OC_OK)
        gw_log(OC_LOG_WARN, "pairing", "%s: pairing request failed (%s)", ch,
               gw_host_api.strerror(status));
    if (reply) {
        gw_log(OC_LOG_INFO, "pairing", "%s: pairing code for sender %s (account %s); approve "
               "with: openclaw pairing approve %s <code>", ch, msg->env.sender_id,
               msg->env.account, ch);
        char *text = gw_pairing_reply_text(ch, msg->env.sender_id, req->code);
        char key[64];
        snprintf(key, sizeof(key), "pair:%llu", (unsigned long long)msg->inbox_id);
        gw_cjob_outbox(j, key, ch, msg->env.account, OC_PEER_DIRECT, msg->env.peer_id,
                       text ? text : "", msg->env.message_id);
        free(text);
    }
    settle_commit(s, j);
}

static void pairing_step(settle_t *s)
{
    gw_messaging_t *m = s->m;
    gw_msg_t *msg = s->msgs;
    if (gw_pairing_code(s->code) != 0) {
        on_pairing(s, OC_EIO, NULL, 0);
        return;
    }
    char meta[160];
    snprintf(meta, sizeof(meta), "{\"inbox\":%llu}", (unsigned long long)msg->inbox_id);
    uint64_t now = gw_wall_ms();
    oc_pairing_t req = {
        .struct_size = sizeof(req),
        .channel = msg->env.channel,
        .account = msg->env.account,
        .sender_id = msg->env.sender_id,
        .code = s->code,
        .meta_json = meta,
        .expires_ms = now + GW_PAIRING_TTL_MS,
    };
    gw_msg_op_begin(m);
    int32_t rc = m->st->ops->pairing_request(m->st->state, &req, GW_PAIRING_MAX_PENDING, now,
                                             on_pairing, s);
    if (rc != OC_PENDING && rc != OC_OK)
        on_pairing(s, rc, NULL, 0);
}

void gw_settle(gw_lane_t *l, gw_msg_t *msg)
{
    settle_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        gw_msg_free(msg); /* pending in storage; retried at the next start */
        return;
    }
    s->l = l;
    s->m = l->m;
    s->msgs = msg;
    msg->next = NULL;
    l->busy = 1;
    switch (msg->verdict) {
    case GW_VERDICT_CONTEXT:
        s->what = "context";
        settle_context(s);
        break;
    case GW_VERDICT_PAIRING:
        s->what = "pairing";
        pairing_step(s);
        break;
    default: {
        s->what = "dropped";
        const char *lv[] = {"policy"};
        gw_metric_add(l->m->m_dropped, lv, 1);
        gw_cjob_t *j = gw_cjob_new(l->m);
        if (j == NULL) {
            on_settled(NULL, OC_ENOMEM, s);
            return;
        }
        settle_commit(s, j);
        break;
    }
    }
}
