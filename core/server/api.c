/* server/api.c - see api.h. */
#include "server/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llm/oai_json.h"

static void hold(gw_api_t *a)
{
    a->holds++;
}

static void unhold(gw_api_t *a)
{
    if (--a->holds > 0)
        return;
    if (a->ops->free)
        a->ops->free(a);
    free(a);
}

/* The request's pool is going: the answer is out, or the client went away
 * (then whatever runs for it is canceled now). */
static void on_dispose(void *p)
{
    gw_api_t *a = *(gw_api_t **)p;
    a->r.req = NULL; /* the pool's hold keeps a alive until the end here */
    if (a->run) {
        gw_llm_run_t *run = a->run;
        a->run = NULL;
        gw_llm_run_cancel(run);
        unhold(a); /* the run's */
    }
    if (a->job) {
        gw_llm_agent_job_t *job = a->job;
        a->job = NULL;
        gw_llm_agent_job_cancel(job);
        unhold(a); /* the job's */
    }
    if (a->streaming) {
        /* A stream cut short by its client still counts as served (200). */
        if (a->st.started && !a->counted) {
            a->counted = 1;
            gw_http_count(&a->r, 200);
        }
        gw_stream_detach(&a->st);
        gw_stream_close(&a->st); /* its hold goes in on_stream_closed */
    }
    unhold(a); /* the pool's */
}

static void on_stream_closed(void *data)
{
    unhold(data);
}

gw_api_t *gw_api_new(gw_http_req_t *r, size_t size, const gw_api_ops_t *ops, int streaming)
{
    gw_loop_t *loop = gw_loop_current();
    gw_api_t *a = calloc(1, size);
    if (a == NULL || loop == NULL) {
        free(a);
        return NULL;
    }
    a->r = *r;
    a->ops = ops;
    a->llm = r->srv->llm;
    a->streaming = streaming;
    gw_api_t **slot = h2o_mem_alloc_shared(&r->req->pool, sizeof(*slot), on_dispose);
    *slot = a;
    a->holds = 1; /* the pool's */
    if (streaming) {
        a->holds++; /* the stream timer's */
        gw_stream_init(&a->st, &a->r, loop->uv, r->srv->cfg->stream_keepalive_ms,
                       on_stream_closed, a);
    }
    return a;
}

/* ---- answers ---- */

void gw_api_send_json(gw_api_t *a, int status, const char *json, size_t len)
{
    if (a->r.req == NULL || a->answered)
        return;
    a->answered = 1;
    if (a->streaming)
        gw_stream_detach(&a->st); /* answered plainly: no keep-alive from now on */
    hold(a);
    gw_http_send(&a->r, status, "application/json", json, len);
    unhold(a);
}

void gw_api_error(gw_api_t *a, int status, const char *type, const char *param,
                  const char *code, const char *message)
{
    if (a->r.req == NULL || a->answered || (a->streaming && a->st.started))
        return;
    gw_buf_t b = GW_BUF_INIT;
    gw_llm_error_json(&b, message, type, param, code);
    gw_api_send_json(a, status, b.data, b.len);
    gw_buf_free(&b);
}

int gw_api_fail_status(int32_t status, int32_t cls, int http_status, const char **type,
                       const char **code)
{
    switch (cls) {
    case OC_PROV_ERR_REQUEST:
        /* The upstream refused the request itself: its status goes back. */
        *type = "invalid_request_error";
        *code = "upstream_request_error";
        return http_status >= 400 && http_status < 500 && http_status != 429 ? http_status
                                                                             : 400;
    case OC_PROV_ERR_RATE:
        *type = "rate_limit_error";
        *code = "rate_limit_exceeded";
        return 429;
    case OC_PROV_ERR_TIMEOUT:
        *type = "timeout_error";
        *code = "upstream_timeout";
        return 504;
    case OC_PROV_ERR_AUTH:
    case OC_PROV_ERR_SERVER:
    case OC_PROV_ERR_NETWORK:
        *type = "upstream_error";
        *code = "upstream_error";
        return 502;
    case OC_PROV_ERR_CANCELED:
        *type = "unavailable";
        *code = "unavailable";
        return 503;
    default:
        break;
    }
    /* Not a provider's failure (agent turns): the queue, storage, stop. */
    switch (status) {
    case OC_ELIMIT:
        *type = "rate_limit_error";
        *code = "queue_full";
        return 429;
    case OC_ETIMEDOUT:
        *type = "timeout_error";
        *code = "timeout";
        return 504;
    case OC_ECANCELED:
    case OC_EUNAVAIL:
        *type = "unavailable";
        *code = "unavailable";
        return 503;
    default:
        *type = "internal_error";
        *code = "internal_error";
        return 500;
    }
}

