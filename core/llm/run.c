/* llm/run.c - see run.h. */
#include "llm/run.h"

#include <stdlib.h>
#include <string.h>

#include "llm/hop.h"
#include "llm/llm_int.h"
#include "log/log.h"

struct gw_llm_run_s {
    gw_llm_t *l;
    const gw_llm_chain_t *chain;
    gw_llm_req_t req;
    gw_llm_run_cbs_t cbs;
    void *data;
    gw_loop_t *loop;
    size_t next;              /* next chain position to consider */
    long earliest;            /* position skipped for cooldown that ends first, -1 */
    uint64_t earliest_until;
    int forced;               /* the all-cooling attempt was made */
    /* the attempt in flight */
    const gw_llm_target_t *cur, *prev;
    int probe;                /* it holds its provider's probe */
    oc_provider_call_t *call; /* direct */
    gw_llm_hop_t *hop;        /* through the home loop */
    double t_start, t_last;
    unsigned chunks;          /* of this attempt */
    int in_chat;              /* inside the provider's chat */
    int early_done;           /* on_done came from inside chat: handled after it */
    /* the last attempt's outcome */
    int32_t status, cls;
    int http_status;
    uint32_t retry_after_ms;
    char *error;
    char *body;               /* owned copy, only for an early or deferred answer */
    size_t body_len;
    int64_t ptok, ctok;
    const gw_llm_target_t *last;
    double upstream;
    unsigned attempts;
    int streamed;
    int busy;                 /* frames of ours calling out: free when 0 */
    int canceled, finished;
    int starting;             /* inside gw_llm_run_start: on_done is deferred */
};

int gw_llm_failover_class(int32_t cls)
{
    return cls == OC_PROV_ERR_AUTH || cls == OC_PROV_ERR_RATE || cls == OC_PROV_ERR_SERVER ||
           cls == OC_PROV_ERR_NETWORK || cls == OC_PROV_ERR_TIMEOUT;
}

static void run_free(gw_llm_run_t *r)
{
    free(r->error);
    free(r->body);
    free(r);
}

static void set_error(gw_llm_run_t *r, const char *e)
{
    free(r->error);
    r->error = e ? strdup(e) : NULL;
}

static void deliver(gw_llm_run_t *r, const char *body, size_t body_len)
{
    gw_llm_result_t res = {
        .status = r->status,
        .error_class = r->cls,
        .http_status = r->http_status,
        .retry_after_ms = r->retry_after_ms,
        .error = r->status == OC_OK ? NULL : r->error ? r->error : "the provider call failed",
        .body = body,
        .body_len = body ? body_len : 0,
        .prompt_tokens = r->ptok,
        .completion_tokens = r->ctok,
        .target = r->last,
        .upstream_seconds = r->upstream,
        .attempts = r->attempts,
        .streamed = r->streamed,
    };
    r->finished = 1;
    r->cbs.on_done(r->data, &res);
}

static void on_deferred(void *data)
{
    gw_llm_run_t *r = data;
    r->busy--;
    if (!r->canceled)
        deliver(r, r->body, r->body_len);
    run_free(r);
}

/* The run is over: tell the caller (later when inside start), free it. */
static void finish(gw_llm_run_t *r, const char *body, size_t body_len)
{
    if (r->starting) {
        if (body && body != r->body) {
            free(r->body);
            r->body = malloc(body_len + 1);
            if (r->body) {
                memcpy(r->body, body, body_len);
                r->body[body_len] = '\0';
            }
            r->body_len = r->body ? body_len : 0;
        }
        r->busy++;
        if (gw_loop_post(r->loop, on_deferred, r) != 0)
            r->busy--; /* the loop is closing: nobody waits for the answer */
        return;
    }
    deliver(r, body, body_len);
    if (r->busy == 0)
        run_free(r);
}

/* ---- one attempt's end ---- */

/* Records the attempt (metrics, cooldown, outcome); 1 when the run should
 * go on to the next target. */
