/* messaging/turn.c - one agent turn: reset handling, history, the provider
 * chain (a run of core/llm: fallbacks, cooldown, provider metrics), the turn
 * timeout, and the atomic commit of the transcript, the reply (outbox) and
 * the inbox state. An OpenAI API request (api_turn.c) rides a hook run and
 * may stream: its chunks go to the client as they come. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/oai_json.h"
#include "log/log.h"
#include "messaging/cjob.h"
#include "messaging/msg_int.h"

#define RESET_REPLY "New session started."

struct gw_turn_s {
    gw_lane_t *l;
    gw_messaging_t *m;
    gw_msg_t *msgs;           /* owned: the batch, oldest first */
    char *text;               /* owned: the user text sent to the model */
    const char *first_text;   /* the first message's own text (reset trigger
                                 stripped); borrowed from msgs */
    int reset;
    int reset_only;           /* the message was only a reset trigger */
    json_object *history;     /* owned: array of {role, content} */
    char *body;               /* owned: the chat request JSON */
    gw_llm_run_t *run;        /* the provider chain's run in flight */
    gw_api_run_t *api;        /* an OpenAI API request's run, or NULL */
    oc_timer_t *timeout;
    uint64_t started_mono;
    int aborting;             /* interrupt: hand the messages back */
    int canceled;             /* stop */
    int committing;
    char *reply;              /* owned */
    char *error;              /* owned: why the chain failed */
};

static const char *agent_system_prompt(gw_messaging_t *m, const gw_agent_cfg_t *a, char *buf,
                                       size_t len)
{
    if (a->system_prompt)
        return a->system_prompt;
    if (m->cfg->agent_defaults.system_prompt)
        return m->cfg->agent_defaults.system_prompt;
    const gw_identity_cfg_t *id = &m->cfg->identity;
    const char *name = id->name ? id->name : a->name ? a->name : "OpenClaw";
    int n = snprintf(buf, len, "You are %s%s%s, a helpful assistant.", name,
                     id->emoji ? " " : "", id->emoji ? id->emoji : "");
    if (id->theme && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " Your style: %s.", id->theme);
    return buf;
}

static void turn_free(gw_turn_t *t)
{
    gw_msg_t *msg = t->msgs;
    while (msg) {
        gw_msg_t *n = msg->next;
        if (msg->hook) /* not answered on the way: the turn was canceled */
            gw_hook_done(msg->hook, OC_ECANCELED, NULL, "the turn was canceled", t->l->key);
        gw_msg_free(msg);
        msg = n;
    }
    free(t->text);
    if (t->history)
        json_object_put(t->history);
    free(t->body);
    if (t->timeout)
        gw_host_api.timer_stop(t->timeout);
    free(t->reply);
    free(t->error);
    free(t);
}

static void count_turn(gw_turn_t *t, const char *outcome)
{
    const char *lv[] = {t->l->agent->id, outcome};
    gw_metric_add(t->m->m_turns, lv, 1);
    const char *dv[] = {t->l->agent->id};
    gw_metric_observe(t->m->m_turn_seconds, dv,
                      (double)(gw_now_ms() - t->started_mono) / 1000.0);
}

/* Ends the turn; the lane goes on. */
static void turn_end(gw_turn_t *t, int requeue)
{
    gw_lane_t *l = t->l;
    gw_msg_t *back = NULL;
    if (requeue) {
        back = t->msgs;
        t->msgs = NULL;
        if (t->api) /* it waits in the lane again, without a turn */
            gw_api_turn_detach(t->api);
    }
    turn_free(t);
    gw_lane_turn_ended(l, back);
}

static void hook_answer(gw_turn_t *t, int32_t status, const char *reply, const char *error)
{
    for (gw_msg_t *msg = t->msgs; msg; msg = msg->next)
        if (msg->hook) {
            gw_hook_done(msg->hook, status, reply, error, t->l->key);
            msg->hook = NULL;
        }
    t->api = NULL; /* answered: gw_hook_done freed it */
}

/* ---- commit ---- */

static void on_committed(gw_cjob_t *j, int32_t status, void *ctx)
{
    gw_turn_t *t = ctx;
    gw_messaging_t *m = t->m;
    int delivered = j && gw_cjob_outbox_count(j) > 0;
    if (status != OC_OK) {
        gw_log(OC_LOG_WARN, "agent", "%s: turn not recorded (%s); its messages stay pending "
               "and run again at the next start", t->l->agent->id,
               gw_host_api.strerror(status));
        hook_answer(t, OC_EUNAVAIL, NULL, "storage unavailable");
        count_turn(t, "error");
    } else {
        hook_answer(t, t->reply ? OC_OK : OC_EUNAVAIL, t->reply, t->error);
        count_turn(t, t->reply ? "ok" : "error");
        if (delivered)
            gw_outbox_kick(m);
    }
    turn_end(t, 0);
}

