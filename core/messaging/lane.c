/* messaging/lane.c - per-session lanes: one turn at a time per session, in
 * arrival order; at most agents.defaults.maxConcurrent turns overall; the
 * queue modes followup / collect / interrupt; cap and drop. */
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "messaging/msg_int.h"

static void set_depth_metric(gw_messaging_t *m)
{
    gw_metric_set(m->m_queue_depth, NULL, (double)m->queued);
    gw_metric_set(m->m_sessions, NULL, (double)m->lanes.count);
    gw_metric_set(m->m_running, NULL, (double)m->running);
}

static gw_lane_t *lane_get(gw_messaging_t *m, const char *key, const gw_agent_cfg_t *agent)
{
    gw_lane_t *l = gw_map_get(&m->lanes, key);
    if (l)
        return l;
    l = calloc(1, sizeof(*l));
    if (l == NULL || (l->key = strdup(key)) == NULL || gw_map_set(&m->lanes, key, l) != 0) {
        if (l)
            free(l->key);
        free(l);
        return NULL;
    }
    l->m = m;
    l->agent = agent;
    return l;
}

static void lane_maybe_free(gw_lane_t *l)
{
    if (l->head || l->turn || l->busy || l->timer || l->waiting_slot || l->renewing)
        return;
    gw_shared_lane_idle(l);
    gw_map_remove(&l->m->lanes, l->key);
    free(l->key);
    free(l);
}

static void unlink_msg(gw_lane_t *l, gw_msg_t *prev, gw_msg_t *msg)
{
    if (prev)
        prev->next = msg->next;
    else
        l->head = msg->next;
    if (l->tail == msg)
        l->tail = prev;
    msg->next = NULL;
    l->depth--;
    l->m->queued--;
}

/* Interrupt mode: only a message that may run aborts the running turn. One
 * that policy drops or keeps as context (known without storage) does not:
 * else a stranger's DM (dmScope main) or group chatter would restart the
 * turn again and again. A pairing verdict needs the allow-list lookup: it
 * may run, so it aborts. */
static int may_run(gw_lane_t *l, const gw_msg_t *msg)
{
    int v = gw_policy_decide(gw_msg_policy(l->m, msg->env.channel),
                             gw_msg_agent_mentions(l->m, l->agent), &msg->env, NULL);
    return v == GW_VERDICT_RUN || v == GW_VERDICT_PAIRING;
}

void gw_lane_enqueue(gw_messaging_t *m, const char *key, const gw_agent_cfg_t *agent,
                     gw_msg_t *msg)
{
    gw_lane_t *l = lane_get(m, key, agent);
    if (l != NULL && m->shared && msg->inbox_id != 0)
        for (gw_msg_t *p = l->head; p; p = p->next)
            if (p->hook == NULL && p->inbox_id == msg->inbox_id) {
                gw_msg_free(msg); /* a sync or the orphan scan brought it in already */
                return;
            }
    if (l == NULL) {
        gw_log(OC_LOG_ERROR, "queue", "out of memory queuing a message; it stays pending");
        if (msg->hook)
            gw_hook_done(msg->hook, OC_ENOMEM, NULL, "out of memory", key);
        gw_msg_free(msg);
        return;
    }
    uint64_t now = gw_now_ms();
    msg->next = NULL;
    msg->enqueued_mono = now;
    msg->queued_behind = l->turn != NULL || l->head != NULL;
    if (l->tail)
        l->tail->next = msg;
    else
        l->head = msg;
    l->tail = msg;
    l->depth++;
    m->queued++;
    l->last_arrival_mono = now;

    const gw_queue_cfg_t *q = &m->cfg->queue;
    if (l->depth > q->cap) {
        /* The head may be mid-decision (busy): never take it from under it. */
        gw_msg_t *prev = NULL, *victim = NULL;
        if (q->drop == GW_QUEUE_DROP_NEW) {
            for (gw_msg_t *p = l->head; p && p->next; p = p->next)
                prev = p;
            victim = msg;
        } else {
            victim = l->head;
            if (l->busy && victim) {
                prev = victim;
                victim = victim->next;
            }
        }
        if (victim) {
            unlink_msg(l, prev, victim);
            gw_log(OC_LOG_WARN, "queue", "session backlog over cap %u: dropped the %s message",
                   q->cap, q->drop == GW_QUEUE_DROP_NEW ? "newest" : "oldest");
            gw_drop_msgs(m, victim, "cap");
        }
    }
    if (q->mode == GW_QUEUE_INTERRUPT && l->turn && msg->hook == NULL && may_run(l, msg))
        gw_turn_abort(l->turn);
    set_depth_metric(m);
    gw_lane_pump(l);
}

static void on_wake(void *data)
{
    gw_lane_t *l = data;
    l->timer = NULL;
    gw_lane_pump(l);
}

void gw_lane_wake_later(gw_lane_t *l, uint64_t ms)
{
    if (l->timer)
        gw_host_api.timer_stop(l->timer);
    l->timer = gw_host_api.timer_start(NULL, ms, 0, on_wake, l);
}