static int attempt_end(gw_llm_run_t *r, const oc_chat_result_t *res)
{
    gw_llm_t *l = r->l;
    const gw_llm_target_t *t = r->cur;
    double now = gw_llm_now();
    r->upstream += now - r->t_start;
    int32_t cls = res->status == OC_OK ? OC_PROV_ERR_NONE : res->error_class;
    if (res->status != OC_OK && (cls <= OC_PROV_ERR_NONE || cls > OC_PROV_ERR_CANCELED))
        cls = OC_PROV_ERR_SERVER; /* a plugin that did not classify its failure */
    gw_series_add(gw_llm_series_calls(l, t, cls), 1);
    gw_series_observe(gw_llm_series_duration(l, t), now - r->t_start);
    size_t slot = t->prov->idx;
    if (cls == OC_PROV_ERR_NONE || cls == OC_PROV_ERR_REQUEST)
        gw_cooldown_success(l->cooldown, slot, r->probe); /* it answered */
    else if (gw_llm_failover_class(cls))
        gw_cooldown_failure(l->cooldown, slot, r->probe, res->retry_after_ms, gw_now_ms());
    else
        gw_cooldown_release(l->cooldown, slot, r->probe);
    r->probe = 0;
    r->status = res->status;
    r->cls = cls;
    r->http_status = res->http_status;
    r->retry_after_ms = res->retry_after_ms;
    set_error(r, res->status == OC_OK ? NULL : res->error);
    r->ptok = res->prompt_tokens;
    r->ctok = res->completion_tokens;
    if (res->status == OC_OK) {
        if (res->prompt_tokens > 0)
            gw_series_add(gw_llm_series_tokens(l, t, 0), (double)res->prompt_tokens);
        if (res->completion_tokens > 0)
            gw_series_add(gw_llm_series_tokens(l, t, 1), (double)res->completion_tokens);
    } else if (gw_log_enabled(OC_LOG_DEBUG)) {
        gw_log(OC_LOG_DEBUG, "llm", "%s failed (%s): %s", t->id, gw_llm_outcome(cls),
               r->error ? r->error : "?");
    }
    r->last = t;
    r->prev = t;
    r->cur = NULL;
    r->call = NULL;
    r->hop = NULL;
    return gw_llm_failover_class(cls) && !r->streamed;
}

/* ---- provider callbacks (direct and through a hop) ---- */

static int32_t on_chunk(void *data, const char *json, size_t len)
{
    gw_llm_run_t *r = data;
    if (r->canceled || r->cur == NULL)
        return OC_ECANCELED;
    double now = gw_llm_now();
    if (r->chunks++ == 0)
        gw_series_observe(gw_llm_series_ttft(r->l, r->cur), now - r->t_start);
    else
        gw_series_observe(r->cur->prov->chunk_gap, now - r->t_last);
    r->t_last = now;
    r->streamed = 1;
    r->busy++;
    int32_t rc = r->cbs.on_chunk ? r->cbs.on_chunk(r->data, json, len) : OC_OK;
    r->busy--;
    if (r->canceled) {
        if (r->busy == 0)
            run_free(r);
        return OC_ECANCELED;
    }
    return rc;
}

static void advance(gw_llm_run_t *r);

static void on_done(void *data, const oc_chat_result_t *res)
{
    gw_llm_run_t *r = data;
    if (r->in_chat) {
        /* A provider answered from inside chat: keep a copy, act after. */
        r->early_done = 1;
        r->status = res->status;
        r->cls = res->status == OC_OK ? OC_PROV_ERR_NONE : res->error_class;
        r->http_status = res->http_status;
        r->retry_after_ms = res->retry_after_ms;
        set_error(r, res->error);
        r->ptok = res->prompt_tokens;
        r->ctok = res->completion_tokens;
        free(r->body);
        r->body = NULL;
        r->body_len = 0;
        if (res->body_json && (r->body = malloc(res->body_len + 1)) != NULL) {
            memcpy(r->body, res->body_json, res->body_len);
            r->body[res->body_len] = '\0';
            r->body_len = res->body_len;
        }
        return;
    }
    if (r->canceled)
        return;
    if (attempt_end(r, res))
        advance(r);
    else
        finish(r, res->body_json, res->body_len);
}

/* ---- starting attempts ---- */

static const oc_chat_callbacks_t direct_cbs = {
    .struct_size = sizeof(oc_chat_callbacks_t),
    .on_chunk = on_chunk,
    .on_done = on_done,
};

static const gw_llm_hop_cbs_t hop_cbs = {
    .on_chunk = on_chunk,
    .on_done = on_done,
};

/* Starts an attempt on t. 1 when it is in flight; 0 when it ended at once
 * (r holds its outcome, as attempt_end left it). */
