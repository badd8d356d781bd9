/* call.c - provider-mock: one chat call.
 *
 * Everything happens on host timers of the loop that called chat, never
 * inside chat and never by sleeping: the first step after latencyMs, each
 * further stream chunk chunkIntervalMs later (0: the next loop iteration).
 * A timeout the request asks for (timeout_ms, or first_token_timeout_ms
 * when streaming) that latencyMs reaches fires instead of the answer.
 *
 * Lifetime as in provider-openai: timer callbacks hold `busy` while they
 * call out; cancel (or on_done) from inside on_chunk only marks the call
 * finished and the callback frees it on its way out. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mock.h"

struct oc_provider_call_s {
    mock_state_t *st;
    oc_chat_callbacks_t cbs; /* size-aware copy */
    void *data;
    int stream;
    char *model;             /* owned */
    char id[48];
    int64_t created;
    mock_buf_t reply;        /* the rendered reply */
    int64_t prompt_tokens, completion_tokens;
    int include_usage;
    int fail_status;         /* non-zero: this call fails (failFirst) */
    int bad_request;         /* "messages" is not an array: fails as an upstream's 400 */
    uint64_t call_no;        /* 0-based, per instance */
    size_t pieces;           /* content chunks */
    size_t step;             /* next stream step: 0 role, 1..pieces content, then finish, usage */
    uint32_t timeout_ms;     /* the timeout that fires instead of the answer, 0 = none */
    const char *timeout_what;
    oc_timer_t *step_timer;
    oc_timer_t *deadline_timer; /* the request's timeout_ms, while streaming slowly */
    int finished;
    int busy;
    mock_buf_t out;
    char err[256];
};
typedef struct oc_provider_call_s mock_call_t;

static void stop_timer(mock_call_t *call, oc_timer_t **t)
{
    if (*t != NULL) {
        call->st->host->timer_stop(*t);
        *t = NULL;
    }
}

static void call_free(mock_call_t *call)
{
    mock_state_t *st = call->st;
    stop_timer(call, &call->step_timer);
    stop_timer(call, &call->deadline_timer);
    mock_buf_free(&call->reply);
    mock_buf_free(&call->out);
    free(call->model);
    free(call);
    mock_call_ended(st); /* last: st may be gone after it */
}

static void release(mock_call_t *call)
{
    if (--call->busy == 0 && call->finished)
        call_free(call);
}

static void deliver(mock_call_t *call, const oc_chat_result_t *res)
{
    call->finished = 1;
    stop_timer(call, &call->step_timer);
    stop_timer(call, &call->deadline_timer);
    call->cbs.on_done(call->data, res);
}

static void fail(mock_call_t *call, int32_t cls, int http_status, const char *fmt, ...)
    OC_PRINTF(4, 5);
static void fail(mock_call_t *call, int32_t cls, int http_status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->err, sizeof call->err, fmt, ap);
    va_end(ap);
    oc_chat_result_t res = {
        .struct_size = sizeof res,
        .status = mock_status_of_class(cls),
        .error_class = cls,
        .http_status = http_status,
        .error = call->err,
        .prompt_tokens = -1,
        .completion_tokens = -1,
    };
    deliver(call, &res);
}

static void succeed(mock_call_t *call, const char *body, size_t len)
{
    oc_chat_result_t res = {
        .struct_size = sizeof res,
        .status = OC_OK,
        .error_class = OC_PROV_ERR_NONE,
        .http_status = 200,
        .body_json = body,
        .body_len = len,
        .prompt_tokens = call->prompt_tokens,
        .completion_tokens = call->completion_tokens,
    };
    deliver(call, &res);
}

static void on_step(void *data);

/* Builds stream step call->step into call->out; returns 0 when there is no
 * such step (the stream is complete). */