static const gw_msg_t *last_msg(const gw_turn_t *t)
{
    const gw_msg_t *p = t->msgs;
    while (p && p->next)
        p = p->next;
    return p;
}

static void commit_turn(gw_turn_t *t)
{
    gw_messaging_t *m = t->m;
    t->committing = 1;
    if (t->timeout) {
        gw_host_api.timer_stop(t->timeout);
        t->timeout = NULL;
    }
    gw_cjob_t *j = gw_cjob_new(m);
    if (j == NULL) {
        on_committed(NULL, OC_ENOMEM, t);
        return;
    }
    const gw_msg_t *first = t->msgs, *last = last_msg(t);
    gw_cjob_session(j, t->l->key, t->l->agent->id, first->hook ? NULL : first->env.channel);
    if (t->reset)
        gw_cjob_clear(j);
    if (!t->reset_only) {
        for (const gw_msg_t *msg = t->msgs; msg; msg = msg->next) {
            /* A bare reset trigger merged with later messages: nothing to keep. */
            if (msg == first && t->reset && t->first_text[0] == '\0')
                continue;
            char *meta = msg->hook ? NULL : gw_msg_turn_meta(msg);
            /* One user turn per message, each with its own text: the
             * merged text (t->text) holds the later messages too. */
            gw_cjob_turn(j, "user", msg == first ? t->first_text : msg->env.text,
                         meta ? meta : gw_hook_meta(msg->hook), msg->env.received_ms);
            free(meta);
        }
        if (t->reply)
            gw_cjob_turn(j, "assistant", t->reply, NULL, 0);
    }
    for (const gw_msg_t *msg = t->msgs; msg; msg = msg->next)
        if (msg->inbox_id)
            gw_cjob_inbox_done(j, msg->inbox_id);
    /* The answer goes back where the message came from; the key makes a
     * re-run after a crash replace, not duplicate, the reply. */
    char key[96];
    const char *text = t->reply;
    char *failure = NULL;
    if (text == NULL) {
        size_t n = strlen(t->error ? t->error : "") + 96;
        failure = malloc(n);
        if (failure)
            snprintf(failure, n, "Sorry, I could not answer this time (%s). Please try again.",
                     t->error ? t->error : "error");
        text = failure;
    }
    if (first->hook == NULL && text && text[0]) {
        snprintf(key, sizeof(key), "reply:%llu", (unsigned long long)first->inbox_id);
        gw_cjob_outbox(j, key, last->env.channel, last->env.account, last->env.peer_kind,
                       last->env.peer_id, text, last->env.message_id);
    } else if (first->hook && t->reply) {
        const char *dch, *dacct, *dto;
        int dkind;
        const char *run = NULL;
        if (gw_hook_delivery(first->hook, &dch, &dacct, &dkind, &dto, &run)) {
            snprintf(key, sizeof(key), "hook:%s", run);
            gw_cjob_outbox(j, key, dch, dacct, dkind, dto, t->reply, NULL);
        }
    }
    free(failure);
    gw_cjob_run(j, on_committed, t);
}

/* ---- provider chain ---- */

/* A streamed chunk of an API run: to the client (api_turn.c). */
static int32_t on_run_chunk(void *data, const char *json, size_t len)
{
    gw_turn_t *t = data;
    return t->api ? gw_api_chunk(t->api, json, len) : OC_OK;
}

static void on_run_done(void *data, const gw_llm_result_t *res)
{
    gw_turn_t *t = data;
    gw_messaging_t *m = t->m;
    t->run = NULL;
    gw_msg_op_end(m);
    const char *finish = NULL;
    if (res->status == OC_OK) {
        if (res->streamed && t->api) {
            t->reply = gw_api_take_text(t->api);
        } else {
            gw_buf_t text = GW_BUF_INIT;
            int64_t ptok, ctok;
            if (gw_llm_completion_read(res->body, res->body_len, &text, &finish, &ptok,
                                       &ctok) == 0)
                t->reply = gw_buf_steal(&text);
            gw_buf_free(&text);
        }
        if (t->api)
            gw_api_note(t->api, res, finish);
        if (t->reply) {
            commit_turn(t);
            return;
        }
        free(t->error);
        t->error = strdup("the provider's answer had no choices[0].message");
    } else {
        if (t->api)
            gw_api_note(t->api, res, NULL);
        free(t->error);
        t->error = strdup(res->error ? res->error : gw_host_api.strerror(res->status));
    }
    gw_log(OC_LOG_WARN, "agent", "%s: the model chain failed; last %s: %s (%s)",
           t->l->agent->id, res->target ? res->target->id : "(none)",
           t->error ? t->error : "?", gw_llm_outcome(res->error_class));
    commit_turn(t);
}

