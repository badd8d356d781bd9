/* messaging/cjob.c - see cjob.h. */
#include "messaging/cjob.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

#define RETRY_MIN_MS 200
#define RETRY_MAX_MS 2000 /* the lane waits on it: recover soon after storage does */

struct gw_cjob_s {
    gw_messaging_t *m;
    oc_commit_t c;
    oc_session_t session;
    oc_turn_t *turns;
    const oc_turn_t **turn_ptrs;
    size_t nturns;
    uint64_t *inbox;
    size_t ninbox;
    oc_outbox_item_t *outbox;
    const oc_outbox_item_t **outbox_ptrs;
    size_t noutbox;
    char **strs; /* every string the job owns */
    size_t nstrs;
    int oom;
    uint32_t attempts;
    gw_cjob_done_cb done;
    void *ctx;
};

gw_cjob_t *gw_cjob_new(gw_messaging_t *m)
{
    gw_cjob_t *j = calloc(1, sizeof(*j));
    if (j)
        j->m = m;
    return j;
}

static const char *own(gw_cjob_t *j, const char *s)
{
    if (s == NULL)
        return NULL;
    char **a = realloc(j->strs, (j->nstrs + 1) * sizeof(*a));
    char *d = strdup(s);
    if (a == NULL || d == NULL) {
        if (a)
            j->strs = a;
        free(d);
        j->oom = 1;
        return NULL;
    }
    j->strs = a;
    j->strs[j->nstrs++] = d;
    return d;
}

static void job_free(gw_cjob_t *j)
{
    for (size_t i = 0; i < j->nstrs; i++)
        free(j->strs[i]);
    free(j->strs);
    free(j->turns);
    free(j->turn_ptrs);
    free(j->inbox);
    free(j->outbox);
    free(j->outbox_ptrs);
    free(j);
}

int gw_cjob_session(gw_cjob_t *j, const char *key, const char *agent_id, const char *channel)
{
    j->session.struct_size = sizeof(j->session);
    j->session.key = own(j, key);
    j->session.agent_id = own(j, agent_id);
    j->session.channel = own(j, channel);
    j->c.session = &j->session;
    j->c.session_key = j->session.key;
    return j->oom ? -ENOMEM : 0;
}

void gw_cjob_clear(gw_cjob_t *j)
{
    j->c.clear_transcript = 1;
}

int gw_cjob_turn(gw_cjob_t *j, const char *role, const char *content, const char *meta_json,
                 uint64_t created_ms)
{
    oc_turn_t *t = realloc(j->turns, (j->nturns + 1) * sizeof(*t));
    if (t == NULL) {
        j->oom = 1;
        return -ENOMEM;
    }
    j->turns = t;
    oc_turn_t *n = &t[j->nturns++];
    memset(n, 0, sizeof(*n));
    n->struct_size = sizeof(*n);
    n->role = own(j, role);
    n->content = own(j, content);
    n->meta_json = own(j, meta_json);
    n->created_ms = created_ms;
    return j->oom ? -ENOMEM : 0;
}

int gw_cjob_inbox_done(gw_cjob_t *j, uint64_t inbox_id)
{
    uint64_t *a = realloc(j->inbox, (j->ninbox + 1) * sizeof(*a));
    if (a == NULL) {
        j->oom = 1;
        return -ENOMEM;
    }
    j->inbox = a;
    a[j->ninbox++] = inbox_id;
    return 0;
}

int gw_cjob_outbox(gw_cjob_t *j, const char *idem_key, const char *channel, const char *account,
                   int peer_kind, const char *peer_id, const char *text,
                   const char *in_reply_to)
{
    oc_outbox_item_t *a = realloc(j->outbox, (j->noutbox + 1) * sizeof(*a));
    if (a == NULL) {
        j->oom = 1;
        return -ENOMEM;
    }
    j->outbox = a;
    oc_outbox_item_t *o = &a[j->noutbox++];
    memset(o, 0, sizeof(*o));
    o->struct_size = sizeof(*o);
    o->state = OC_OUTBOX_PENDING;
    o->idempotency_key = own(j, idem_key);
    o->channel = own(j, channel);
    o->account = own(j, account);
    o->peer_kind = (uint32_t)peer_kind;
    o->peer_id = own(j, peer_id);
    o->text = own(j, text);
    o->in_reply_to = own(j, in_reply_to);
    return j->oom ? -ENOMEM : 0;
}

