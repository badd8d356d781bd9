/* server/responses.c - POST /v1/responses (SPEC §6): the Responses API for
 * text. The input (a string, or message items with input_text parts) and
 * the instructions (the system message) become a chat.completions request
 * for a provider/model or alias, or the prompt of an agent turn
 * (openclaw/<agentId>); the answer becomes a response object with one
 * message of output_text, or, streaming, the events in OpenAI's order:
 * response.created, response.in_progress, response.output_item.added,
 * response.content_part.added, response.output_text.delta...,
 * response.output_text.done, response.content_part.done,
 * response.output_item.done, response.completed (response.failed on an
 * error once streaming), then "data: [DONE]". Worker thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llm/oai_json.h"
#include "llm/sse.h"
#include "server/api.h"

#define MODEL_MAX 160

typedef struct resp_s {
    gw_api_t a;               /* first */
    gw_llm_resp_req_t q;      /* the request; its chat_body is what proxy runs send */
    char id[48], msg_id[48];
    int64_t created;
    char model[MODEL_MAX];
    int64_t seq;              /* next sequence_number */
    int begun;                /* the opening events went out */
    gw_buf_t text;            /* the output so far (proxy streams) */
    int64_t ptok, ctok;
} resp_t;

static void resp_free(gw_api_t *a)
{
    resp_t *r = (resp_t *)a;
    gw_llm_resp_free(&r->q);
    gw_buf_free(&r->text);
}

static gw_llm_resp_t view(resp_t *r, const char *status, const char *text, size_t len)
{
    gw_llm_resp_t v = {
        .id = r->id,
        .msg_id = r->msg_id,
        .created = r->created,
        .model = r->model,
        .req = &r->q,
        .status = status,
        .text = text,
        .text_len = len,
        .ptok = r->ptok,
        .ctok = r->ctok,
    };
    return v;
}

/* Appends one event to the stream's buffer. */
static void event(resp_t *r, gw_buf_t *b, const char *type, const gw_llm_resp_t *v,
                  const char *delta, size_t len)
{
    gw_buf_t json = GW_BUF_INIT;
    gw_llm_resp_event(&json, type, r->seq++, v, delta, len);
    gw_sse_event(b, type, json.data, json.len);
    gw_buf_free(&json);
}

/* The events before the first delta, with the first chunk. */
static void begin(resp_t *r, gw_buf_t *b)
{
    if (r->begun)
        return;
    r->begun = 1;
    gw_llm_resp_t v = view(r, "in_progress", NULL, 0);
    event(r, b, "response.created", &v, NULL, 0);
    event(r, b, "response.in_progress", &v, NULL, 0);
    event(r, b, "response.output_item.added", &v, NULL, 0);
    event(r, b, "response.content_part.added", &v, NULL, 0);
}

static void delta(resp_t *r, const char *text, size_t len)
{
    gw_buf_t *b = gw_stream_buf(&r->a.st);
    if (b == NULL)
        return;
    begin(r, b);
    if (len > 0) {
        gw_llm_resp_t v = view(r, "in_progress", NULL, 0);
        event(r, b, "response.output_text.delta", &v, text, len);
    }
    gw_stream_commit(&r->a.st);
}

static void complete(resp_t *r, const char *text, size_t len)
{
    gw_api_t *a = &r->a;
    gw_llm_resp_t v = view(r, "completed", text, len);
    if (!a->streaming) {
        gw_buf_t b = GW_BUF_INIT;
        gw_llm_resp_json(&b, &v);
        gw_api_send_json(a, 200, b.data, b.len);
        gw_buf_free(&b);
        return;
    }
    gw_buf_t *b = gw_stream_buf(&a->st);
    if (b == NULL)
        return;
    begin(r, b);
    event(r, b, "response.output_text.done", &v, NULL, 0);
    event(r, b, "response.content_part.done", &v, NULL, 0);
    event(r, b, "response.output_item.done", &v, NULL, 0);
    event(r, b, "response.completed", &v, NULL, 0);
    gw_buf_puts(b, GW_SSE_DONE);
    gw_stream_commit(&a->st);
    gw_stream_end(&a->st);
}

static void fail(resp_t *r, int32_t status, int32_t cls, int http_status, uint32_t retry_after,
                 const char *target, const char *error)
{
    gw_api_t *a = &r->a;
    if (!a->streaming || !a->st.started) {
        gw_api_fail(a, status, cls, http_status, retry_after, target, error);
        return;
    }
    gw_buf_t *b = gw_stream_buf(&a->st);
    if (b) {
        const char *type, *code;
        gw_api_fail_status(status, cls, http_status, &type, &code);
        gw_buf_t msg = GW_BUF_INIT;
        gw_api_fail_message(&msg, cls, target, error);
        gw_llm_resp_t v = view(r, "failed", r->text.len ? r->text.data : NULL, r->text.len);
        v.error_code = code;
        v.error_message = msg.data;
        event(r, b, "response.failed", &v, NULL, 0);
        gw_buf_puts(b, GW_SSE_DONE);
        gw_buf_free(&msg);
        gw_stream_commit(&a->st);
    }
    gw_stream_end(&a->st);
}

/* ---- proxy ---- */

static int32_t proxy_chunk(gw_api_t *a, const char *json, size_t len)
{
    resp_t *r = (resp_t *)a;
    size_t before = r->text.len;
    gw_llm_delta_t d;
    if (gw_llm_chunk_read(json, len, &r->text, &d) != 0)
        return OC_OK; /* not ours to judge: the provider checked it */
    if (d.ptok >= 0)
        r->ptok = d.ptok;
    if (d.ctok >= 0)
        r->ctok = d.ctok;
    delta(r, r->text.data ? r->text.data + before : "", r->text.len - before);
    return OC_OK;
}