void gw_api_fail_message(gw_buf_t *out, int32_t cls, const char *target, const char *error)
{
    if (target && cls != OC_PROV_ERR_REQUEST && cls != OC_PROV_ERR_CANCELED)
        gw_buf_printf(out, "every model of the chain failed; the last, %s: %s", target,
                      error ? error : "failed");
    else if (target)
        gw_buf_printf(out, "%s: %s", target, error ? error : "failed");
    else
        gw_buf_puts(out, error ? error : "failed");
}

void gw_api_fail(gw_api_t *a, int32_t status, int32_t cls, int http_status,
                 uint32_t retry_after_ms, const char *target, const char *error)
{
    if (a->r.req == NULL || a->answered)
        return;
    const char *type, *code;
    int st = gw_api_fail_status(status, cls, http_status, &type, &code);
    if (st == 429) {
        /* The upstream's (or our) Retry-After, in whole seconds, at least 1. */
        char *v = h2o_mem_alloc_pool(&a->r.req->pool, 16);
        snprintf(v, 16, "%u", retry_after_ms ? (retry_after_ms + 999) / 1000 : 1);
        h2o_add_header(&a->r.req->pool, &a->r.req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, v,
                       strlen(v));
    }
    gw_buf_t msg = GW_BUF_INIT;
    gw_api_fail_message(&msg, cls, target, error);
    gw_api_error(a, st, type, NULL, code, msg.data);
    gw_buf_free(&msg);
}

/* The end of a request: the gateway's own time (total minus upstream), and
 * a stream's count in the HTTP metrics. */
static void finish_metrics(gw_api_t *a, double upstream)
{
    double total = gw_mono_seconds() - a->r.started;
    double ovh = total - upstream;
    const char *lv[] = {gw_http_route_label(&a->r)};
    gw_metric_observe(a->llm->m.overhead, lv, ovh > 0 ? ovh : 0);
    if (a->streaming && a->st.started && !a->counted) {
        a->counted = 1;
        gw_http_count(&a->r, 200);
    }
}

/* ---- proxy runs ---- */

static int32_t run_on_chunk(void *data, const char *json, size_t len)
{
    gw_api_t *a = data;
    return a->ops->on_chunk(a, json, len);
}

static void run_on_done(void *data, const gw_llm_result_t *res)
{
    gw_api_t *a = data;
    a->run = NULL;
    a->ops->on_done(a, res);
    finish_metrics(a, res->upstream_seconds);
    unhold(a); /* the run's: it kept a alive until here */
}

void gw_api_run(gw_api_t *a, const gw_llm_chain_t *chain, const char *body, size_t len)
{
    static const gw_llm_run_cbs_t cbs = {.on_chunk = run_on_chunk, .on_done = run_on_done};
    gw_llm_req_t req = {
        .body = body,
        .body_len = len,
        .stream = a->streaming,
        .first_token_timeout_ms = a->r.srv->cfg->first_token_timeout_ms,
    };
    hold(a); /* the run's; a callback never comes from inside start */
    a->run = gw_llm_run_start(a->llm, chain, &req, &cbs, a);
    if (a->run == NULL) {
        unhold(a);
        gw_api_error(a, 500, "internal_error", NULL, "internal_error",
                     "out of memory starting the provider call");
    }
}

/* ---- agent jobs ---- */

static void job_on_delta(void *data, const char *text, size_t len)
{
    gw_api_t *a = data;
    a->ops->on_delta(a, text, len);
}

static void job_on_done(void *data, const gw_llm_agent_result_t *res)
{
    gw_api_t *a = data;
    a->job = NULL;
    a->ops->on_agent_done(a, res);
    finish_metrics(a, res->upstream_seconds);
    unhold(a); /* the job's: it kept a alive until here */
}

void gw_api_submit(gw_api_t *a, gw_llm_agent_job_t *job)
{
    static const gw_llm_agent_cbs_t cbs = {.on_delta = job_on_delta, .on_done = job_on_done};
    hold(a); /* the job's */
    a->job = job;
    int rc = gw_llm_agent_job_submit(a->llm, job, &cbs, a);
    if (rc != 0) { /* the job was freed */
        a->job = NULL;
        unhold(a);
        gw_api_error(a, 503, "unavailable", NULL, "unavailable",
                     "agent models are not available (the messaging core is not running)");
    }
}

