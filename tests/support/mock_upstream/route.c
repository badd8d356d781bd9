/* mock_upstream/route.c - one complete request: routing, the knob headers,
 * validation, failure injection, and the answer (now, after latency_ms, or
 * as a stream). Runs on the connection's worker thread.
 *
 * Model calls (chat completions, messages, embeddings) go through, in
 * order: knob headers (400 naming the header), Anthropic's auth headers,
 * the JSON body and its fields (400 naming the field), stall, forced status,
 * the rate-limit window, fail_rate, and then the reply. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "catalog.h"
#include "llm_req.h"
#include "mock.h"

static int path_is(const hr_req_t *h, const char *p)
{
    return h->path_len == strlen(p) && memcmp(h->path, p, h->path_len) == 0;
}

static int path_has_prefix(const hr_req_t *h, const char *p)
{
    size_t n = strlen(p);
    return h->path_len > n && memcmp(h->path, p, n) == 0;
}

static int method_is(const hr_req_t *h, const char *m)
{
    return h->method_len == strlen(m) && memcmp(h->method, m, h->method_len) == 0;
}

static void log_req(const req_t *r, int status, const char *note)
{
    if (r->c->w->m->quiet)
        return;
    fprintf(stderr, "oc-mock-upstream: %.*s %.*s -> %d%s%s\n", (int)r->h->method_len,
            r->h->method, (int)r->h->path_len, r->h->path, status, note ? " " : "",
            note ? note : "");
}

/* Counts and sends (or defers by delay_ms) a complete answer. */
static void emit_answer(req_t *r, int status, const char *extra, const char *body, size_t len,
                        uint32_t delay_ms, const char *note)
{
    worker_t *w = r->c->w;
    STAT_ADD(w->stats.by_status[status], 1);
    log_req(r, status, note);
    if (delay_ms == 0) {
        size_t before = w->out.len;
        respond(&w->out, status, "application/json", extra, body, len, r->h->close);
        STAT_ADD(w->stats.bytes_out, w->out.len - before);
        return;
    }
    gw_buf_t ans = GW_BUF_INIT;
    respond(&ans, status, "application/json", extra, body, len, r->h->close);
    STAT_ADD(w->stats.bytes_out, ans.len);
    conn_defer(r->c, &ans, delay_ms);
}

static void fail(req_t *r, int dialect, int status, const char *code, const char *msg,
                 const char *extra, uint32_t delay_ms)
{
    gw_buf_t body = GW_BUF_INIT;
    error_body(&body, dialect, status, code, msg);
    emit_answer(r, status, extra, body.data, body.len, delay_ms, msg);
    gw_buf_free(&body);
}

struct json_object *worker_parse_json(worker_t *w, const char *body, size_t len, gw_buf_t *err)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i == len) {
        gw_buf_puts(err, "the request body is empty; send a JSON object");
        return NULL;
    }
    json_tokener_reset(w->tok);
    struct json_object *o = json_tokener_parse_ex(w->tok, body, (int)len);
    enum json_tokener_error je = json_tokener_get_error(w->tok);
    size_t used = json_tokener_get_parse_end(w->tok);
    if (o == NULL || je != json_tokener_success) {
        /* json_tokener_continue: the text ended inside a value */
        gw_buf_printf(err, "the request body is not valid JSON: %s at byte %zu",
                      je == json_tokener_continue ? "unexpected end of input"
                                                  : json_tokener_error_desc(je),
                      used);
        json_object_put(o);
        return NULL;
    }
    for (i = used; i < len; i++) {
        if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n') {
            gw_buf_printf(err, "the request body is not valid JSON: data after the value at "
                               "byte %zu", i);
            json_object_put(o);
            return NULL;
        }
    }
    return o;
}

/* x-mock-* headers over the knobs in effect. 0 or -1 with err. */
static int read_knob_headers(const hr_req_t *h, knobs_t *k, gw_buf_t *err)
{
    for (size_t i = 0; i < h->nfields; i++) {
        const hr_field_t *f = &h->fields[i];
        if (f->name_len < 7 || strncasecmp(f->name, "x-mock-", 7) != 0)
            continue;
        char who[80];
        snprintf(who, sizeof who, "%.*s", f->name_len > 60 ? 60 : (int)f->name_len, f->name);
        const knob_def_t *d = knob_by_header(f->name, f->name_len);
        if (d == NULL) {
            gw_buf_printf(err, "unknown knob header %s (known:", who);
            for (size_t j = 0; j < knob_count; j++)
                if (knob_defs[j].header != NULL)
                    gw_buf_printf(err, " %s", knob_defs[j].header);
            gw_buf_putc(err, ')');
            return -1;
        }
        if (knob_set_text(k, d, f->value, f->value_len, who, err) != 0)
            return -1;
    }
    return 0;
}

