/* messaging/messaging.c - the messaging core's life cycle, configuration,
 * metrics and health. */
#include "messaging/messaging.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "messaging/msg_int.h"
#include "util/buf.h"

const gw_channel_policy_t *gw_msg_policy(const gw_messaging_t *m, const char *channel)
{
    for (size_t i = 0; i < m->npolicies; i++)
        if (strcmp(m->policies[i].channel, channel) == 0)
            return &m->policies[i];
    return &m->default_policy;
}

const gw_mention_set_t *gw_msg_agent_mentions(const gw_messaging_t *m,
                                              const gw_agent_cfg_t *agent)
{
    size_t i = (size_t)(agent - m->cfg->agents);
    return i < m->cfg->agent_count ? &m->agent_mentions[i] : NULL;
}

static void maybe_stopped(gw_messaging_t *m);

void gw_msg_op_begin(gw_messaging_t *m)
{
    m->pending_ops++;
}

void gw_msg_op_end(gw_messaging_t *m)
{
    m->pending_ops--;
    gw_msg_check_stopped(m);
}

void gw_msg_check_stopped(gw_messaging_t *m)
{
    if (m->stopping && m->stop_done)
        maybe_stopped(m);
}

int gw_messaging_new(gw_messaging_t **out, const gw_config_t *cfg, gw_plugins_t *ps,
                     gw_metrics_t *metrics, gw_loop_t *home, gw_diag_t *d)
{
    *out = NULL;
    gw_messaging_t *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return -ENOMEM;
    m->cfg = cfg;
    m->ps = ps;
    m->metrics = metrics;
    m->home = home;
    int rc = 0;
    gw_cfg_node_t *channels = gw_cfg_find(cfg->root, "channels");
    size_t n = channels ? gw_cfg_len(channels) : 0;
    m->policies = calloc(n ? n : 1, sizeof(*m->policies));
    m->agent_mentions = calloc(cfg->agent_count ? cfg->agent_count : 1,
                               sizeof(*m->agent_mentions));
    if (m->policies == NULL || m->agent_mentions == NULL) {
        gw_messaging_free(m);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (gw_channel_policy_build(&m->policies[m->npolicies], gw_cfg_key_at(channels, i),
                                    gw_cfg_at(channels, i), d) != 0) {
            rc = -EINVAL;
            continue;
        }
        m->npolicies++;
    }
    if (gw_channel_policy_build(&m->default_policy, "default", NULL, d) != 0)
        rc = -EINVAL;
    for (size_t i = 0; i < cfg->agent_count; i++)
        if (gw_mention_set_build(&m->agent_mentions[i], cfg->agents[i].mention_patterns,
                                 cfg->agents[i].mention_pattern_count, d) != 0)
            rc = -EINVAL;
    if (rc == 0 && ps != NULL) {
        int r = gw_hooks_register(m);
        if (r != 0 && r != -EEXIST)
            rc = r;
        ps->inbound = gw_msg_inbound;
        ps->inbound_ctx = m;
    }
    if (rc != 0) {
        gw_messaging_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void gw_messaging_set_llm(gw_messaging_t *m, gw_llm_t *llm)
{
    m->llm = llm;
}

/* The provider families (calls, duration, fallbacks, ...) are the llm
 * core's, shared with the HTTP API: registered there, once. */
void gw_messaging_register_metrics(gw_messaging_t *m)
{
    gw_metrics_t *r = m->metrics;
    char err[256];
    const char *ch_out[] = {"channel", "outcome", NULL};
    const char *agent_out[] = {"agent", "outcome", NULL};
    const char *agent[] = {"agent", NULL};
    const char *reason[] = {"reason", NULL};
    static const double slow[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
    size_t nslow = sizeof(slow) / sizeof(slow[0]);
    m->m_received = gw_metric_register(r, OC_METRIC_COUNTER, "openclaw_messages_received_total",
                                       "Inbound messages by channel and outcome (accepted, "
                                       "duplicate, rejected, unavailable)",
                                       ch_out, NULL, 0, err, sizeof(err));
    m->m_sent = gw_metric_register(r, OC_METRIC_COUNTER, "openclaw_messages_sent_total",
                                   "Outbound delivery attempts by channel and outcome (sent, "
                                   "retry, failed)", ch_out, NULL, 0, err, sizeof(err));
    m->m_queue_depth = gw_metric_register(r, OC_METRIC_GAUGE, "openclaw_queue_depth",
                                          "Messages waiting in session lanes", NULL, NULL, 0,
                                          err, sizeof(err));
    m->m_queue_wait = gw_metric_register(r, OC_METRIC_HISTOGRAM, "openclaw_queue_wait_seconds",
                                         "Time a message waited in its lane before its turn",
                                         NULL, slow, nslow, err, sizeof(err));
    m->m_dropped = gw_metric_register(r, OC_METRIC_COUNTER, "openclaw_queue_dropped_total",
                                      "Messages processed without an answer (policy, cap, "
                                      "invalid)", reason, NULL, 0, err, sizeof(err));
    m->m_turns = gw_metric_register(r, OC_METRIC_COUNTER, "openclaw_agent_turns_total",
                                    "Agent turns by agent and outcome", agent_out, NULL, 0, err,
                                    sizeof(err));
    m->m_turn_seconds = gw_metric_register(r, OC_METRIC_HISTOGRAM,
                                           "openclaw_agent_turn_duration_seconds",
                                           "Agent turn duration", agent, slow, nslow, err,
                                           sizeof(err));
    m->m_sessions = gw_metric_register(r, OC_METRIC_GAUGE, "openclaw_sessions_active",
                                       "Sessions with queued or running work", NULL, NULL, 0,
                                       err, sizeof(err));
    m->m_running = gw_metric_register(r, OC_METRIC_GAUGE, "openclaw_agent_turns_running",
                                      "Agent turns running now", NULL, NULL, 0, err,
                                      sizeof(err));
    m->m_pairing = gw_metric_register(r, OC_METRIC_COUNTER, "openclaw_pairing_requests_total",
                                      "DM pairing requests by channel and outcome (created, "
                                      "existing, limited, error)", ch_out, NULL, 0, err,
                                      sizeof(err));
}

static const char *const needed_ops[] = {"inbox_put", "inbox_pending", "commit",
                                         "outbox_pending", "outbox_update", "pairing_request",
                                         "pairing_approve", "allow_check"};

/* Settled inbox and outbox rows are kept for a week (duplicate detection of
 * late platform retries, audits), then pruned: the tables stay bounded. */
#define PRUNE_RETENTION_MS (7ull * 24 * 3600 * 1000)
#define PRUNE_FIRST_MS 60000
#define PRUNE_EVERY_MS (3600ull * 1000)

static void on_prune_timer(void *data);

int gw_messaging_start(gw_messaging_t *m, gw_diag_t *d)
{
    const oc_storage_t *st = gw_plugins_storage(m->ps);
    if (st == NULL) {
        gw_diag_add(d, NULL, 0, 0, "messaging: no storage is running");
        return -ENOTSUP;
    }
    const oc_storage_ops_t *o = st->ops;
    const void *fns[] = {(const void *)o->inbox_put,      (const void *)o->inbox_pending,
                         (const void *)o->commit,         (const void *)o->outbox_pending,
                         (const void *)o->outbox_update,  (const void *)o->pairing_request,
                         (const void *)o->pairing_approve, (const void *)o->allow_check};
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
        if (fns[i] == NULL) {
            gw_diag_add(d, NULL, 0, 0,
                        "storage plugin %s has no %s operation (it was built for ABI 1.0; the "
                        "messaging core needs ABI 1.1): rebuild it against SDK 1.1",
                        m->ps->storage_inst->mod->desc.name, needed_ops[i]);
            return -ENOTSUP;
        }
    m->st = st;
    /* A networked store may be shared by several gateways: lease sessions
     * and claim deliveries. sqlite is one host's file: one gateway. */
    const char *type = m->cfg->storage_type ? m->cfg->storage_type : "sqlite";
    m->shared = strcmp(type, "sqlite") != 0 && o->lease_acquire != NULL &&
                o->lease_release != NULL && o->inbox_session_pending != NULL &&
                o->outbox_claim != NULL;
    if (strcmp(type, "sqlite") != 0 && !m->shared)
        gw_log(OC_LOG_WARN, "messaging", "storage plugin %s has no leases (ABI 1.2): run only "
               "one gateway on this store", m->ps->storage_inst->mod->desc.name);
    gw_msg_recover(m);
    gw_outbox_start(m);
    gw_shared_start(m);
    if (o->prune != NULL)
        m->prune_timer = gw_host_api.timer_start(NULL, PRUNE_FIRST_MS, PRUNE_EVERY_MS,
                                                 on_prune_timer, m);
    return 0;
}

static void on_pruned(void *data, int32_t status)
{
    gw_messaging_t *m = data;
    if (status != OC_OK)
        gw_log(OC_LOG_WARN, "messaging", "pruning settled inbox/outbox rows failed (%s); "
               "retrying in an hour", gw_host_api.strerror(status));
    gw_msg_op_end(m);
}

static void on_prune_timer(void *data)
{
    gw_messaging_t *m = data;
    if (m->stopping)
        return;
    gw_msg_op_begin(m);
    uint64_t cutoff = gw_wall_ms() - PRUNE_RETENTION_MS;
    int32_t rc = m->st->ops->prune(m->st->state, cutoff, on_pruned, m);
    if (rc != OC_PENDING && rc != OC_OK)
        on_pruned(m, rc);
}

int gw_messaging_recovered(const gw_messaging_t *m)
{
    return m->recovered;
}

static void cancel_turn(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    gw_lane_t *l = value;
    if (l->turn)
        gw_turn_cancel_for_stop(l->turn);
}

static void finish_stop(gw_messaging_t *m)
{
    void (*done)(void *) = m->stop_done;
    void *data = m->stop_data;
    m->stop_done = NULL;
    if (m->stop_timer) {
        gw_host_api.timer_stop(m->stop_timer);
        m->stop_timer = NULL;
    }
    if (done)
        done(data);
}

static void maybe_stopped(gw_messaging_t *m)
{
    if (m->running == 0 && m->pending_ops == 0)
        finish_stop(m);
}

static void on_stop_deadline(void *data)
{
    gw_messaging_t *m = data;
    m->stop_timer = NULL;
    if (m->running || m->pending_ops)
        gw_log(OC_LOG_WARN, "messaging", "stop deadline: canceling %d running turn(s); their "
               "messages stay pending and run at the next start", m->running);
    gw_map_each(&m->lanes, cancel_turn, NULL);
    finish_stop(m);
}

void gw_messaging_stop(gw_messaging_t *m, uint64_t deadline_ms, void (*done)(void *data),
                       void *data)
{
    m->stopping = 1;
    if (m->ps && m->ps->inbound_ctx == m)
        m->ps->inbound = NULL;
    /* Before stop_done is set: ending the waiting deliveries must not
     * finish the stop from inside this call. */
    gw_outbox_stop(m);
    gw_shared_stop(m);
    if (m->prune_timer) {
        gw_host_api.timer_stop(m->prune_timer);
        m->prune_timer = NULL;
    }
    m->stop_done = done;
    m->stop_data = data;
    if (m->running == 0 && m->pending_ops == 0) {
        finish_stop(m);
        return;
    }
    m->stop_timer = gw_host_api.timer_start(NULL, deadline_ms, 0, on_stop_deadline, m);
}

static void free_held(gw_msg_t *msg)
{
    while (msg) {
        gw_msg_t *n = msg->next;
        gw_msg_free(msg);
        msg = n;
    }
}

void gw_messaging_free(gw_messaging_t *m)
{
    if (m == NULL)
        return;
    gw_lanes_free(m);
    free_held(m->held_head);
    gw_outbox_free(m);
    for (size_t i = 0; i < m->npolicies; i++)
        gw_channel_policy_free(&m->policies[i]);
    free(m->policies);
    gw_channel_policy_free(&m->default_policy);
    for (size_t i = 0; m->agent_mentions && i < m->cfg->agent_count; i++)
        gw_mention_set_free(&m->agent_mentions[i]);
    free(m->agent_mentions);
    free(m);
}

char *gw_messaging_health_json(const gw_messaging_t *m)
{
    gw_buf_t b = GW_BUF_INIT;
    gw_buf_printf(&b,
                  "{\"running\":%d,\"maxConcurrent\":%d,\"queued\":%zu,\"sessions\":%zu,"
                  "\"outboxInFlight\":%zu,\"recovered\":%s}",
                  m->running, m->cfg->agent_defaults.max_concurrent, m->queued, m->lanes.count,
                  m->out_inflight, m->recovered ? "true" : "false");
    return gw_buf_steal(&b);
}
