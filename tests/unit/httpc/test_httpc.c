/* Unit tests for core/httpc against the loopback test server. Nothing waits
 * by sleeping: each test runs the client's loop until a condition holds
 * (a short repeating timer wakes the loop to re-check conditions that
 * depend on the server thread). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc/httpc.h"
#include "log/log.h"
#include "test_http_server.h"

static uv_loop_t g_loop;
static uv_timer_t g_tick, g_deadline;
static int g_expired;
static gw_httpc_t *g_c;
static gw_ths_t *g_srv;

static void setup(void)
{
    gw_log_set_stderr(0);
    cr_assert_eq(gw_httpc_global_init(), 0);
    cr_assert_eq(uv_loop_init(&g_loop), 0);
    uv_timer_init(&g_loop, &g_tick);
    uv_timer_init(&g_loop, &g_deadline);
    g_c = gw_httpc_new(&g_loop);
    cr_assert_not_null(g_c);
    g_srv = gw_ths_start();
    cr_assert_not_null(g_srv);
}

static void on_tick(uv_timer_t *t)
{
}

static void on_deadline(uv_timer_t *t)
{
    g_expired = 1;
}

/* Runs the loop until cond(arg) holds; fails the test after timeout_ms. */
static void run_until(int (*cond)(void *), void *arg, uint64_t timeout_ms)
{
    g_expired = 0;
    uv_timer_start(&g_tick, on_tick, 2, 2);
    uv_timer_start(&g_deadline, on_deadline, timeout_ms, 0);
    while (!cond(arg) && !g_expired)
        uv_run(&g_loop, UV_RUN_ONCE);
    uv_timer_stop(&g_tick);
    uv_timer_stop(&g_deadline);
    cr_assert(cond(arg), "condition not reached within %llu ms",
              (unsigned long long)timeout_ms);
}

static int flag_set(void *arg)
{
    return *(int *)arg != 0;
}

static void on_closed(void *data)
{
    (*(int *)data)++;
}

static void close_client(void)
{
    if (g_c == NULL)
        return;
    int closed = 0;
    gw_httpc_close(g_c, on_closed, &closed);
    g_c = NULL;
    run_until(flag_set, &closed, 5000);
    cr_assert_eq(closed, 1);
}

static void teardown(void)
{
    close_client();
    gw_ths_stop(g_srv);
    uv_close((uv_handle_t *)&g_tick, NULL);
    uv_close((uv_handle_t *)&g_deadline, NULL);
    uv_run(&g_loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&g_loop), 0, "handles left open on the loop");
    gw_httpc_global_cleanup();
    gw_log_shutdown();
}

TestSuite(httpc, .init = setup, .fini = teardown, .timeout = 30);

/* ---- a recorded outcome ------------------------------------------------ */

typedef struct result_s {
    int done;
    int32_t status;
    int http_status;
    char error[256];
    char *body;
    size_t body_len;
    int body_null;
    char headers[1024]; /* "name: value\n"... */
    uint64_t total_ms;
    /* streaming */
    int heads;          /* on_data calls with len 0 */
    int pieces;         /* on_data calls with data */
    int done_at_piece;  /* set when a piece arrived after on_done (never expected) */
    char streamed[512];
    size_t streamed_len;
    int stream_status;  /* http_status seen by on_data */
    int release_each;   /* release the gated server after each piece */
    int cancel_at_piece; /* > 0: gw_httpc_cancel(self) at that piece */
    int abort_at_piece;  /* > 0: return OC_ECANCELED at that piece */
    oc_http_call_t *call;
    uint64_t piece_ns[16];
    uint64_t done_ns;
} result_t;

static void result_free(result_t *r)
{
    free(r->body);
    r->body = NULL;
}

