/* server/completions.c - POST /v1/chat/completions (SPEC §6).
 *
 * model "provider/model" or an alias: the request's own body goes to the
 * target's chain (llm/run.h) as it came (providers set model and stream);
 * a non-streamed answer comes back unchanged, a streamed one chunk by
 * chunk, each written as it arrives.
 * model "openclaw/<agentId>" (and its other forms): the agent answers the
 * last user message in its session (an agent job on the main loop); the
 * gateway writes the chat.completion or its chunks itself.
 *
 * Errors: 400 with the parameter named, 404 model_not_found, then what the
 * run or turn ended with (gw_api_fail). A stream that already started ends
 * with an error chunk and [DONE] instead. Worker thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llm/oai_json.h"
#include "llm/sse.h"
#include "server/api.h"

#define MODEL_MAX 160

typedef struct chat_s {
    gw_api_t a;             /* first */
    /* agent answers, written by the gateway */
    char id[48];
    int64_t created;
    char model[MODEL_MAX];  /* the model as the client named it */
    int include_usage;
    int deltas;             /* chunks written */
} chat_t;

/* ---- shared ---- */

/* A stream that already started ends with an error chunk, then [DONE]. */
static void stream_fail(gw_api_t *a, int32_t status, int32_t cls, int http_status,
                        const char *target, const char *error)
{
    gw_buf_t *b = gw_stream_buf(&a->st);
    if (b) {
        const char *type, *code;
        gw_api_fail_status(status, cls, http_status, &type, &code);
        gw_buf_t msg = GW_BUF_INIT, json = GW_BUF_INIT;
        gw_api_fail_message(&msg, cls, target, error);
        gw_llm_error_json(&json, msg.data, type, NULL, code);
        gw_sse_data(b, json.data, json.len);
        gw_buf_puts(b, GW_SSE_DONE);
        gw_buf_free(&msg);
        gw_buf_free(&json);
        gw_stream_commit(&a->st);
    }
    gw_stream_end(&a->st);
}

/* ---- proxy ---- */

static int32_t proxy_chunk(gw_api_t *a, const char *json, size_t len)
{
    gw_buf_t *b = gw_stream_buf(&a->st);
    if (b == NULL)
        return OC_OK; /* the client is gone: the pool's dispose cancels the run */
    if (gw_sse_data(b, json, len) != 0)
        return OC_ECANCELED;
    gw_stream_commit(&a->st);
    return OC_OK;
}

static void proxy_done(gw_api_t *a, const gw_llm_result_t *res)
{
    const char *target = res->target ? res->target->id : NULL;
    if (res->status == OC_OK && !a->streaming) {
        /* Nothing to rewrite: the upstream's body goes back as it came. */
        gw_api_send_json(a, 200, res->body ? res->body : "{}", res->body ? res->body_len : 2);
    } else if (res->status == OC_OK) {
        gw_stream_write(&a->st, GW_SSE_DONE, sizeof(GW_SSE_DONE) - 1);
        gw_stream_end(&a->st);
    } else if (a->streaming && a->st.started) {
        stream_fail(a, res->status, res->error_class, res->http_status, target, res->error);
    } else {
        gw_api_fail(a, res->status, res->error_class, res->http_status, res->retry_after_ms,
                    target, res->error);
    }
}

/* ---- agent ---- */

static void agent_chunk(chat_t *c, const char *role, const char *text, size_t len,
                        const char *finish)
{
    gw_buf_t *b = gw_stream_buf(&c->a.st);
    if (b == NULL)
        return;
    gw_buf_t json = GW_BUF_INIT;
    gw_llm_chunk_json(&json, c->id, c->created, c->model, role, text, len, finish);
    gw_sse_data(b, json.data, json.len);
    gw_buf_free(&json);
    gw_stream_commit(&c->a.st);
    c->deltas++;
}

static void agent_delta(gw_api_t *a, const char *text, size_t len)
{
    chat_t *c = (chat_t *)a;
    if (!a->streaming)
        return; /* the whole reply comes with the end */
    agent_chunk(c, c->deltas ? NULL : "assistant", text, len, NULL);
}