static double rand01(worker_t *w)
{
    uint64_t x = w->rng; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    w->rng = x;
    return (double)((x * 0x2545f4914f6cdd1dULL) >> 11) * 0x1.0p-53;
}

/* Forced status, rate-limit window, fail_rate: 1 when one answered. */
static int inject_failure(req_t *r, int dialect, const knobs_t *k)
{
    char msg[160], extra[48];
    int status;
    const char *code;
    uint32_t retry = k->retry_after_s, rl = 0;
    if (k->status != 0) {
        status = (int)k->status;
        code = status == 429 ? "rate_limit_exceeded" : "mock_forced_status";
        snprintf(msg, sizeof msg, "mock: forced status %d (x-mock-status or the status knob)",
                 status);
    } else if (k->rl_every_s != 0 && (rl = knobs_rl_retry_after(k, uv_hrtime())) > 0) {
        status = 429;
        code = "rate_limit_exceeded";
        retry = rl;
        snprintf(msg, sizeof msg, "mock: rate limit window (rate_limit %u:%u); retry in %u s",
                 k->rl_every_s, k->rl_for_s, rl);
    } else if (k->fail_rate > 0 && rand01(r->c->w) < k->fail_rate) {
        status = (int)k->fail_status;
        code = status == 429 ? "rate_limit_exceeded" : "mock_injected_failure";
        snprintf(msg, sizeof msg, "mock: injected failure (fail_rate %g)", k->fail_rate);
    } else {
        return 0;
    }
    int with_retry = status == 429 || status == 503;
    if (with_retry)
        snprintf(extra, sizeof extra, "Retry-After: %u\r\n", retry);
    fail(r, dialect, status, code, msg, with_retry ? extra : NULL, k->latency_ms);
    return 1;
}