static void on_done(void *data, const oc_http_response_t *res)
{
    result_t *r = data;
    cr_assert_eq(r->done, 0, "on_done called twice");
    cr_assert_eq(res->struct_size, sizeof(*res));
    r->done = 1;
    r->done_ns = uv_hrtime();
    r->status = res->status;
    r->http_status = res->http_status;
    r->total_ms = res->total_ms;
    if (res->error)
        snprintf(r->error, sizeof(r->error), "%s", res->error);
    cr_assert((res->status == OC_OK) == (res->error == NULL), "error iff status != OK");
    r->body_null = res->body == NULL;
    if (res->body) {
        cr_assert_eq(res->body[res->body_len], '\0', "body not NUL-terminated");
        r->body = malloc(res->body_len + 1);
        memcpy(r->body, res->body, res->body_len + 1);
        r->body_len = res->body_len;
    }
    size_t off = 0;
    for (size_t i = 0; i < res->header_count; i++)
        off += (size_t)snprintf(r->headers + off, sizeof(r->headers) - off, "%s: %s\n",
                                res->headers[i].name, res->headers[i].value);
}

static int32_t on_data(void *data, const oc_http_response_t *head, const char *chunk,
                       size_t len)
{
    result_t *r = data;
    if (r->done)
        r->done_at_piece = 1;
    r->stream_status = head->http_status;
    if (len == 0) {
        r->heads++;
        return OC_OK;
    }
    if (r->pieces < 16)
        r->piece_ns[r->pieces] = uv_hrtime();
    r->pieces++;
    if (r->streamed_len + len < sizeof(r->streamed)) {
        memcpy(r->streamed + r->streamed_len, chunk, len);
        r->streamed_len += len;
    }
    if (r->cancel_at_piece == r->pieces) {
        gw_httpc_cancel(r->call);
        return OC_OK;
    }
    if (r->abort_at_piece == r->pieces)
        return OC_ECANCELED;
    if (r->release_each)
        gw_ths_release(g_srv);
    return OC_OK;
}

static const oc_http_callbacks_t cbs = {
    .struct_size = sizeof(oc_http_callbacks_t), .on_data = on_data, .on_done = on_done};

static oc_http_call_t *start(const char *path, const char *method, const char *body,
                             uint32_t flags, uint32_t timeout_ms, result_t *r)
{
    char url[128], err[256] = "";
    gw_ths_url(g_srv, path, url, sizeof(url));
    oc_http_request_t req = {.struct_size = sizeof(req),
                             .timeout_ms = timeout_ms,
                             .method = method,
                             .url = url,
                             .body = body,
                             .body_len = body ? strlen(body) : 0,
                             .flags = flags};
    oc_http_call_t *call = gw_httpc_request(g_c, &req, &cbs, r, err, sizeof(err));
    cr_assert_not_null(call, "request failed: %s", err);
    r->call = call;
    return call;
}

static int result_done(void *arg)
{
    return ((result_t *)arg)->done;
}

/* ---- tests ------------------------------------------------------------- */

Test(httpc, get_round_trip)
{
    gw_ths_route(g_srv, "/hello",
                 &(gw_ths_response_t){.headers = "X-Test: yes\r\nContent-Type: text/plain\r\n",
                                      .body = "hello world"});
    char url[128], err[128];
    gw_ths_url(g_srv, "/hello?q=1", url, sizeof(url));
    oc_http_header_t hdrs[] = {{"X-Req", "abc"}, {"Accept", "text/plain"}, {"X-Empty", ""}};
    oc_http_request_t req = {
        .struct_size = sizeof(req), .url = url, .headers = hdrs, .header_count = 3};
    result_t r = {0};
    cr_assert_not_null(gw_httpc_request(g_c, &req, &cbs, &r, err, sizeof(err)), "%s", err);
    cr_assert_eq(r.done, 0, "no callback before the request returns");
    cr_assert_eq(gw_httpc_active(g_c), 1);
    run_until(result_done, &r, 5000);
    cr_assert_eq(r.status, OC_OK, "%s", r.error);
    cr_assert_eq(r.http_status, 200);
    cr_assert_str_eq(r.body, "hello world");
    cr_assert_eq(r.body_len, 11);
    cr_assert_not_null(strstr(r.headers, "x-test: yes\n"), "%s", r.headers);
    cr_assert_not_null(strstr(r.headers, "content-type: text/plain\n"), "%s", r.headers);
    cr_assert_not_null(strstr(r.headers, "content-length: 11\n"), "%s", r.headers);
    cr_assert_eq(gw_httpc_active(g_c), 0);

    gw_ths_request_t got;
    cr_assert_eq(gw_ths_request(g_srv, 0, &got), 0);
    cr_assert_str_eq(got.method, "GET");
    cr_assert_str_eq(got.path, "/hello?q=1");
    cr_assert_str_eq(gw_ths_request_header(&got, "x-req"), "abc");
    cr_assert_str_eq(gw_ths_request_header(&got, "accept"), "text/plain");
    cr_assert_str_eq(gw_ths_request_header(&got, "x-empty"), "");
    cr_assert_not_null(strstr(gw_ths_request_header(&got, "user-agent"), "openclaw-gateway"));
    cr_assert_eq(got.body_len, 0);
    gw_ths_request_free(&got);
    result_free(&r);
}