static int build_step(mock_call_t *call)
{
    mock_buf_t *b = &call->out;
    b->len = 0;
    const char *id = call->id, *m = call->model;
    size_t s = call->step;
    if (s == 0) {
        mock_reply_chunk(b, id, call->created, m, "assistant", NULL, 0, NULL, 0, 0);
    } else if (s <= call->pieces) {
        const char *r = call->reply.data;
        size_t from = s == 1 ? 0 : mock_split_at(r, call->reply.len, s - 2, call->pieces);
        size_t to = mock_split_at(r, call->reply.len, s - 1, call->pieces);
        mock_reply_chunk(b, id, call->created, m, NULL, r + from, to - from, NULL, 0, 0);
    } else if (s == call->pieces + 1) {
        mock_reply_chunk(b, id, call->created, m, NULL, NULL, 0, "stop", 0, 0);
    } else if (s == call->pieces + 2 && call->include_usage) {
        mock_reply_chunk(b, id, call->created, m, NULL, NULL, 0, NULL, call->prompt_tokens,
                         call->completion_tokens);
    } else {
        return 0;
    }
    return 1;
}

static void stream_step(mock_call_t *call)
{
    mock_state_t *st = call->st;
    if (!build_step(call)) {
        succeed(call, NULL, 0);
        return;
    }
    if (call->out.oom) {
        fail(call, OC_PROV_ERR_SERVER, 500, "mock: out of memory");
        return;
    }
    call->step++;
    int32_t rc = call->cbs.on_chunk(call->data, call->out.data, call->out.len);
    if (call->finished)
        return; /* canceled from inside on_chunk */
    if (rc != OC_OK) {
        fail(call, OC_PROV_ERR_CANCELED, 0, "canceled by the caller");
        return;
    }
    if (!build_step(call)) { /* that was the last chunk: done in the same tick */
        succeed(call, NULL, 0);
        return;
    }
    call->step_timer = st->host->timer_start(st->self, st->cfg.chunk_interval_ms, 0, on_step,
                                             call);
    if (call->step_timer == NULL)
        fail(call, OC_PROV_ERR_SERVER, 500, "mock: cannot start a timer");
}

static void on_step(void *data)
{
    mock_call_t *call = data;
    call->step_timer = NULL; /* one-shot: released by the host */
    call->busy++;
    if (call->finished) {
        release(call);
        return;
    }
    if (call->bad_request) {
        fail(call, OC_PROV_ERR_REQUEST, 400, "mock: \"messages\" must be an array");
    } else if (call->fail_status != 0) {
        fail(call, mock_class_of_status(call->fail_status), call->fail_status,
             "mock: simulated failure of call %llu (failFirst: %llu), HTTP %d",
             (unsigned long long)call->call_no + 1, (unsigned long long)call->st->cfg.fail_first,
             call->fail_status);
    } else if (call->stream) {
        stream_step(call);
    } else {
        mock_buf_t *b = &call->out;
        mock_reply_completion(b, call->id, call->created, call->model, call->reply.data,
                              call->reply.len, call->prompt_tokens, call->completion_tokens);
        if (b->oom)
            fail(call, OC_PROV_ERR_SERVER, 500, "mock: out of memory");
        else
            succeed(call, b->data, b->len);
    }
    release(call);
}

static void timed_out(mock_call_t *call)
{
    call->busy++;
    if (!call->finished)
        fail(call, OC_PROV_ERR_TIMEOUT, 0, "mock: %s of %u ms reached", call->timeout_what,
             call->timeout_ms);
    release(call);
}

/* latencyMs reaches the timeout: it fires instead of the answer. */
static void on_early_timeout(void *data)
{
    mock_call_t *call = data;
    call->step_timer = NULL; /* one-shot: released by the host */
    timed_out(call);
}

/* A stream whose chunks overran the request's timeout_ms. */
static void on_deadline(void *data)
{
    mock_call_t *call = data;
    call->deadline_timer = NULL;
    timed_out(call);
}

static void copy_sized(void *dst, size_t dst_size, const void *src, uint32_t src_size)
{
    memset(dst, 0, dst_size);
    memcpy(dst, src, src_size < dst_size ? src_size : dst_size);
}

