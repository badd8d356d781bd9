/* call.c - provider-anthropic: one chat call, from chat to on_done.
 *
 * A call is one or more HTTP attempts (maxRetries) on the loop that called
 * chat, plus up to three host timers on that loop: first token, retry
 * backoff, and the drain after message_stop. Everything here runs on that
 * loop.
 *
 * Lifetime. The core's handle dies at on_done or at cancel; our memory may
 * live a little longer (an attempt draining after message_stop). Every
 * entry point (HTTP callbacks, timer callbacks) holds `busy` while it runs,
 * and the memory is freed when the call is finished, has no HTTP attempt
 * and nobody holds it. So cancel (or on_done) from inside on_chunk only
 * marks the call: the frame that called out frees it on the way out, and
 * no callback runs after `finished` is set. */
#define _GNU_SOURCE /* strcasestr */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ant.h"

#define BACKOFF_BASE_MS 250u
#define BACKOFF_CAP_MS 4000u

static int32_t on_data(void *data, const oc_http_response_t *head, const char *chunk, size_t len);
static void on_http_done(void *data, const oc_http_response_t *res);

static const oc_http_callbacks_t http_cbs = {
    .struct_size = sizeof(oc_http_callbacks_t),
    .on_data = on_data,
    .on_done = on_http_done,
};

/* ---- memory ------------------------------------------------------------ */

static void stop_timer(ant_call_t *call, oc_timer_t **t)
{
    if (*t != NULL) {
        call->st->host->timer_stop(*t);
        *t = NULL;
    }
}

static void call_free(ant_call_t *call)
{
    ant_state_t *st = call->st;
    stop_timer(call, &call->ftt_timer);
    stop_timer(call, &call->retry_timer);
    stop_timer(call, &call->drain_timer);
    sse_free(&call->parser);
    ant_stream_free(&call->tr);
    free(call->ebuf);
    free(call->body);
    free(call->model);
    free(call);
    ant_call_ended(st); /* last: st may be gone after it */
}

static void hold(ant_call_t *call)
{
    call->busy++;
}

/* Drops a hold; frees the call once nothing can reach it any more. */
static void release(ant_call_t *call)
{
    if (--call->busy == 0 && call->finished && call->http == NULL)
        call_free(call);
}

static void drop_http(ant_call_t *call)
{
    if (call->http != NULL) {
        call->st->host->http_cancel(call->http);
        call->http = NULL;
    }
}

/* ---- results ----------------------------------------------------------- */

/* Ends the call for the core: no callback after this one. keep_http lets
 * a finished stream's HTTP attempt drain so its connection is reused. The
 * caller holds the call. */
static void deliver(ant_call_t *call, const oc_chat_result_t *res, int keep_http)
{
    call->finished = 1;
    stop_timer(call, &call->ftt_timer);
    stop_timer(call, &call->retry_timer);
    if (!keep_http)
        drop_http(call);
    call->cbs.on_done(call->data, res);
}

static void succeed(ant_call_t *call, const char *body, size_t len, int keep_http)
{
    oc_chat_result_t res = {
        .struct_size = sizeof res,
        .status = OC_OK,
        .error_class = OC_PROV_ERR_NONE,
        .http_status = call->http_status,
        .body_json = body,
        .body_len = len,
        .prompt_tokens = call->prompt_tokens,
        .completion_tokens = call->completion_tokens,
    };
    deliver(call, &res, keep_http);
}

static void fail(ant_call_t *call, int32_t cls, uint32_t retry_after_ms, const char *fmt, ...)
    OC_PRINTF(4, 5);
static void fail(ant_call_t *call, int32_t cls, uint32_t retry_after_ms, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->err, sizeof call->err, fmt, ap);
    va_end(ap);
    ant_scrub(call->err, sizeof call->err, call->st->cfg.secrets);
    ant_state_t *st = call->st;
    if (st->host->log_enabled(st->self, OC_LOG_DEBUG))
        st->host->log(st->self, OC_LOG_DEBUG, "call for model %s failed: %s", call->model,
                      call->err);
    oc_chat_result_t res = {
        .struct_size = sizeof res,
        .status = ant_status_of_class(cls),
        .error_class = cls,
        .http_status = call->http_status,
        .retry_after_ms = retry_after_ms,
        .error = call->err,
        .prompt_tokens = -1,
        .completion_tokens = -1,
    };
    deliver(call, &res, 0);
}