Test(httpc, post_and_put_round_trip)
{
    gw_ths_route(g_srv, "/echo", &(gw_ths_response_t){.status = 201, .body = "{\"ok\":true}"});
    const char *json = "{\"model\":\"m\",\"n\":1}";
    char url[128], err[128];
    gw_ths_url(g_srv, "/echo", url, sizeof(url));
    oc_http_header_t hdrs[] = {{"Content-Type", "application/json"}};
    oc_http_request_t req = {.struct_size = sizeof(req), .url = url, .headers = hdrs,
                             .header_count = 1, .body = json, .body_len = strlen(json)};
    result_t r1 = {0}, r2 = {0}, r3 = {0};
    cr_assert_not_null(gw_httpc_request(g_c, &req, &cbs, &r1, err, sizeof(err)));
    start("/echo", "PUT", "put-body", 0, 0, &r2);
    start("/echo", "DELETE", NULL, 0, 0, &r3);
    run_until(result_done, &r1, 5000);
    run_until(result_done, &r2, 5000);
    run_until(result_done, &r3, 5000);
    cr_assert_eq(r1.status, OC_OK, "%s", r1.error);
    cr_assert_eq(r1.http_status, 201);
    cr_assert_str_eq(r1.body, "{\"ok\":true}");
    cr_assert_eq(gw_ths_request_count(g_srv), 3);
    int seen = 0;
    for (size_t i = 0; i < 3; i++) {
        gw_ths_request_t got;
        cr_assert_eq(gw_ths_request(g_srv, i, &got), 0);
        if (strcmp(got.method, "POST") == 0) {
            cr_assert_eq(got.body_len, strlen(json));
            cr_assert_str_eq(got.body, json);
            cr_assert_str_eq(gw_ths_request_header(&got, "content-type"), "application/json");
            cr_assert_null(gw_ths_request_header(&got, "expect"));
            seen |= 1;
        } else if (strcmp(got.method, "PUT") == 0) {
            cr_assert_str_eq(got.body, "put-body");
            seen |= 2;
        } else if (strcmp(got.method, "DELETE") == 0) {
            cr_assert_eq(got.body_len, 0);
            seen |= 4;
        }
        gw_ths_request_free(&got);
    }
    cr_assert_eq(seen, 7);
    result_free(&r1);
    result_free(&r2);
    result_free(&r3);
}

#define CONCURRENT 100

static int all_done(void *arg)
{
    result_t *r = arg;
    for (int i = 0; i < CONCURRENT; i++)
        if (!r[i].done)
            return 0;
    return 1;
}

Test(httpc, hundred_concurrent_requests)
{
    gw_ths_route(g_srv, "/c", &(gw_ths_response_t){.body = "concurrent"});
    static result_t r[CONCURRENT];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < CONCURRENT; i++)
        start("/c", NULL, NULL, 0, 0, &r[i]);
    cr_assert_eq(gw_httpc_active(g_c), CONCURRENT);
    run_until(all_done, r, 20000);
    for (int i = 0; i < CONCURRENT; i++) {
        cr_assert_eq(r[i].status, OC_OK, "%d: %s", i, r[i].error);
        cr_assert_eq(r[i].http_status, 200);
        cr_assert_str_eq(r[i].body, "concurrent");
        result_free(&r[i]);
    }
    cr_assert_eq(gw_ths_request_count(g_srv), CONCURRENT);
    cr_assert_leq(gw_ths_connection_count(g_srv), GW_HTTPC_MAX_HOST_CONNECTIONS);
}