static int attempt_start(gw_llm_run_t *r, const gw_llm_target_t *t, int probe)
{
    gw_llm_t *l = r->l;
    if (r->prev) {
        const char *lv[] = {r->prev->prov->name, t->prov->name};
        gw_metric_add(l->m.fallbacks, lv, 1);
    }
    r->cur = t;
    r->probe = probe;
    r->chunks = 0;
    r->attempts++;
    r->t_start = gw_llm_now();
    oc_chat_request_t req = {
        .struct_size = sizeof(req),
        .stream = r->req.stream,
        .provider = t->prov->name,
        .model = t->model,
        .body_json = r->req.body,
        .body_len = r->req.body_len,
        .timeout_ms = r->req.timeout_ms,
        .first_token_timeout_ms = r->req.stream ? r->req.first_token_timeout_ms : 0,
    };
    oc_plugin_t *p = t->prov->plugin;
    if (!t->prov->multi_loop && r->loop != l->home) {
        r->hop = gw_llm_hop_start(l->home, p, &req, &hop_cbs, r);
        if (r->hop)
            return 1;
        /* The main loop is closing: the gateway stops, nothing to fail over to. */
        oc_chat_result_t res = {.struct_size = sizeof(res), .status = OC_ECANCELED,
                                .error_class = OC_PROV_ERR_CANCELED,
                                .error = "the gateway is stopping",
                                .prompt_tokens = -1, .completion_tokens = -1};
        attempt_end(r, &res);
        return -1;
    }
    r->in_chat = 1;
    r->early_done = 0;
    oc_provider_call_t *call = NULL;
    int32_t rc = p->mod->k.provider.chat(p->state, &req, &direct_cbs, r, &call);
    r->in_chat = 0;
    if (r->early_done) {
        oc_chat_result_t res = {.struct_size = sizeof(res), .status = r->status,
                                .error_class = r->cls, .http_status = r->http_status,
                                .retry_after_ms = r->retry_after_ms, .error = r->error,
                                .body_json = r->body, .body_len = r->body_len,
                                .prompt_tokens = r->ptok, .completion_tokens = r->ctok};
        char *e = r->error;
        r->error = NULL; /* attempt_end copies it */
        int cont = attempt_end(r, &res);
        free(e);
        return cont ? 0 : -1;
    }
    if (rc == OC_PENDING || rc == OC_OK) {
        r->call = call;
        return 1;
    }
    /* Refused at once: nothing was called back. OC_EINVAL is the request's
     * fault (no fail-over); anything else (stopping, out of memory) is the
     * provider's, without cooling it down. */
    int32_t cls = rc == OC_EINVAL ? OC_PROV_ERR_REQUEST : OC_PROV_ERR_CANCELED;
    oc_chat_result_t res = {.struct_size = sizeof(res), .status = rc, .error_class = cls,
                            .error = rc == OC_EINVAL ? "the provider refused the request"
                                                     : "the provider refused the call",
                            .prompt_tokens = -1, .completion_tokens = -1};
    attempt_end(r, &res);
    return rc == OC_EINVAL ? -1 : 0;
}

/* Tries targets until one is in flight or the run is over. */
static void advance(gw_llm_run_t *r)
{
    gw_llm_t *l = r->l;
    for (;;) {
        const gw_llm_target_t *t;
        int probe;
        if (r->next < r->chain->n) {
            t = r->chain->t[r->next];
            uint64_t until = 0;
            int a = gw_cooldown_acquire(l->cooldown, t->prov->idx, gw_now_ms(), &until);
            if (a == GW_CD_SKIP) {
                if (r->earliest < 0 || until < r->earliest_until) {
                    r->earliest = (long)r->next;
                    r->earliest_until = until;
                }
                r->next++;
                continue;
            }
            r->next++;
            probe = a == GW_CD_PROBE;
        } else if (r->earliest >= 0 && !r->forced) {
            /* Every candidate left is cooling: try the one whose cooldown
             * ends first anyway. An outage of all providers must not
             * become a self-inflicted one once they are back. */
            r->forced = 1;
            t = r->chain->t[r->earliest];
            r->earliest = -1;
            probe = gw_cooldown_force(l->cooldown, t->prov->idx) == GW_CD_PROBE;
        } else {
            if (r->last == NULL) {
                r->status = OC_EUNAVAIL;
                r->cls = OC_PROV_ERR_SERVER;
                set_error(r, "no provider to try");
            }
            finish(r, r->body, r->body_len);
            return;
        }
        int st = attempt_start(r, t, probe);
        if (st == 1)
            return;
        if (st < 0) { /* no fail-over after this outcome */
            finish(r, r->body, r->body_len);
            return;
        }
    }
}

gw_llm_run_t *gw_llm_run_start(gw_llm_t *l, const gw_llm_chain_t *chain, const gw_llm_req_t *req,
                               const gw_llm_run_cbs_t *cbs, void *data)
{
    gw_loop_t *loop = gw_loop_current();
    if (loop == NULL || chain == NULL || cbs == NULL || cbs->on_done == NULL)
        return NULL;
    gw_llm_run_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->l = l;
    r->chain = chain;
    r->req = *req;
    r->cbs = *cbs;
    r->data = data;
    r->loop = loop;
    r->earliest = -1;
    r->ptok = r->ctok = -1;
    r->starting = 1;
    advance(r);
    r->starting = 0;
    return r;
}

void gw_llm_run_cancel(gw_llm_run_t *r)
{
    if (r == NULL || r->canceled || r->finished)
        return;
    r->canceled = 1;
    if (r->cur) {
        const gw_llm_target_t *t = r->cur;
        gw_series_add(gw_llm_series_calls(r->l, t, OC_PROV_ERR_CANCELED), 1);
        r->upstream += gw_llm_now() - r->t_start;
        gw_cooldown_release(r->l->cooldown, t->prov->idx, r->probe);
        if (r->hop)
            gw_llm_hop_cancel(r->hop);
        else if (r->call)
            t->prov->plugin->mod->k.provider.cancel(t->prov->plugin->state, r->call);
        r->cur = NULL;
        r->call = NULL;
        r->hop = NULL;
    }
    if (r->busy == 0)
        run_free(r);
    /* else: inside on_chunk (or a deferred answer is queued): freed there */
}