size_t gw_cjob_outbox_count(const gw_cjob_t *j)
{
    return j->noutbox;
}

static void issue(gw_cjob_t *j);

static void finish(gw_cjob_t *j, int32_t status)
{
    j->done(j, status, j->ctx);
    job_free(j);
}

static void on_retry(void *data)
{
    gw_cjob_t *j = data;
    gw_msg_op_end(j->m);
    issue(j);
}

static void on_commit(void *data, int32_t status)
{
    gw_cjob_t *j = data;
    gw_messaging_t *m = j->m;
    gw_msg_op_end(m);
    /* OC_EEXIST: another gateway processed these inbox items first. */
    if (status == OC_OK || status == OC_EINVAL || status == OC_ENOENT || status == OC_EEXIST ||
        m->stopping) {
        if (status == OC_EEXIST)
            gw_log(OC_LOG_INFO, "messaging", "inbox item(s) already processed (by another "
                   "gateway, or by an earlier attempt of this commit): nothing applied");
        finish(j, status);
        return;
    }
    /* Storage trouble: the messages are still pending in the inbox, so a
     * retry (or the next start's recovery) loses nothing. */
    uint64_t wait = RETRY_MIN_MS << (j->attempts < 5 ? j->attempts : 5);
    if (wait > RETRY_MAX_MS)
        wait = RETRY_MAX_MS;
    j->attempts++;
    if (j->attempts == 1 || j->attempts % 10 == 0)
        gw_log(OC_LOG_WARN, "messaging", "storage commit failed (%s); retrying (attempt %u)",
               gw_host_api.strerror(status), j->attempts);
    gw_msg_op_begin(m);
    if (gw_host_api.timer_start(NULL, wait, 0, on_retry, j) == NULL) {
        gw_msg_op_end(m);
        finish(j, status);
    }
}

static void issue(gw_cjob_t *j)
{
    gw_messaging_t *m = j->m;
    if (m->stopping && j->attempts > 0) {
        finish(j, OC_ECANCELED);
        return;
    }
    gw_msg_op_begin(m);
    int32_t rc = m->st->ops->commit(m->st->state, &j->c, on_commit, j);
    if (rc != OC_PENDING && rc != OC_OK)
        on_commit(j, rc);
}

void gw_cjob_run(gw_cjob_t *j, gw_cjob_done_cb done, void *ctx)
{
    j->done = done;
    j->ctx = ctx;
    if (j->oom) {
        finish(j, OC_ENOMEM);
        return;
    }
    j->c.struct_size = sizeof(j->c);
    if (j->nturns) {
        j->turn_ptrs = calloc(j->nturns, sizeof(*j->turn_ptrs));
        if (j->turn_ptrs == NULL) {
            finish(j, OC_ENOMEM);
            return;
        }
        for (size_t i = 0; i < j->nturns; i++)
            j->turn_ptrs[i] = &j->turns[i];
    }
    if (j->noutbox) {
        j->outbox_ptrs = calloc(j->noutbox, sizeof(*j->outbox_ptrs));
        if (j->outbox_ptrs == NULL) {
            finish(j, OC_ENOMEM);
            return;
        }
        for (size_t i = 0; i < j->noutbox; i++)
            j->outbox_ptrs[i] = &j->outbox[i];
    }
    j->c.turns = j->turn_ptrs;
    j->c.turn_count = j->nturns;
    j->c.inbox_done = j->inbox;
    j->c.inbox_done_count = j->ninbox;
    j->c.outbox = j->outbox_ptrs;
    j->c.outbox_count = j->noutbox;
    /* Exactly once across gateways, and an idempotent retry of a commit
     * whose answer was lost. */
    if (j->m->shared && j->ninbox)
        j->c.flags = OC_COMMIT_F_INBOX_PENDING;
    issue(j);
}