/* ---- attempts ---------------------------------------------------------- */

static int32_t start_attempt(ant_call_t *call)
{
    ant_state_t *st = call->st;
    const oc_host_api_t *h = st->host;
    uint64_t now = h->now_ms();
    uint64_t left = call->deadline_ms > now ? call->deadline_ms - now : 1;
    call->http_status = 0;
    call->sse = 0;
    call->elen = 0;
    sse_reset(&call->parser);
    ant_stream_reset(&call->tr);
    oc_http_header_t *hdrs = malloc((st->cfg.header_count + 4) * sizeof *hdrs);
    if (hdrs == NULL)
        return OC_ENOMEM;
    oc_http_request_t hr = {
        .struct_size = sizeof hr,
        .timeout_ms = (uint32_t)left,
        .method = "POST",
        .url = st->cfg.url,
        .headers = hdrs,
        .header_count = ant_request_headers(&st->cfg, call->stream, hdrs),
        .body = call->body,
        .body_len = call->body_len,
        .connect_timeout_ms = left < ANT_CONNECT_TIMEOUT_MS ? (uint32_t)left
                                                            : ANT_CONNECT_TIMEOUT_MS,
        .flags = call->stream ? OC_HTTP_F_STREAM : 0,
    };
    call->http = h->http_request(st->self, &hr, &http_cbs, call);
    free(hdrs); /* copied by the host */
    return call->http != NULL ? OC_OK : OC_EIO;
}

static void on_retry(void *data)
{
    ant_call_t *call = data;
    call->retry_timer = NULL; /* one-shot: released by the host */
    hold(call);
    if (!call->finished && start_attempt(call) != OC_OK)
        fail(call, OC_PROV_ERR_NETWORK, 0, "cannot start the retry (see the log)");
    release(call);
}

/* Schedules another attempt when maxRetries allows one for this failure
 * and it can start before the deadline. An error inside a 2xx stream
 * (overloaded_error before any chunk) may be retried: `in_stream`.
 * Returns 1 when it did. */
static int retry_later(ant_call_t *call, int32_t cls, uint32_t retry_after_ms, int in_stream)
{
    ant_state_t *st = call->st;
    if (call->attempt >= st->cfg.max_retries || call->chunks > 0)
        return 0;
    if (cls != OC_PROV_ERR_NETWORK && cls != OC_PROV_ERR_SERVER && cls != OC_PROV_ERR_RATE)
        return 0;
    if (!in_stream && call->http_status >= 200 && call->http_status < 300)
        return 0; /* a broken 2xx answer: asking again will not help */
    uint64_t wait = retry_after_ms;
    if (wait == 0) {
        wait = (uint64_t)BACKOFF_BASE_MS << (call->attempt < 5 ? call->attempt : 5);
        if (wait > BACKOFF_CAP_MS)
            wait = BACKOFF_CAP_MS;
    }
    if (st->host->now_ms() + wait >= call->deadline_ms)
        return 0; /* no time left: let the core fail over now */
    call->retry_timer = st->host->timer_start(st->self, wait, 0, on_retry, call);
    if (call->retry_timer == NULL)
        return 0;
    call->attempt++;
    return 1;
}

/* ---- timers ------------------------------------------------------------ */

static void on_first_token_timeout(void *data)
{
    ant_call_t *call = data;
    call->ftt_timer = NULL;
    hold(call);
    if (!call->finished && call->chunks == 0)
        fail(call, OC_PROV_ERR_TIMEOUT, 0, "no chunk from the upstream within %u ms (first-token "
                                           "timeout)", call->first_token_ms);
    release(call);
}

/* After message_stop the attempt is left to read the end of the body (so
 * its connection can be reused); this bounds that wait. */
static void on_drain_timeout(void *data)
{
    ant_call_t *call = data;
    call->drain_timer = NULL;
    hold(call);
    drop_http(call);
    release(call);
}