/* The answer's timers: see the top of the file. */
static int32_t schedule(mock_call_t *call, const oc_chat_request_t *req)
{
    mock_state_t *st = call->st;
    const oc_host_api_t *h = st->host;
    uint32_t latency = st->cfg.latency_ms;
    call->timeout_ms = req->timeout_ms;
    call->timeout_what = "timeout";
    uint32_t ftt = call->stream ? req->first_token_timeout_ms : 0;
    if (ftt > 0 && (call->timeout_ms == 0 || ftt < call->timeout_ms)) {
        call->timeout_ms = ftt;
        call->timeout_what = "first-token timeout";
    }
    if (call->timeout_ms > 0 && latency >= call->timeout_ms) {
        call->step_timer = h->timer_start(st->self, call->timeout_ms, 0, on_early_timeout, call);
        return call->step_timer ? OC_OK : OC_ENOMEM;
    }
    call->step_timer = h->timer_start(st->self, latency, 0, on_step, call);
    if (call->step_timer == NULL)
        return OC_ENOMEM;
    if (req->timeout_ms > 0 && call->stream) { /* slow chunks may still overrun it */
        call->timeout_ms = req->timeout_ms;
        call->timeout_what = "timeout";
        call->deadline_timer = h->timer_start(st->self, req->timeout_ms, 0, on_deadline, call);
        if (call->deadline_timer == NULL)
            return OC_ENOMEM;
    }
    return OC_OK;
}

int32_t mock_chat(void *state, const oc_chat_request_t *req_in, const oc_chat_callbacks_t *cbs_in,
                  void *data, oc_provider_call_t **out)
{
    mock_state_t *st = state;
    if (st == NULL || req_in == NULL || cbs_in == NULL || out == NULL)
        return OC_EINVAL;
    oc_chat_request_t req;
    oc_chat_callbacks_t cbs;
    copy_sized(&req, sizeof req, req_in, req_in->struct_size);
    copy_sized(&cbs, sizeof cbs, cbs_in, cbs_in->struct_size);
    if (cbs.on_done == NULL || (req.stream && cbs.on_chunk == NULL))
        return OC_EINVAL;
    const char *model = req.model && req.model[0] ? req.model : st->cfg.model;
    mock_prompt_t p;
    int32_t rc = mock_prompt_read(req.body_json, req.body_len, &p);
    if (rc != OC_OK)
        return rc; /* not a JSON object: the caller's bug, refused now */
    if (mock_call_begin(st) != 0) {
        mock_prompt_free(&p);
        return OC_ECANCELED; /* stopping */
    }
    mock_call_t *call = calloc(1, sizeof *call);
    if (call == NULL || (call->model = strdup(model)) == NULL) {
        free(call);
        mock_prompt_free(&p);
        mock_call_ended(st);
        return OC_ENOMEM;
    }
    call->st = st;
    call->cbs = cbs;
    call->data = data;
    call->stream = req.stream != 0;
    call->created = (int64_t)time(NULL);
    call->include_usage = p.include_usage;
    call->call_no = atomic_fetch_add(&st->calls, 1);
    snprintf(call->id, sizeof call->id, "chatcmpl-mock-%llu",
             (unsigned long long)call->call_no + 1);
    if (!p.messages_ok)
        call->bad_request = 1;
    else if (call->call_no < st->cfg.fail_first)
        call->fail_status = (int)st->cfg.fail_status;
    mock_template_render(&st->cfg.reply, p.last, p.count, model, &call->reply);
    call->prompt_tokens = p.words;
    call->completion_tokens = mock_count_words(call->reply.data, call->reply.len);
    size_t cps = mock_code_points(call->reply.data, call->reply.len);
    call->pieces = cps < st->cfg.stream_chunks ? (cps ? cps : 1) : st->cfg.stream_chunks;
    mock_prompt_free(&p);
    rc = call->reply.oom ? OC_ENOMEM : schedule(call, &req);
    if (rc != OC_OK) {
        call->finished = 1;
        call_free(call);
        return rc;
    }
    *out = call;
    return OC_PENDING;
}

void mock_cancel(void *state, oc_provider_call_t *call)
{
    (void)state;
    if (call == NULL || call->finished)
        return;
    call->finished = 1; /* no callback from now on */
    stop_timer(call, &call->step_timer);
    stop_timer(call, &call->deadline_timer);
    if (call->busy == 0)
        call_free(call);
}