static void agent_done(gw_api_t *a, const gw_llm_agent_result_t *res)
{
    chat_t *c = (chat_t *)a;
    if (res->status != OC_OK) {
        if (a->streaming && a->st.started)
            stream_fail(a, res->status, res->error_class, res->http_status, NULL, res->error);
        else
            gw_api_fail(a, res->status, res->error_class, res->http_status,
                        res->retry_after_ms, NULL, res->error);
        return;
    }
    if (!a->streaming) {
        gw_buf_t b = GW_BUF_INIT;
        gw_llm_completion_json(&b, c->id, c->created, c->model, res->text, res->len,
                               res->finish, res->prompt_tokens, res->completion_tokens);
        gw_api_send_json(a, 200, b.data, b.len);
        gw_buf_free(&b);
        return;
    }
    if (c->deltas == 0) /* answered without the provider (a reset) or without deltas */
        agent_chunk(c, "assistant", res->text, res->len, NULL);
    agent_chunk(c, NULL, NULL, 0, res->finish ? res->finish : "stop");
    gw_buf_t *b = gw_stream_buf(&a->st);
    if (b && c->include_usage) {
        gw_buf_t json = GW_BUF_INIT;
        gw_llm_usage_chunk_json(&json, c->id, c->created, c->model, res->prompt_tokens,
                                res->completion_tokens);
        gw_sse_data(b, json.data, json.len);
        gw_buf_free(&json);
    }
    if (b)
        gw_buf_puts(b, GW_SSE_DONE);
    gw_stream_commit(&a->st);
    gw_stream_end(&a->st);
}

static const gw_api_ops_t chat_ops = {
    .on_chunk = proxy_chunk,
    .on_done = proxy_done,
    .on_delta = agent_delta,
    .on_agent_done = agent_done,
};

static void start_agent(chat_t *c, const gw_llm_chat_t *q, const gw_agent_cfg_t *agent)
{
    gw_api_t *a = &c->a;
    gw_llm_err_t err;
    gw_buf_t text = GW_BUF_INIT, system = GW_BUF_INIT, key = GW_BUF_INIT;
    json_object *n = NULL;
    if (json_object_object_get_ex(q->root, "n", &n) && n && json_object_get_int64(n) != 1) {
        gw_api_error(a, 400, "invalid_request_error", "n", "invalid_value",
                     "Invalid 'n': an agent model (openclaw/<agentId>) answers once; n must "
                     "be 1");
    } else if (q->has_tools) {
        gw_api_error(a, 400, "invalid_request_error", "tools", "unsupported_parameter",
                     "Unsupported parameter: 'tools' with an agent model; name a "
                     "provider/model (or an alias) to pass tools to the provider");
    } else if (gw_llm_chat_prompt(q, &text, &system, &err) != 0) {
        gw_api_error(a, err.status, err.type, err.param, err.code, err.message);
    } else if (gw_api_session_key(a, agent, q->user, &key) == 0) {
        char *sampling = gw_llm_sampling_json(q->root);
        gw_llm_agent_job_t *job =
            sampling ? gw_llm_agent_job_new(agent, key.data, text.data,
                                            system.len ? system.data : NULL, sampling,
                                            a->streaming)
                     : NULL;
        free(sampling);
        h2o_req_t *req = a->r.req;
        /* The key, so a client that did not choose one can continue. */
        char *hv = h2o_mem_alloc_pool(&req->pool, key.len + 1);
        memcpy(hv, key.data, key.len + 1);
        h2o_add_header_by_str(&req->pool, &req->res.headers,
                              H2O_STRLIT("x-openclaw-session-key"), 0, NULL, hv, key.len);
        if (job == NULL)
            gw_api_error(a, 500, "internal_error", NULL, "internal_error", "out of memory");
        else
            gw_api_submit(a, job);
    }
    gw_buf_free(&text);
    gw_buf_free(&system);
    gw_buf_free(&key);
}

void gw_completions_handle(gw_http_req_t *r)
{
    h2o_req_t *req = r->req;
    gw_llm_chat_t q;
    gw_llm_err_t err;
    if (gw_llm_chat_parse(req->entity.base, req->entity.base ? req->entity.len : 0, &q,
                          &err) != 0) {
        gw_buf_t b = GW_BUF_INIT;
        gw_llm_err_json(&b, &err);
        gw_http_send(r, err.status, "application/json", b.data, b.len);
        gw_buf_free(&b);
        return;
    }
    chat_t *c = (chat_t *)gw_api_new(r, sizeof(chat_t), &chat_ops, q.stream);
    if (c == NULL) {
        gw_llm_chat_free(&q);
        gw_http_error(r, 500, "internal_error", "out of memory");
        return;
    }
    gw_api_t *a = &c->a;
    const gw_agent_cfg_t *agent;
    const gw_llm_chain_t *chain;
    int kind = gw_api_resolve(a, q.model, &agent, &chain);
    if (kind == GW_API_PROXY) {
        gw_llm_chat_free(&q); /* the body itself goes upstream: drop the parse early */
        gw_api_run(a, chain, req->entity.base, req->entity.len);
        return;
    }
    if (kind == GW_API_AGENT) {
        gw_llm_id(c->id, sizeof(c->id), "chatcmpl-");
        c->created = (int64_t)time(NULL);
        snprintf(c->model, sizeof(c->model), "%s", q.model);
        c->include_usage = q.include_usage;
        start_agent(c, &q, agent);
    }
    gw_llm_chat_free(&q);
}