/* ---- models and sessions ---- */

int gw_api_resolve(gw_api_t *a, const char *model, const gw_agent_cfg_t **agent,
                   const gw_llm_chain_t **chain)
{
    *agent = NULL;
    *chain = NULL;
    /* Configured provider/model ids (and aliases) win over the agent forms. */
    const gw_llm_target_t *t = gw_llm_target(a->llm, model, strlen(model));
    if (t) {
        *chain = &t->chain;
        return GW_API_PROXY;
    }
    gw_buf_t msg = GW_BUF_INIT;
    if (gw_llm_agent_model(a->llm, model, agent)) {
        const char *why = NULL;
        if (*agent && gw_llm_agent_chain(a->llm, *agent, &why) != NULL)
            return GW_API_AGENT;
        if (*agent) {
            gw_buf_printf(&msg, "The agent '%s' cannot answer: %s", (*agent)->id, why);
            gw_api_error(a, 503, "unavailable", "model", "agent_unavailable", msg.data);
            gw_buf_free(&msg);
            return 0;
        }
    }
    /* Never echo more of a client's string than needed. */
    gw_buf_printf(&msg, "The model '%.100s' does not exist (GET /v1/models lists the agents, "
                  "provider/model ids and aliases)", model);
    gw_api_error(a, 404, "invalid_request_error", "model", "model_not_found", msg.data);
    gw_buf_free(&msg);
    return 0;
}

static int key_char_ok(unsigned char c)
{
    return c > 0x20 && c != 0x7f;
}

int gw_api_session_key(gw_api_t *a, const gw_agent_cfg_t *agent, const char *user,
                       gw_buf_t *key)
{
    static const char *const reserved[] = {"subagent:", "cron:", "acp:", NULL};
    h2o_req_t *req = a->r.req;
    ssize_t hi = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-openclaw-session-key"), -1);
    gw_buf_t prefix = GW_BUF_INIT;
    gw_buf_printf(&prefix, "agent:%s:", agent->id);
    const char *what = NULL;
    const char *v = NULL;
    size_t n = 0;
    if (hi >= 0) {
        v = req->headers.entries[hi].value.base;
        n = req->headers.entries[hi].value.len;
        what = "x-openclaw-session-key";
    } else if (user) {
        v = user;
        n = strlen(user);
        what = "user";
    }
    int bad = v && (n == 0 || n > 256);
    for (size_t i = 0; v && !bad && i < n; i++)
        bad = !key_char_ok((unsigned char)v[i]);
    for (size_t i = 0; v && !bad && hi >= 0 && reserved[i]; i++)
        bad = n >= strlen(reserved[i]) && strncasecmp(v, reserved[i], strlen(reserved[i])) == 0;
    if (!bad && hi >= 0 && n >= 6 && strncasecmp(v, "agent:", 6) == 0)
        bad = n <= prefix.len || strncasecmp(v, prefix.data, prefix.len) != 0;
    if (bad) {
        gw_buf_t msg = GW_BUF_INIT;
        gw_buf_printf(&msg, "Invalid '%s': 1 to 256 visible characters, no spaces%s", what,
                      hi >= 0 ? "; not in a reserved namespace (subagent:, cron:, acp:); a full "
                                "key must start with agent:<the model's agent id>:"
                              : "");
        gw_api_error(a, 400, "invalid_request_error", hi >= 0 ? NULL : "user",
                     "invalid_session_key", msg.data);
        gw_buf_free(&msg);
        gw_buf_free(&prefix);
        return -1;
    }
    if (v == NULL) {
        char id[40];
        gw_llm_id(id, sizeof(id), "");
        gw_buf_printf(key, "%sopenai:%s", prefix.data, id);
    } else if (hi >= 0 && n >= 6 && strncasecmp(v, "agent:", 6) == 0) {
        gw_buf_append(key, v, n);
    } else {
        gw_buf_puts(key, prefix.data);
        if (hi < 0)
            gw_buf_puts(key, "openai-user:");
        gw_buf_append(key, v, n);
    }
    for (size_t i = 0; i < key->len; i++) /* session keys are lower-case (SPEC §7) */
        if (key->data[i] >= 'A' && key->data[i] <= 'Z')
            key->data[i] = (char)(key->data[i] - 'A' + 'a');
    gw_buf_free(&prefix);
    return 0;
}