/* ---- streaming --------------------------------------------------------- */

static void stream_complete(ant_call_t *call)
{
    ant_state_t *st = call->st;
    call->prompt_tokens = call->tr.prompt_tokens;
    call->completion_tokens = call->tr.completion_tokens;
    if (call->http != NULL)
        call->drain_timer = st->host->timer_start(st->self, ANT_DRAIN_MS, 0, on_drain_timeout,
                                                  call);
    /* Without a drain timer the attempt is canceled (connection not reused). */
    succeed(call, NULL, 0, call->drain_timer != NULL);
}

/* Hands the translated chunk to the core. Returns 1 when the call is over
 * (canceled from inside on_chunk, or on_chunk asked to stop). */
static int forward(ant_call_t *call)
{
    if (call->chunks++ == 0)
        stop_timer(call, &call->ftt_timer);
    int32_t rc = call->cbs.on_chunk(call->data, call->tr.out.data, call->tr.out.len);
    if (call->finished)
        return 1; /* canceled from inside on_chunk */
    if (rc != OC_OK) {
        fail(call, OC_PROV_ERR_CANCELED, 0, "canceled by the caller");
        return 1;
    }
    return 0;
}

/* One SSE event. Returns non-zero to stop parsing (the call finished, or
 * this attempt is abandoned for a retry). */
static int on_event(void *data, const char *event, const char *payload, size_t len)
{
    ant_call_t *call = data;
    if (call->finished)
        return 1;
    int ev = ant_stream_event(&call->tr, event, payload, len, (int64_t)time(NULL));
    switch (ev) {
    case ANT_EV_CHUNK:
        return forward(call);
    case ANT_EV_DONE:
        if (call->tr.out.len > 0 && forward(call))
            return 1;
        stream_complete(call);
        return 1;
    case ANT_EV_ERROR:
        if (retry_later(call, call->tr.err_class, 0, 1)) {
            drop_http(call); /* this attempt is over; the retry timer runs */
            return 1;
        }
        fail(call, call->tr.err_class, 0, "the upstream's stream failed: %s", call->tr.msg);
        return 1;
    case ANT_EV_BAD:
        fail(call, OC_PROV_ERR_SERVER, 0, "the upstream's stream is broken: %s", call->tr.msg);
        return 1;
    default:
        return 0; /* ping, content_block_stop, events we do not know */
    }
}