/* A chain: each on_done frees its state and starts the next request. */
typedef struct chain_s {
    int left;
    int completed;
    int failed;
} chain_t;

static void chain_next(chain_t *ch);

static void chain_done(void *data, const oc_http_response_t *res)
{
    chain_t **slot = data;
    chain_t *ch = *slot;
    free(slot); /* the caller's per-call state, freed inside on_done */
    if (res->status != OC_OK || res->http_status != 200)
        ch->failed++;
    ch->completed++;
    if (--ch->left > 0)
        chain_next(ch);
}

static void chain_next(chain_t *ch)
{
    static const oc_http_callbacks_t chain_cbs = {.struct_size = sizeof(oc_http_callbacks_t),
                                                  .on_done = chain_done};
    char url[128];
    gw_ths_url(g_srv, "/k", url, sizeof(url));
    oc_http_request_t req = {.struct_size = sizeof(req), .url = url};
    chain_t **slot = malloc(sizeof(*slot));
    *slot = ch;
    cr_assert_not_null(gw_httpc_request(g_c, &req, &chain_cbs, slot, NULL, 0));
}

static int chain_finished(void *arg)
{
    return ((chain_t *)arg)->left == 0;
}

Test(httpc, keep_alive_reuse_and_requests_from_on_done)
{
    gw_ths_route(g_srv, "/k", &(gw_ths_response_t){.body = "k"});
    chain_t ch = {.left = 10};
    chain_next(&ch);
    run_until(chain_finished, &ch, 10000);
    cr_assert_eq(ch.completed, 10);
    cr_assert_eq(ch.failed, 0);
    cr_assert_eq(gw_ths_request_count(g_srv), 10);
    cr_assert_lt(gw_ths_connection_count(g_srv), 10, "no connection reuse");
    cr_assert_eq(gw_ths_connection_count(g_srv), 1);
}

static int pieces_at_least(void *arg)
{
    result_t *r = arg;
    return r->pieces >= 1;
}

Test(httpc, streaming_pieces_arrive_before_the_end)
{
    /* The server sends chunk i+1 (and finally the end) only after the client
     * saw chunk i: pieces must be delivered as they arrive. */
    gw_ths_route(g_srv, "/stream",
                 &(gw_ths_response_t){.headers = "Content-Type: text/event-stream\r\n",
                                      .body = "data: piece",
                                      .chunks = 4,
                                      .gated = 1});
    result_t r = {.release_each = 1};
    start("/stream", NULL, NULL, OC_HTTP_F_STREAM, 0, &r);
    run_until(pieces_at_least, &r, 5000);
    cr_assert_eq(r.done, 0, "the end arrived with the first piece");
    cr_assert_eq(r.heads, 1, "the head comes first, once");
    cr_assert_eq(r.stream_status, 200);
    run_until(result_done, &r, 5000);
    cr_assert_eq(r.status, OC_OK, "%s", r.error);
    cr_assert_eq(r.http_status, 200);
    cr_assert(r.body_null, "a streamed body is not collected");
    cr_assert_eq(r.pieces, 4);
    cr_assert_eq(r.done_at_piece, 0);
    r.streamed[r.streamed_len] = '\0';
    cr_assert_str_eq(r.streamed, "data: piece0\ndata: piece1\ndata: piece2\ndata: piece3\n");
    for (int i = 1; i < r.pieces; i++)
        cr_assert_lt(r.piece_ns[i - 1], r.piece_ns[i]);
    cr_assert_leq(r.piece_ns[r.pieces - 1], r.done_ns);
    cr_assert_not_null(strstr(r.headers, "content-type: text/event-stream\n"));
}