static void cancel_call(gw_turn_t *t)
{
    if (t->run) {
        gw_llm_run_cancel(t->run);
        t->run = NULL;
        gw_msg_op_end(t->m);
    }
}

static void on_timeout(void *data)
{
    gw_turn_t *t = data;
    t->timeout = NULL;
    if (t->committing)
        return;
    cancel_call(t);
    gw_log(OC_LOG_WARN, "agent", "%s: turn timed out after %d s", t->l->agent->id,
           t->m->cfg->agent_defaults.timeout_seconds);
    if (t->api) {
        gw_llm_result_t res = {.status = OC_ETIMEDOUT, .error_class = OC_PROV_ERR_TIMEOUT,
                               .prompt_tokens = -1, .completion_tokens = -1};
        gw_api_note(t->api, &res, NULL);
    }
    free(t->error);
    t->error = strdup("timed out");
    commit_turn(t);
}

static void build_and_call(gw_turn_t *t)
{
    gw_messaging_t *m = t->m;
    const char *why = NULL;
    const gw_llm_chain_t *chain = gw_llm_agent_chain(m->llm, t->l->agent, &why);
    if (chain == NULL) {
        gw_log(OC_LOG_ERROR, "agent", "%s: %s", t->l->agent->id, why);
        t->error = strdup(why);
        commit_turn(t);
        return;
    }
    char sysbuf[512];
    json_object *req = json_object_new_object();
    json_object *msgs = json_object_new_array();
    json_object *sys = json_object_new_object();
    json_object_object_add(sys, "role", json_object_new_string("system"));
    json_object_object_add(sys, "content", json_object_new_string(
                                               agent_system_prompt(m, t->l->agent, sysbuf,
                                                                   sizeof(sysbuf))));
    json_object_array_add(msgs, sys);
    size_t nh = t->history ? json_object_array_length(t->history) : 0;
    for (size_t i = 0; i < nh; i++)
        json_object_array_add(msgs, json_object_get(json_object_array_get_idx(t->history, i)));
    json_object *u = json_object_new_object();
    json_object_object_add(u, "role", json_object_new_string("user"));
    json_object_object_add(u, "content", json_object_new_string(t->text));
    json_object_array_add(msgs, u);
    json_object_object_add(req, "messages", msgs);
    if (t->api)
        gw_api_extend(t->api, req);
    t->body = strdup(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
    json_object_put(req);
    uint64_t ms = (uint64_t)m->cfg->agent_defaults.timeout_seconds * 1000;
    t->timeout = gw_host_api.timer_start(NULL, ms, 0, on_timeout, t);
    static const gw_llm_run_cbs_t cbs = {.on_chunk = on_run_chunk, .on_done = on_run_done};
    gw_llm_req_t rq = {
        .body = t->body ? t->body : "{}",
        .body_len = t->body ? strlen(t->body) : 2,
        .stream = t->api && gw_api_stream(t->api),
        .first_token_timeout_ms = m->cfg->first_token_timeout_ms,
    };
    gw_msg_op_begin(m);
    t->run = gw_llm_run_start(m->llm, chain, &rq, &cbs, t);
    if (t->run == NULL) {
        gw_msg_op_end(m);
        t->error = strdup("out of memory starting the provider call");
        commit_turn(t);
    }
}

/* ---- history ---- */

#define STORAGE_RETRY_MS 1000

/* Storage trouble before the model was called: the inbox messages go back
 * to the head of their lane, which tries again after a pause (they are
 * pending in the inbox: dropping them here would strand them until the
 * next start). API and hook runs are answered 503 instead. */
static void retry_later(gw_turn_t *t)
{
    hook_answer(t, OC_EUNAVAIL, NULL, "storage unavailable");
    gw_msg_t *keep = NULL, **tail = &keep;
    for (gw_msg_t *p = t->msgs, *next; p; p = next) {
        next = p->next;
        p->next = NULL;
        if (p->inbox_id != 0) {
            *tail = p;
            tail = &p->next;
        } else {
            gw_msg_free(p); /* a hook run, answered above */
        }
    }
    t->msgs = keep;
    gw_lane_t *l = t->l;
    gw_lane_wake_later(l, STORAGE_RETRY_MS); /* before the lane pumps again */
    turn_end(t, keep != NULL);
}

static void on_history(void *data, int32_t status, const oc_turn_t *const *turns, size_t count)
{
    gw_turn_t *t = data;
    gw_msg_op_end(t->m);
    if (t->aborting || t->canceled) {
        turn_end(t, t->aborting);
        return;
    }
    if (status != OC_OK && status != OC_ENOENT) {
        free(t->error);
        t->error = strdup("storage unavailable");
        count_turn(t, "error");
        retry_later(t);
        return;
    }
    t->history = json_object_new_array();
    for (size_t i = 0; status == OC_OK && i < count; i++) {
        const char *role = turns[i]->role;
        if (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0)
            continue;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "role", json_object_new_string(role));
        json_object_object_add(o, "content", json_object_new_string(turns[i]->content));
        json_object_array_add(t->history, o);
    }
    build_and_call(t);
}