static uint32_t tokens(size_t chars)
{
    size_t t = (chars + 3) / 4;
    return t == 0 ? 1 : t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

static void start_stream(req_t *r, reply_t *st, const knobs_t *k)
{
    conn_t *c = r->c;
    worker_t *w = c->w;
    reply_t *heap = malloc(sizeof *heap);
    if (heap == NULL) {
        reply_clear(st);
        fail(r, st->dialect, 500, "out_of_memory", "mock: out of memory", NULL, 0);
        return;
    }
    *heap = *st;
    heap->t0 = uv_now(&w->loop) + k->latency_ms;
    heap->interval_ms = k->chunk_interval_ms;
    heap->error_at = k->stream_error_after;
    if (heap->error_at > (int64_t)heap->pieces)
        heap->error_at = heap->pieces; /* after the last piece: in place of the tail */
    STAT_ADD(w->stats.by_status[200], 1);
    log_req(r, 200, heap->tool ? "stream, tool call" : "stream");
    size_t before = w->out.len;
    if (r->h->http10) {
        /* no chunked framing in HTTP/1.0: the end of the body is the close */
        gw_buf_puts(&w->out, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                             "Cache-Control: no-cache\r\nConnection: close\r\n\r\n");
        c->raw_stream = 1;
        c->close_after = 1;
    } else {
        gw_buf_puts(&w->out, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                             "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n");
        gw_buf_puts(&w->out, r->h->close ? "Connection: close\r\n\r\n" : "\r\n");
    }
    STAT_ADD(w->stats.bytes_out, w->out.len - before);
    conn_stream(c, heap);
}

/* A chat completion or a message: text or a tool call, whole or streamed. */
static void reply(req_t *r, int dialect, const llm_req_t *q, const knobs_t *k)
{
    worker_t *w = r->c->w;
    reply_t st;
    memset(&st, 0, sizeof st);
    st.dialect = dialect;
    st.n = atomic_fetch_add_explicit(&w->m->replies, 1, memory_order_relaxed) + 1;
    st.created = (int64_t)time(NULL);
    st.include_usage = q->include_usage;
    gw_buf_t tmp = GW_BUF_INIT;
    json_escape(&tmp, q->model, q->model_len);
    st.model = gw_buf_steal(&tmp);

    gw_buf_printf(&tmp, "mock reply %" PRIu64, st.n);
    if (k->echo) {
        gw_buf_puts(&tmp, ": ");
        gw_buf_append(&tmp, w->user.data, w->user.len);
    }
    st.tool = q->tool_name != NULL &&
              (k->tools || (w->user.len > 0 && memmem(w->user.data, w->user.len, "[[tool]]", 8)));
    int rc;
    if (st.tool) {
        /* arguments: a JSON object, streamed as fragments of its text */
        gw_buf_t args = GW_BUF_INIT;
        gw_buf_puts(&args, "{\"query\":\"");
        json_escape(&args, tmp.data, tmp.len);
        gw_buf_puts(&args, "\"}");
        rc = text_init(&st.text, args.data, args.len, 0);
        gw_buf_free(&args);
        gw_buf_reset(&tmp);
        json_escape(&tmp, q->tool_name, q->tool_name_len);
        st.tool_name = gw_buf_steal(&tmp);
        st.pieces = k->chunks < st.text.total_chars ? k->chunks : (uint32_t)st.text.total_chars;
    } else {
        /* a stream's pieces are never empty: at least one character each */
        size_t min_chars = k->size;
        if (q->stream && k->chunks > min_chars)
            min_chars = k->chunks;
        rc = text_init(&st.text, tmp.data, tmp.len, min_chars);
        st.pieces = k->chunks;
    }
    gw_buf_free(&tmp);
    if (rc != 0 || st.model == NULL) {
        reply_clear(&st);
        fail(r, dialect, 500, "out_of_memory", "mock: out of memory", NULL, 0);
        return;
    }
    st.prompt_tokens = tokens(q->prompt_bytes);
    st.completion_tokens = tokens(st.text.total_chars);
    if (q->stream) {
        start_stream(r, &st, k);
        return;
    }
    gw_buf_reset(&w->scratch);
    if (dialect == D_ANTHROPIC)
        anthropic_body(&st, &w->scratch);
    else
        openai_body(&st, &w->scratch);
    emit_answer(r, 200, NULL, w->scratch.data, w->scratch.len, k->latency_ms,
                st.tool ? "tool call" : NULL);
    reply_clear(&st);
}

static void embeddings(req_t *r, const llm_req_t *q, const knobs_t *k)
{
    static __thread float v[LLM_MAX_DIMENSIONS]; /* 16 KiB: per thread, off the stack */
    worker_t *w = r->c->w;
    gw_buf_t model = GW_BUF_INIT;
    json_escape(&model, q->model, q->model_len);
    gw_buf_reset(&w->scratch);
    catalog_embeddings(q, model.data, v, &w->scratch);
    gw_buf_free(&model);
    emit_answer(r, 200, NULL, w->scratch.data, w->scratch.len, k->latency_ms, NULL);
}

/* Anthropic's auth headers: 0, or -1 after answering 401/400. */
static int anthropic_auth(req_t *r)
{
    const hr_field_t *key = hr_field(r->h, "x-api-key");
    if (key == NULL || key->value_len == 0) {
        fail(r, D_ANTHROPIC, 401, "authentication_error", "x-api-key header is required", NULL,
             0);
        return -1;
    }
    const hr_field_t *ver = hr_field(r->h, "anthropic-version");
    if (ver == NULL || ver->value_len == 0) {
        fail(r, D_ANTHROPIC, 400, "invalid_request_error",
             "anthropic-version: header is required (e.g. anthropic-version: 2023-06-01)", NULL,
             0);
        return -1;
    }
    return 0;
}

static void model_call(req_t *r, int ep)
{
    worker_t *w = r->c->w;
    int dialect = ep == EP_MESSAGES ? D_ANTHROPIC : D_OPENAI;
    knobs_t k = *worker_knobs(w);
    gw_buf_t err = GW_BUF_INIT;
    struct json_object *o = NULL;
    llm_req_t q = {.last_user = &w->user};
    if (read_knob_headers(r->h, &k, &err) != 0) {
        fail(r, dialect, 400, "bad_knob", err.data, NULL, 0);
        goto out;
    }
    if (dialect == D_ANTHROPIC && anthropic_auth(r) != 0)
        goto out;
    o = worker_parse_json(w, r->body, r->body_len, &err);
    if (o == NULL) {
        fail(r, dialect, 400, "invalid_json", err.data, NULL, 0);
        goto out;
    }
    int rc = ep == EP_CHAT       ? llm_req_openai(o, &q, &err)
             : ep == EP_MESSAGES ? llm_req_anthropic(o, &q, &err)
                                 : llm_req_embeddings(o, &q, &err);
    if (rc != 0) {
        fail(r, dialect, 400, "invalid_request", err.data, NULL, 0);
        goto out;
    }
    if (k.stall) {
        if (!w->m->quiet)
            fprintf(stderr, "oc-mock-upstream: %.*s %.*s -> stalled\n", (int)r->h->method_len,
                    r->h->method, (int)r->h->path_len, r->h->path);
        conn_stall(r->c);
        goto out;
    }
    if (inject_failure(r, dialect, &k))
        goto out;
    if (ep == EP_EMBEDDINGS)
        embeddings(r, &q, &k);
    else
        reply(r, dialect, &q, &k);
out:
    json_object_put(o);
    gw_buf_free(&err);
}

static void models(req_t *r)
{
    worker_t *w = r->c->w;
    mock_t *m = w->m;
    int anthropic = hr_field(r->h, "anthropic-version") != NULL;
    int dialect = anthropic ? D_ANTHROPIC : D_OPENAI;
    if (!method_is(r->h, "GET")) {
        fail(r, dialect, 405, "method_not_allowed", "use GET on /v1/models", "Allow: GET\r\n",
             0);
        return;
    }
    gw_buf_reset(&w->scratch);
    if (path_is(r->h, "/v1/models")) {
        catalog_models(m->models, m->nmodels, anthropic, &w->scratch);
    } else {
        const char *id = r->h->path + sizeof "/v1/models/" - 1;
        size_t n = r->h->path_len - (sizeof "/v1/models/" - 1);
        if (catalog_model(m->models, m->nmodels, anthropic, id, n, &w->scratch) != 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "The model '%.*s' does not exist (see GET /v1/models)",
                     n > 100 ? 100 : (int)n, id);
            fail(r, dialect, 404, "model_not_found", msg, NULL, 0);
            return;
        }
    }
    emit_answer(r, 200, NULL, w->scratch.data, w->scratch.len, 0, NULL);
}