Test(httpc, streaming_interval_chunks)
{
    gw_ths_route(g_srv, "/tick", &(gw_ths_response_t){.body = "t", .chunks = 3,
                                                      .chunk_interval_ms = 5});
    result_t r = {0};
    start("/tick", NULL, NULL, OC_HTTP_F_STREAM, 0, &r);
    run_until(result_done, &r, 5000);
    cr_assert_eq(r.status, OC_OK, "%s", r.error);
    r.streamed[r.streamed_len] = '\0';
    cr_assert_str_eq(r.streamed, "t0\nt1\nt2\n");
}

Test(httpc, on_data_abort)
{
    gw_ths_route(g_srv, "/stream", &(gw_ths_response_t){.body = "x", .chunks = 3, .gated = 1});
    result_t r = {.abort_at_piece = 1};
    start("/stream", NULL, NULL, OC_HTTP_F_STREAM, 0, &r);
    run_until(result_done, &r, 5000);
    cr_assert_eq(r.status, OC_ECANCELED);
    cr_assert_eq(r.http_status, 200);
    cr_assert_eq(r.pieces, 1);
}

static int never_called;

static void must_not_run(void *data, const oc_http_response_t *res)
{
    never_called++;
}

static int server_has_requests(void *arg)
{
    return gw_ths_request_count(g_srv) >= (size_t)(uintptr_t)arg;
}

Test(httpc, timeout)
{
    gw_ths_route(g_srv, "/slow", &(gw_ths_response_t){.delay_ms = 10000, .body = "late"});
    result_t r = {0};
    start("/slow", NULL, NULL, 0, 150, &r);
    run_until(result_done, &r, 5000);
    cr_assert_eq(r.status, OC_ETIMEDOUT, "%d %s", r.status, r.error);
    cr_assert_eq(r.http_status, 0);
    cr_assert_neq(r.error[0], '\0');
    cr_assert_geq(r.total_ms, 140);
    cr_assert_lt(r.total_ms, 5000);
    result_free(&r);
}