static const char *find_header(const oc_http_response_t *r, const char *name)
{
    for (size_t i = 0; r && i < r->header_count; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static void keep_body(ant_call_t *call, const char *chunk, size_t len)
{
    if (call->elen + len > ANT_ERROR_BODY_MAX)
        len = ANT_ERROR_BODY_MAX - call->elen; /* the start has the message */
    if (len == 0)
        return;
    if (call->elen + len + 1 > call->ecap) {
        size_t cap = call->ecap ? call->ecap : 1024;
        while (cap < call->elen + len + 1)
            cap *= 2;
        char *b = realloc(call->ebuf, cap);
        if (b == NULL)
            return;
        call->ebuf = b;
        call->ecap = cap;
    }
    memcpy(call->ebuf + call->elen, chunk, len);
    call->elen += len;
    call->ebuf[call->elen] = '\0';
}

static int32_t on_data(void *data, const oc_http_response_t *head, const char *chunk, size_t len)
{
    ant_call_t *call = data;
    if (call->finished)
        return OC_OK; /* draining after message_stop: read and drop */
    if (len == 0) { /* the head */
        call->http_status = head->http_status;
        const char *ct = find_header(head, "content-type");
        call->sse = call->http_status >= 200 && call->http_status < 300 &&
                    !(ct != NULL && strcasestr(ct, "json") != NULL);
        return OC_OK;
    }
    if (!call->sse) {
        keep_body(call, chunk, len); /* an error (or JSON) body, read whole at the end */
        return OC_OK;
    }
    hold(call);
    int rc = sse_feed(&call->parser, chunk, len, on_event, call);
    if (!call->finished && rc == SSE_ETOOBIG)
        fail(call, OC_PROV_ERR_SERVER, 0, "the upstream sent a stream event over %zu bytes",
             SSE_EVENT_MAX);
    else if (!call->finished && rc == SSE_ENOMEM)
        fail(call, OC_PROV_ERR_SERVER, 0, "out of memory reading the stream");
    /* No attempt left (failed, or dropped for a retry): stop this transfer. */
    int32_t ret = call->http == NULL ? OC_ECANCELED : OC_OK;
    release(call);
    return ret;
}

/* ---- completion -------------------------------------------------------- */

static void transport_failed(ant_call_t *call, const oc_http_response_t *res)
{
    if (res->status == OC_ETIMEDOUT) {
        if (call->http_status == 0)
            call->http_status = res->http_status;
        fail(call, OC_PROV_ERR_TIMEOUT, 0, "the upstream did not answer in time: %s",
             res->error ? res->error : "timed out");
        return;
    }
    if (res->status == OC_ECANCELED) {
        fail(call, OC_PROV_ERR_CANCELED, 0, "canceled");
        return;
    }
    call->http_status = res->http_status;
    if (!retry_later(call, OC_PROV_ERR_NETWORK, 0, 0))
        fail(call, OC_PROV_ERR_NETWORK, 0, "cannot reach the upstream: %s",
             res->error ? res->error : "connection failed");
}

static void http_failed(ant_call_t *call, const oc_http_response_t *res, const char *body,
                        size_t len)
{
    int32_t cls = ant_class_of_status(call->http_status);
    uint32_t ra = ant_retry_after_ms(res->headers, res->header_count, (int64_t)time(NULL));
    if (retry_later(call, cls, ra, 0))
        return;
    char msg[ANT_ERR_MAX / 2];
    ant_error_message(body, len, msg, sizeof msg, NULL);
    fail(call, cls, ra, "the upstream answered HTTP %d%s%s", call->http_status,
         msg[0] ? ": " : "", msg);
}

/* The end of a 2xx event stream. */
static void stream_ended(ant_call_t *call)
{
    int rc = sse_finish(&call->parser, on_event, call);
    if (call->finished || call->retry_timer != NULL)
        return;
    if (rc != SSE_OK)
        fail(call, OC_PROV_ERR_SERVER, 0, "the upstream's last stream event is too large");
    else if (call->tr.ended)
        stream_complete(call); /* message_delta came, message_stop did not: complete */
    else if (call->chunks > 0)
        fail(call, OC_PROV_ERR_SERVER, 0, "the upstream's stream ended before message_stop "
                                          "(the answer is cut short)");
    else
        fail(call, OC_PROV_ERR_SERVER, 0, "the upstream's stream ended without any event");
}

/* A 2xx JSON answer to a streaming request: an error body, or a server
 * that ignored "stream": true. */
static void json_instead_of_stream(ant_call_t *call, const oc_http_response_t *res)
{
    char msg[ANT_ERR_MAX / 2];
    int32_t cls = 0;
    ant_error_message(call->ebuf ? call->ebuf : "", call->elen, msg, sizeof msg, &cls);
    const char *ct = find_header(res, "content-type");
    fail(call, cls ? cls : OC_PROV_ERR_SERVER, 0,
         "the upstream answered a streaming request with %s, not an event stream%s%s",
         ct ? ct : "JSON", msg[0] ? ": " : "", msg);
}

static void whole_answer(ant_call_t *call, const oc_http_response_t *res)
{
    char why[ANT_ERR_MAX / 2];
    char *out = NULL;
    size_t n = 0;
    int32_t cls = ant_response_translate(res->body, res->body_len, call->model,
                                         (int64_t)time(NULL), &out, &n, &call->prompt_tokens,
                                         &call->completion_tokens, why, sizeof why);
    if (cls == OC_PROV_ERR_NONE)
        succeed(call, out, n, 0);
    else
        fail(call, cls, 0, "HTTP %d but %s", call->http_status, why);
    free(out);
}

static void on_http_done(void *data, const oc_http_response_t *res)
{
    ant_call_t *call = data;
    call->http = NULL; /* freed by the host after this returns */
    hold(call);
    if (call->finished) {
        release(call); /* the drain after message_stop is over */
        return;
    }
    if (res->status != OC_OK) {
        transport_failed(call, res);
        release(call);
        return;
    }
    call->http_status = res->http_status;
    int ok = res->http_status >= 200 && res->http_status < 300;
    if (call->stream && call->sse)
        stream_ended(call);
    else if (call->stream && !ok)
        http_failed(call, res, call->ebuf ? call->ebuf : "", call->elen);
    else if (call->stream)
        json_instead_of_stream(call, res);
    else if (!ok)
        http_failed(call, res, res->body, res->body_len);
    else
        whole_answer(call, res);
    release(call);
}

/* ---- the ops ----------------------------------------------------------- */

/* Copies of structs the core built, read size-aware: members beyond its
 * struct_size count as zero. */
static void copy_sized(void *dst, size_t dst_size, const void *src, uint32_t src_size)
{
    memset(dst, 0, dst_size);
    memcpy(dst, src, src_size < dst_size ? src_size : dst_size);
}

int32_t ant_chat(void *state, const oc_chat_request_t *req_in, const oc_chat_callbacks_t *cbs_in,
                 void *data, oc_provider_call_t **out)
{
    ant_state_t *st = state;
    if (st == NULL || req_in == NULL || cbs_in == NULL || out == NULL)
        return OC_EINVAL;
    oc_chat_request_t req;
    oc_chat_callbacks_t cbs;
    copy_sized(&req, sizeof req, req_in, req_in->struct_size);
    copy_sized(&cbs, sizeof cbs, cbs_in, cbs_in->struct_size);
    if (cbs.on_done == NULL || (req.stream && cbs.on_chunk == NULL))
        return OC_EINVAL;
    const char *model = req.model && req.model[0] ? req.model : st->cfg.model;
    if (model == NULL) {
        st->host->log(st->self, OC_LOG_WARN, "a request without a model, and no default model "
                                             "is configured (set model:)");
        return OC_EINVAL;
    }
    if (ant_call_begin(st) != 0)
        return OC_ECANCELED; /* stopping */

    ant_call_t *call = calloc(1, sizeof *call);
    if (call == NULL) {
        ant_call_ended(st);
        return OC_ENOMEM;
    }
    call->st = st;
    call->cbs = cbs;
    call->data = data;
    call->stream = req.stream != 0;
    call->prompt_tokens = call->completion_tokens = -1;
    call->first_token_ms = call->stream ? req.first_token_timeout_ms : 0;
    sse_init(&call->parser);
    char why[ANT_ERR_MAX / 2] = "";
    call->model = strdup(model);
    int32_t rc = call->model ? ant_request_body(&st->cfg, req.body_json, req.body_len, model,
                                                call->stream, &call->body, &call->body_len,
                                                &call->include_usage, why, sizeof why)
                             : OC_ENOMEM;
    ant_stream_init(&call->tr, call->model, call->include_usage);
    if (rc == OC_EINVAL)
        st->host->log(st->self, OC_LOG_WARN, "refused a request: %s", why);
    uint32_t timeout = req.timeout_ms ? req.timeout_ms : st->cfg.timeout_ms;
    call->deadline_ms = st->host->now_ms() + timeout;
    if (rc == OC_OK)
        rc = start_attempt(call);
    if (rc == OC_OK && call->first_token_ms > 0) {
        call->ftt_timer = st->host->timer_start(st->self, call->first_token_ms, 0,
                                                on_first_token_timeout, call);
        if (call->ftt_timer == NULL)
            rc = OC_ENOMEM;
    }
    if (rc != OC_OK) { /* nothing was called back: undo quietly */
        drop_http(call);
        call_free(call);
        return rc;
    }
    *out = call;
    return OC_PENDING;
}

void ant_cancel(void *state, oc_provider_call_t *call)
{
    (void)state;
    if (call == NULL || call->finished)
        return;
    call->finished = 1; /* no callback from now on */
    stop_timer(call, &call->ftt_timer);
    stop_timer(call, &call->retry_timer);
    drop_http(call);
    if (call->busy == 0)
        call_free(call);
    /* else: inside one of our callbacks (on_chunk called cancel); freed
     * when it returns. */
}