static void wait_for_slot(gw_lane_t *l)
{
    gw_messaging_t *m = l->m;
    if (l->waiting_slot)
        return;
    l->waiting_slot = 1;
    l->slot_next = NULL;
    if (m->slot_tail)
        m->slot_tail->slot_next = l;
    else
        m->slot_head = l;
    m->slot_tail = l;
}

/* Same conversation: replies of a merged turn go to one peer. */
static int same_peer(const gw_msg_t *a, const gw_msg_t *b)
{
    return a->hook == NULL && b->hook == NULL && strcmp(a->env.channel, b->env.channel) == 0 &&
           strcmp(a->env.account, b->env.account) == 0 &&
           strcmp(a->env.peer_id, b->env.peer_id) == 0;
}

void gw_lane_pump(gw_lane_t *l)
{
    gw_messaging_t *m = l->m;
    for (;;) {
        if (l->turn || l->busy || l->timer || l->waiting_slot || m->stopping)
            return;
        gw_msg_t *msg = l->head;
        if (msg == NULL) {
            lane_maybe_free(l);
            set_depth_metric(m);
            return;
        }
        /* Shared store: hold the session's lease and reconcile first. */
        if (!gw_shared_gate(l))
            return;
        if ((msg = l->head) == NULL)
            continue;
        if (msg->verdict == 0) {
            if (!gw_decide(l, msg))
                return;
            continue;
        }
        if (msg->verdict != GW_VERDICT_RUN) {
            unlink_msg(l, NULL, msg);
            gw_shared_head_consumed(l);
            gw_settle(l, msg);
            continue;
        }
        const gw_queue_cfg_t *q = &m->cfg->queue;
        uint64_t now = gw_now_ms();
        if (q->mode == GW_QUEUE_COLLECT && msg->queued_behind &&
            now < l->last_arrival_mono + q->debounce_ms) {
            gw_lane_wake_later(l, l->last_arrival_mono + q->debounce_ms - now);
            return;
        }
        if (m->running >= m->cfg->agent_defaults.max_concurrent) {
            wait_for_slot(l);
            return;
        }
        /* Take the head, and in collect/interrupt mode every following
         * message of the same peer whose verdict is already "run". */
        unlink_msg(l, NULL, msg);
        gw_msg_t *batch = msg, *last = msg;
        if (q->mode != GW_QUEUE_FOLLOWUP && msg->hook == NULL) {
            for (;;) {
                gw_msg_t *h = l->head;
                if (h == NULL || h->hook || !same_peer(msg, h))
                    break;
                /* A reset trigger starts its own batch (it resets only as
                 * the first message of a turn; merged behind others it
                 * would reach the model as text). */
                if (gw_reset_trigger(&m->cfg->session, h->env.text, NULL))
                    break;
                if (h->verdict == 0 && !gw_decide(l, h))
                    break; /* went async: the lane resumes when it is decided */
                if (h->verdict != GW_VERDICT_RUN)
                    break;
                unlink_msg(l, NULL, h);
                last->next = h;
                last = h;
            }
        }
        for (gw_msg_t *p = batch; p; p = p->next) {
            double waited = (double)(now - p->enqueued_mono) / 1000.0;
            gw_metric_observe(m->m_queue_wait, NULL, waited);
        }
        m->running++;
        set_depth_metric(m);
        gw_shared_head_consumed(l);
        gw_turn_start(l, batch);
        return;
    }
}

void gw_lane_turn_ended(gw_lane_t *l, gw_msg_t *requeue)
{
    gw_messaging_t *m = l->m;
    l->turn = NULL;
    m->running--;
    if (requeue) {
        gw_msg_t *last = requeue;
        size_t n = 1;
        for (; last->next; last = last->next)
            n++;
        for (gw_msg_t *p = requeue; p; p = p->next)
            p->queued_behind = 0;
        last->next = l->head;
        l->head = requeue;
        if (l->tail == NULL)
            l->tail = last;
        l->depth += n;
        m->queued += n;
    }
    /* A slot is free: the longest-waiting lane goes first. */
    while (m->slot_head && m->running < m->cfg->agent_defaults.max_concurrent) {
        gw_lane_t *w = m->slot_head;
        m->slot_head = w->slot_next;
        if (m->slot_head == NULL)
            m->slot_tail = NULL;
        w->waiting_slot = 0;
        w->slot_next = NULL;
        if (w != l)
            gw_lane_pump(w);
    }
    set_depth_metric(m);
    if (m->stopping) {
        gw_msg_check_stopped(m);
        return;
    }
    gw_lane_pump(l);
}

static void free_lane(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    gw_lane_t *l = value;
    gw_msg_t *msg = l->head;
    while (msg) {
        gw_msg_t *n = msg->next;
        if (msg->hook)
            gw_hook_done(msg->hook, OC_ECANCELED, NULL, "the gateway is stopping", l->key);
        gw_msg_free(msg);
        msg = n;
    }
    if (l->timer)
        gw_host_api.timer_stop(l->timer);
    if (l->renew)
        gw_host_api.timer_stop(l->renew);
    free(l->key);
    free(l);
}

void gw_lanes_free(gw_messaging_t *m)
{
    gw_map_each(&m->lanes, free_lane, NULL);
    gw_map_free(&m->lanes);
    m->queued = 0;
}