static int endpoint_of(const hr_req_t *h)
{
    if (path_is(h, "/v1/chat/completions"))
        return EP_CHAT;
    if (path_is(h, "/v1/messages"))
        return EP_MESSAGES;
    if (path_is(h, "/v1/embeddings"))
        return EP_EMBEDDINGS;
    if (path_is(h, "/v1/models") || path_has_prefix(h, "/v1/models/"))
        return EP_MODELS;
    return EP_OTHER;
}

void route_request(req_t *r)
{
    const hr_req_t *h = r->h;
    worker_t *w = r->c->w;
    if (path_has_prefix(h, "/mock/")) {
        control_request(w, h, r->body, r->body_len, &w->out);
        return;
    }
    int ep = endpoint_of(h);
    STAT_ADD(w->stats.requests, 1);
    STAT_ADD(w->stats.by_endpoint[ep], 1);
    int dialect = ep == EP_MESSAGES ? D_ANTHROPIC : D_OPENAI;
    if (ep == EP_MODELS) {
        models(r);
    } else if (ep == EP_OTHER) {
        char msg[200];
        snprintf(msg, sizeof msg, "unknown path %.*s (known: POST /v1/chat/completions, "
                                  "POST /v1/messages, POST /v1/embeddings, GET /v1/models)",
                 h->path_len > 60 ? 60 : (int)h->path_len, h->path);
        fail(r, dialect, 404, "not_found", msg, NULL, 0);
    } else if (!method_is(h, "POST")) {
        fail(r, dialect, 405, "method_not_allowed", "use POST on this path", "Allow: POST\r\n",
             0);
    } else {
        model_call(r, ep);
    }
}

void route_http_error(conn_t *c, const hr_req_t *h, int status, const char *why)
{
    worker_t *w = c->w;
    int ep = h != NULL ? endpoint_of(h) : EP_OTHER;
    int anthropic = ep == EP_MESSAGES;
    gw_buf_t body = GW_BUF_INIT;
    char msg[200];
    snprintf(msg, sizeof msg, "bad HTTP request: %s", why);
    error_body(&body, anthropic ? D_ANTHROPIC : D_OPENAI, status,
               status == 413 ? "body_too_large" : "bad_http", msg);
    STAT_ADD(w->stats.requests, 1);
    STAT_ADD(w->stats.by_endpoint[ep], 1);
    STAT_ADD(w->stats.by_status[status], 1);
    size_t before = w->out.len;
    respond(&w->out, status, "application/json", NULL, body.data, body.len, 1);
    STAT_ADD(w->stats.bytes_out, w->out.len - before);
    gw_buf_free(&body);
    c->close_after = 1;
    if (!w->m->quiet)
        fprintf(stderr, "oc-mock-upstream: bad request -> %d %s\n", status, why);
}