Test(httpc, connection_refused)
{
    gw_ths_t *dead = gw_ths_start();
    int port = gw_ths_port(dead);
    gw_ths_stop(dead); /* nothing listens on that port any more */
    char url[128], err[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    oc_http_request_t req = {.struct_size = sizeof(req), .url = url};
    result_t r = {0};
    cr_assert_not_null(gw_httpc_request(g_c, &req, &cbs, &r, err, sizeof(err)));
    run_until(result_done, &r, 5000);
    cr_assert_eq(r.status, OC_EIO, "%d %s", r.status, r.error);
    cr_assert_eq(r.http_status, 0);
    cr_assert_not_null(strstr(r.error, "onnect"), "%s", r.error);
    result_free(&r);
}

Test(httpc, closed_without_response)
{
    gw_ths_route(g_srv, "/drop", &(gw_ths_response_t){.close_without_response = 1});
    result_t r = {0};
    start("/drop", NULL, NULL, 0, 0, &r);
    run_until(result_done, &r, 5000);
    cr_assert_eq(r.status, OC_EIO, "%d %s", r.status, r.error);
    cr_assert_neq(r.error[0], '\0');
    result_free(&r);
}

Test(httpc, http_error_status_is_a_response)
{
    result_t r = {0};
    start("/no-such-route", NULL, NULL, 0, 0, &r);
    run_until(result_done, &r, 5000);
    cr_assert_eq(r.status, OC_OK);
    cr_assert_eq(r.http_status, 404);
    cr_assert_str_eq(r.body, "not found\n");
    result_free(&r);
}

Test(httpc, body_limit)
{
    gw_httpc_set_body_limit(g_c, 10);
    gw_ths_route(g_srv, "/big", &(gw_ths_response_t){.body = "0123456789abcdefghij"});
    result_t r = {0};
    start("/big", NULL, NULL, 0, 0, &r);
    run_until(result_done, &r, 5000);
    cr_assert_eq(r.status, OC_EIO);
    cr_assert_not_null(strstr(r.error, "exceeds the 10-byte limit"), "%s", r.error);
    result_free(&r);
}

Test(httpc, cancel_in_flight)
{
    gw_ths_route(g_srv, "/slow", &(gw_ths_response_t){.delay_ms = 10000});
    char url[128];
    gw_ths_url(g_srv, "/slow", url, sizeof(url));
    oc_http_request_t req = {.struct_size = sizeof(req), .url = url};
    oc_http_callbacks_t never = {.struct_size = sizeof(never), .on_done = must_not_run};
    never_called = 0;
    oc_http_call_t *call = gw_httpc_request(g_c, &req, &never, NULL, NULL, 0);
    cr_assert_not_null(call);
    run_until(server_has_requests, (void *)(uintptr_t)1, 5000);
    gw_httpc_cancel(call);
    cr_assert_eq(gw_httpc_active(g_c), 0);
    /* The client goes on working; the canceled call never reports. */
    gw_ths_route(g_srv, "/ok", &(gw_ths_response_t){.body = "ok"});
    result_t r = {0};
    start("/ok", NULL, NULL, 0, 0, &r);
    run_until(result_done, &r, 5000);
    cr_assert_eq(r.status, OC_OK, "%s", r.error);
    cr_assert_eq(never_called, 0);
    result_free(&r);
}

Test(httpc, cancel_before_anything_happened)
{
    result_t r = {0};
    oc_http_call_t *call = start("/x", NULL, NULL, 0, 0, &r);
    gw_httpc_cancel(call);
    result_t r2 = {0};
    start("/y", NULL, NULL, 0, 0, &r2);
    run_until(result_done, &r2, 5000);
    cr_assert_eq(r.done, 0);
    result_free(&r2);
}

Test(httpc, cancel_from_inside_on_data)
{
    gw_ths_route(g_srv, "/stream", &(gw_ths_response_t){.body = "x", .chunks = 3, .gated = 1});
    result_t r = {.cancel_at_piece = 1};
    start("/stream", NULL, NULL, OC_HTTP_F_STREAM, 0, &r);
    run_until(pieces_at_least, &r, 5000);
    cr_assert_eq(gw_httpc_active(g_c), 0);
    gw_ths_route(g_srv, "/ok", &(gw_ths_response_t){.body = "ok"});
    result_t r2 = {0};
    start("/ok", NULL, NULL, 0, 0, &r2);
    run_until(result_done, &r2, 5000);
    cr_assert_eq(r2.status, OC_OK, "%s", r2.error);
    cr_assert_eq(r.done, 0, "on_done after cancel");
    cr_assert_eq(r.pieces, 1);
    result_free(&r2);
}

/* on_data of one call starts another call and cancels a third. */
typedef struct cross_s {
    result_t self, started, victim;
    int fired;
} cross_t;

static cross_t *g_cross;

static int32_t cross_on_data(void *data, const oc_http_response_t *head, const char *chunk,
                             size_t len)
{
    cross_t *x = g_cross;
    if (len > 0 && !x->fired) {
        x->fired = 1;
        gw_httpc_cancel(x->victim.call);
        start("/ok", NULL, NULL, 0, 0, &x->started);
        gw_ths_release(g_srv);
    } else if (len > 0) {
        gw_ths_release(g_srv);
    }
    return OC_OK;
}

static int cross_done(void *arg)
{
    cross_t *x = arg;
    return x->self.done && x->started.done;
}

Test(httpc, calls_started_and_canceled_inside_on_data)
{
    gw_ths_route(g_srv, "/stream", &(gw_ths_response_t){.body = "x", .chunks = 2, .gated = 1});
    gw_ths_route(g_srv, "/slow", &(gw_ths_response_t){.delay_ms = 10000});
    gw_ths_route(g_srv, "/ok", &(gw_ths_response_t){.body = "ok"});
    static cross_t x;
    memset(&x, 0, sizeof(x));
    g_cross = &x;
    start("/slow", NULL, NULL, 0, 0, &x.victim);
    char url[128];
    gw_ths_url(g_srv, "/stream", url, sizeof(url));
    oc_http_request_t req = {.struct_size = sizeof(req), .url = url, .flags = OC_HTTP_F_STREAM};
    oc_http_callbacks_t xc = {.struct_size = sizeof(xc), .on_data = cross_on_data,
                              .on_done = on_done};
    cr_assert_not_null(gw_httpc_request(g_c, &req, &xc, &x.self, NULL, 0));
    run_until(cross_done, &x, 5000);
    cr_assert_eq(x.self.status, OC_OK, "%s", x.self.error);
    cr_assert_eq(x.started.status, OC_OK, "%s", x.started.error);
    cr_assert_str_eq(x.started.body, "ok");
    cr_assert_eq(x.victim.done, 0);
    result_free(&x.self);
    result_free(&x.started);
}

static int closed_count;

static void close_from_on_done(void *data, const oc_http_response_t *res)
{
    on_done(data, res);
    gw_httpc_close(g_c, on_closed, &closed_count);
    g_c = NULL;
}

Test(httpc, close_with_calls_in_flight)
{
    gw_ths_route(g_srv, "/slow", &(gw_ths_response_t){.delay_ms = 10000});
    gw_ths_route(g_srv, "/stream", &(gw_ths_response_t){.body = "x", .chunks = 3, .gated = 1});
    never_called = 0;
    char url[128];
    gw_ths_url(g_srv, "/slow", url, sizeof(url));
    oc_http_request_t req = {.struct_size = sizeof(req), .url = url};
    oc_http_callbacks_t never = {.struct_size = sizeof(never), .on_done = must_not_run};
    for (int i = 0; i < 5; i++)
        cr_assert_not_null(gw_httpc_request(g_c, &req, &never, NULL, NULL, 0));
    result_t s = {0};
    start("/stream", NULL, NULL, OC_HTTP_F_STREAM, 0, &s);
    run_until(server_has_requests, (void *)(uintptr_t)6, 5000);
    run_until(pieces_at_least, &s, 5000);
    int closed = 0;
    gw_httpc_close(g_c, on_closed, &closed);
    gw_httpc_close(g_c, on_closed, &closed); /* ignored */
    g_c = NULL;
    run_until(flag_set, &closed, 5000);
    cr_assert_eq(closed, 1);
    cr_assert_eq(never_called, 0);
    cr_assert_eq(s.done, 0);
}

Test(httpc, close_from_on_done)
{
    gw_ths_route(g_srv, "/ok", &(gw_ths_response_t){.body = "ok"});
    gw_ths_route(g_srv, "/slow", &(gw_ths_response_t){.delay_ms = 10000});
    never_called = 0;
    char url[128];
    gw_ths_url(g_srv, "/slow", url, sizeof(url));
    oc_http_request_t req = {.struct_size = sizeof(req), .url = url};
    oc_http_callbacks_t never = {.struct_size = sizeof(never), .on_done = must_not_run};
    cr_assert_not_null(gw_httpc_request(g_c, &req, &never, NULL, NULL, 0));
    gw_ths_url(g_srv, "/ok", url, sizeof(url));
    oc_http_callbacks_t closing = {.struct_size = sizeof(closing), .on_done = close_from_on_done};
    result_t r = {0};
    cr_assert_not_null(gw_httpc_request(g_c, &req, &closing, &r, NULL, 0));
    closed_count = 0;
    run_until(flag_set, &closed_count, 5000);
    cr_assert_eq(r.status, OC_OK, "%s", r.error);
    cr_assert_eq(never_called, 0);
    result_free(&r);
}

static void expect_bad(const oc_http_request_t *req, const oc_http_callbacks_t *c,
                       const char *needle)
{
    char err[256] = "";
    cr_assert_null(gw_httpc_request(g_c, req, c, NULL, err, sizeof(err)), "accepted: %s",
                   needle);
    cr_assert_not_null(strstr(err, needle), "error '%s' lacks '%s'", err, needle);
}

Test(httpc, bad_requests)
{
    oc_http_request_t req = {.struct_size = sizeof(req)};
    expect_bad(&req, &cbs, "no URL");
    req.url = "";
    expect_bad(&req, &cbs, "no URL");
    req.url = "ftp://127.0.0.1/x";
    expect_bad(&req, &cbs, "scheme");
    req.url = "not a url";
    expect_bad(&req, &cbs, "URL");
    req.url = "http://exa mple.com/";
    expect_bad(&req, &cbs, "URL");
    req.url = "http://127.0.0.1:1/";
    req.method = "GE T";
    expect_bad(&req, &cbs, "method");
    req.method = NULL;
    oc_http_header_t crlf[] = {{"X-A", "v\r\nInjected: 1"}};
    req.headers = crlf;
    req.header_count = 1;
    expect_bad(&req, &cbs, "line break");
    oc_http_header_t badname[] = {{"X A", "v"}};
    req.headers = badname;
    expect_bad(&req, &cbs, "header name");
    req.headers = NULL;
    req.header_count = 0;
    req.flags = OC_HTTP_F_STREAM;
    oc_http_callbacks_t done_only = {.struct_size = sizeof(done_only), .on_done = on_done};
    expect_bad(&req, &done_only, "on_data");
    req.flags = 0;
    req.body_len = 5;
    expect_bad(&req, &cbs, "body");
    req.body_len = 0;
    oc_http_request_t tiny = {.struct_size = 4, .url = "http://127.0.0.1/"};
    expect_bad(&tiny, &cbs, "struct_size");
    oc_http_callbacks_t tinycb = {.struct_size = 4};
    expect_bad(&req, &tinycb, "struct_size");
    cr_assert_eq(gw_httpc_active(g_c), 0);
}

/* A plugin built against an older, shorter request struct: the fields it
 * does not have read as zero (defaults), whatever lies past its end. */
Test(httpc, short_request_struct)
{
    gw_ths_route(g_srv, "/old", &(gw_ths_response_t){.body = "old"});
    char url[128];
    gw_ths_url(g_srv, "/old", url, sizeof(url));
    oc_http_request_t req;
    memset(&req, 0xff, sizeof(req)); /* garbage beyond struct_size */
    req.struct_size = (uint32_t)offsetof(oc_http_request_t, connect_timeout_ms);
    req.timeout_ms = 0;
    req.method = NULL;
    req.url = url;
    req.headers = NULL;
    req.header_count = 0;
    req.body = NULL;
    req.body_len = 0;
    result_t r = {0};
    cr_assert_not_null(gw_httpc_request(g_c, &req, &cbs, &r, NULL, 0));
    run_until(result_done, &r, 5000);
    cr_assert_eq(r.status, OC_OK, "%s", r.error);
    cr_assert_str_eq(r.body, "old");
    result_free(&r);
}

Test(httpc, request_copies_everything)
{
    gw_ths_route(g_srv, "/copy", &(gw_ths_response_t){.body = "c"});
    char *url = malloc(128), *name = strdup("X-Copied"), *value = strdup("yes"),
         *body = strdup("payload");
    gw_ths_url(g_srv, "/copy", url, 128);
    oc_http_header_t *h = malloc(sizeof(*h));
    h->name = name;
    h->value = value;
    oc_http_request_t *req = calloc(1, sizeof(*req));
    req->struct_size = sizeof(*req);
    req->url = url;
    req->headers = h;
    req->header_count = 1;
    req->body = body;
    req->body_len = strlen(body);
    oc_http_callbacks_t *c = malloc(sizeof(*c));
    *c = cbs;
    result_t r = {0};
    cr_assert_not_null(gw_httpc_request(g_c, req, c, &r, NULL, 0));
    free(url);
    free(name);
    free(value);
    free(body);
    free(h);
    free(req);
    free(c);
    run_until(result_done, &r, 5000);
    cr_assert_eq(r.status, OC_OK, "%s", r.error);
    gw_ths_request_t got;
    cr_assert_eq(gw_ths_request(g_srv, 0, &got), 0);
    cr_assert_str_eq(got.method, "POST");
    cr_assert_str_eq(got.body, "payload");
    cr_assert_str_eq(gw_ths_request_header(&got, "x-copied"), "yes");
    gw_ths_request_free(&got);
    result_free(&r);
}