static void read_history(gw_turn_t *t)
{
    gw_messaging_t *m = t->m;
    /* historyLimit 0 means no history (transcript_read's 0 means "all"). */
    if (t->reset || m->cfg->agent_defaults.history_limit == 0) {
        gw_msg_op_begin(m); /* balances the end in on_history */
        on_history(t, OC_ENOENT, NULL, 0);
        return;
    }
    gw_msg_op_begin(m);
    int32_t rc = m->st->ops->transcript_read(m->st->state, t->l->key,
                                             (uint32_t)m->cfg->agent_defaults.history_limit,
                                             on_history, t);
    if (rc != OC_PENDING && rc != OC_OK)
        on_history(t, rc, NULL, 0);
}

static void on_session(void *data, int32_t status, const oc_session_t *s)
{
    gw_turn_t *t = data;
    gw_msg_op_end(t->m);
    if (status == OC_OK && s &&
        gw_session_reset_due(&t->m->cfg->session, s->updated_ms, gw_wall_ms())) {
        gw_log(OC_LOG_DEBUG, "agent", "session reset (%s)",
               t->m->cfg->session.reset_mode == GW_RESET_DAILY ? "daily" : "idle");
        t->reset = 1;
    }
    read_history(t);
}

/* ---- start, abort ---- */

void gw_turn_start(gw_lane_t *l, gw_msg_t *msgs)
{
    gw_messaging_t *m = l->m;
    gw_turn_t *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        gw_lane_turn_ended(l, msgs);
        gw_lane_wake_later(l, 1000);
        return;
    }
    t->l = l;
    t->m = m;
    t->msgs = msgs;
    t->started_mono = gw_now_ms();
    l->turn = t;
    /* An API request whose client went away while it waited in the lane
     * is not run (turn_free answers it canceled). */
    t->api = msgs->hook ? gw_hook_api(msgs->hook) : NULL;
    if (t->api && gw_api_turn_begin(t->api, t) != 0) {
        turn_end(t, 0);
        return;
    }
    /* The merged text: the batch's messages, one per line. */
    const char *rest = NULL;
    const char *first = msgs->env.text;
    if (gw_reset_trigger(&m->cfg->session, first, &rest)) {
        t->reset = 1;
        first = rest;
        t->reset_only = rest[0] == '\0' && msgs->next == NULL;
    }
    t->first_text = first;
    size_t n = strlen(first) + 1;
    for (gw_msg_t *p = msgs->next; p; p = p->next)
        n += strlen(p->env.text) + 1;
    t->text = malloc(n);
    if (t->text == NULL) {
        t->msgs = NULL;
        turn_free(t);
        gw_lane_turn_ended(l, msgs);
        return;
    }
    strcpy(t->text, first);
    for (gw_msg_t *p = msgs->next; p; p = p->next) {
        if (t->text[0])
            strcat(t->text, "\n");
        strcat(t->text, p->env.text);
    }
    if (t->reset_only) {
        t->reply = strdup(RESET_REPLY);
        commit_turn(t);
        return;
    }
    if (t->reset || m->cfg->session.reset_mode == GW_RESET_NONE) {
        read_history(t);
        return;
    }
    gw_msg_op_begin(m);
    int32_t rc = m->st->ops->session_get(m->st->state, l->key, on_session, t);
    if (rc != OC_PENDING && rc != OC_OK)
        on_session(t, rc, NULL);
}

void gw_turn_abort(gw_turn_t *t)
{
    if (t->committing || t->aborting)
        return;
    t->aborting = 1;
    if (t->run) {
        gw_log(OC_LOG_DEBUG, "queue", "interrupt: aborting the running turn");
        cancel_call(t);
        turn_end(t, 1);
    }
    /* else a storage read is in flight: its callback ends the turn */
}

void gw_turn_cancel_for_stop(gw_turn_t *t)
{
    if (t->committing || t->canceled)
        return;
    t->canceled = 1;
    if (t->run) {
        cancel_call(t);
        count_turn(t, "canceled");
        turn_end(t, 0);
    }
}