static void proxy_done(gw_api_t *a, const gw_llm_result_t *res)
{
    resp_t *r = (resp_t *)a;
    const char *target = res->target ? res->target->id : NULL;
    if (res->status != OC_OK) {
        fail(r, res->status, res->error_class, res->http_status, res->retry_after_ms, target,
             res->error);
        return;
    }
    if (a->streaming) {
        if (res->prompt_tokens >= 0)
            r->ptok = res->prompt_tokens;
        if (res->completion_tokens >= 0)
            r->ctok = res->completion_tokens;
        complete(r, r->text.data ? r->text.data : "", r->text.len);
        return;
    }
    const char *finish;
    if (gw_llm_completion_read(res->body, res->body_len, &r->text, &finish, &r->ptok,
                               &r->ctok) != 0) {
        fail(r, OC_EUNAVAIL, OC_PROV_ERR_SERVER, 0, 0, target,
             "the upstream's answer has no choices[0].message");
        return;
    }
    complete(r, r->text.data ? r->text.data : "", r->text.len);
}

/* ---- agent ---- */

static void agent_delta(gw_api_t *a, const char *text, size_t len)
{
    if (a->streaming)
        delta((resp_t *)a, text, len);
}

static void agent_done(gw_api_t *a, const gw_llm_agent_result_t *res)
{
    resp_t *r = (resp_t *)a;
    if (res->status != OC_OK) {
        fail(r, res->status, res->error_class, res->http_status, res->retry_after_ms, NULL,
             res->error);
        return;
    }
    r->ptok = res->prompt_tokens;
    r->ctok = res->completion_tokens;
    if (a->streaming && !r->begun && res->len > 0)
        delta(r, res->text, res->len); /* answered without deltas (a reset) */
    complete(r, res->text ? res->text : "", res->len);
}

static const gw_api_ops_t resp_ops = {
    .on_chunk = proxy_chunk,
    .on_done = proxy_done,
    .on_delta = agent_delta,
    .on_agent_done = agent_done,
    .free = resp_free,
};

static void start_agent(resp_t *r, const gw_agent_cfg_t *agent)
{
    gw_api_t *a = &r->a;
    gw_buf_t key = GW_BUF_INIT, sampling = GW_BUF_INIT;
    if (gw_api_session_key(a, agent, r->q.user, &key) != 0) {
        gw_buf_free(&key);
        return;
    }
    gw_buf_puts(&sampling, "{");
    if (r->q.temperature >= 0)
        gw_buf_printf(&sampling, "\"temperature\":%.17g", r->q.temperature);
    if (r->q.top_p >= 0)
        gw_buf_printf(&sampling, "%s\"top_p\":%.17g", sampling.len > 1 ? "," : "", r->q.top_p);
    if (r->q.max_output_tokens > 0)
        gw_buf_printf(&sampling, "%s\"max_tokens\":%lld", sampling.len > 1 ? "," : "",
                      (long long)r->q.max_output_tokens);
    gw_buf_puts(&sampling, "}");
    gw_llm_agent_job_t *job = gw_llm_agent_job_new(agent, key.data, r->q.prompt, r->q.system,
                                                   sampling.data, a->streaming);
    h2o_req_t *req = a->r.req;
    char *hv = h2o_mem_alloc_pool(&req->pool, key.len + 1);
    memcpy(hv, key.data, key.len + 1);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-openclaw-session-key"),
                          0, NULL, hv, key.len);
    if (job == NULL)
        gw_api_error(a, 500, "internal_error", NULL, "internal_error", "out of memory");
    else
        gw_api_submit(a, job);
    gw_buf_free(&key);
    gw_buf_free(&sampling);
}

void gw_responses_handle(gw_http_req_t *hr)
{
    h2o_req_t *req = hr->req;
    gw_llm_resp_req_t q;
    gw_llm_err_t err;
    if (gw_llm_resp_parse(req->entity.base, req->entity.base ? req->entity.len : 0, &q,
                          &err) != 0) {
        gw_buf_t b = GW_BUF_INIT;
        gw_llm_err_json(&b, &err);
        gw_http_send(hr, err.status, "application/json", b.data, b.len);
        gw_buf_free(&b);
        return;
    }
    resp_t *r = (resp_t *)gw_api_new(hr, sizeof(resp_t), &resp_ops, q.stream);
    if (r == NULL) {
        gw_llm_resp_free(&q);
        gw_http_error(hr, 500, "internal_error", "out of memory");
        return;
    }
    r->q = q; /* owned by the call from here on */
    r->ptok = r->ctok = -1;
    gw_llm_id(r->id, sizeof(r->id), "resp_");
    gw_llm_id(r->msg_id, sizeof(r->msg_id), "msg_");
    r->created = (int64_t)time(NULL);
    snprintf(r->model, sizeof(r->model), "%s", r->q.model);
    const gw_agent_cfg_t *agent;
    const gw_llm_chain_t *chain;
    int kind = gw_api_resolve(&r->a, r->q.model, &agent, &chain);
    if (kind == GW_API_PROXY)
        gw_api_run(&r->a, chain, r->q.chat_body, r->q.chat_len);
    else if (kind == GW_API_AGENT)
        start_agent(r, agent);
}
