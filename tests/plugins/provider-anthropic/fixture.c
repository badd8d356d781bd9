/* fixture.c - see fixture.h. */
#define _GNU_SOURCE
#include "fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *plugin_path(const char *name)
{
    static char path[4096];
    const char *dir = getenv("OPENCLAW_TEST_PLUGIN_DIR");
    cr_assert_not_null(dir, "OPENCLAW_TEST_PLUGIN_DIR is not set (run through ctest)");
    snprintf(path, sizeof path, "%s/%s.so", dir, name);
    return path;
}

void fx_server(fx_t *f)
{
    f->srv = gw_ths_start();
    cr_assert_not_null(f->srv, "cannot start the fake upstream");
}

/* yaml with every %PORT% replaced. */
static char *with_port(const fx_t *f, const char *yaml)
{
    char port[16];
    snprintf(port, sizeof port, "%d", f->srv ? gw_ths_port(f->srv) : 9);
    size_t cap = strlen(yaml) * 2 + 64, o = 0;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    for (const char *p = yaml; *p;) {
        if (strncmp(p, "%PORT%", 6) == 0) {
            o += (size_t)snprintf(out + o, cap - o, "%s", port);
            p += 6;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return out;
}

int32_t fx_try(fx_t *f, const char *yaml)
{
    char *y = with_port(f, yaml);
    f->th = oc_test_host_new(y);
    free(y);
    cr_assert_not_null(f->th, "test host: %s", oc_test_host_last_error());
    f->host = oc_test_host_api(f->th);
    int32_t rc = oc_test_host_load(f->th, plugin_path("provider-anthropic"));
    if (rc == OC_OK) {
        f->ops = oc_test_host_kind_ops(f->th, "provider-anthropic");
        f->st = oc_test_host_state(f->th, "provider-anthropic");
        cr_assert_not_null(f->ops);
        cr_assert_not_null(f->st);
    }
    return rc;
}

void fx_load(fx_t *f, const char *yaml)
{
    int32_t rc = fx_try(f, yaml);
    cr_assert_eq(rc, OC_OK, "load failed (%d): %s", rc, oc_test_host_errors(f->th));
}

void fx_load_default(fx_t *f, const char *extra)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "providers:\n"
             "  - name: up\n"
             "    type: anthropic\n"
             "    baseUrl: http://127.0.0.1:%%PORT%%\n"
             "    apiKey: " TEST_KEY "\n"
             "    model: claude-test\n"
             "%s",
             extra ? extra : "");
    fx_load(f, yaml);
}

void fx_up(fx_t *f, const char *extra)
{
    fx_server(f);
    fx_load_default(f, extra);
}

void fx_free(fx_t *f)
{
    oc_test_host_free(f->th);
    f->th = NULL;
    gw_ths_stop(f->srv);
    f->srv = NULL;
}

/* ---- the recorder ------------------------------------------------------- */

static int32_t on_chunk(void *data, const char *json, size_t len)
{
    rec_t *r = data;
    if (r->nchunks == 0)
        r->first_chunk_at = r->f->host->now_ms();
    r->chunks = realloc(r->chunks, (r->nchunks + 1) * sizeof *r->chunks);
    cr_assert_not_null(r->chunks);
    r->chunks[r->nchunks++] = strndup(json, len);
    cr_assert_eq(strlen(r->chunks[r->nchunks - 1]), len, "a chunk with a NUL inside");
    cr_assert_eq(r->ndone, 0, "a chunk after on_done");
    if (r->cancel_at && r->nchunks == r->cancel_at)
        r->f->ops->cancel(r->f->st, r->call);
    if (r->return_cancel_at && r->nchunks == r->return_cancel_at)
        return OC_ECANCELED;
    return OC_OK;
}

static void on_done(void *data, const oc_chat_result_t *res)
{
    rec_t *r = data;
    r->ndone++;
    cr_assert_eq(r->ndone, 1, "on_done ran %d times", r->ndone);
    r->done_at = r->f->host->now_ms();
    r->res = *res;
    r->error = res->error ? strdup(res->error) : NULL;
    r->body = res->body_json ? strndup(res->body_json, res->body_len) : NULL;
    r->res.error = r->error;
    r->res.body_json = r->body;
}

static const oc_chat_callbacks_t callbacks = {
    .struct_size = sizeof(oc_chat_callbacks_t),
    .on_chunk = on_chunk,
    .on_done = on_done,
};

#define DEFAULT_BODY "{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}"

int32_t rec_start(fx_t *f, rec_t *r, const char *model, int stream, const char *body,
                  uint32_t timeout_ms, uint32_t first_token_ms)
{
    r->f = f;
    r->started_at = f->host->now_ms();
    const char *b = body ? body : DEFAULT_BODY;
    oc_chat_request_t req = {
        .struct_size = sizeof req,
        .stream = stream,
        .provider = "up",
        .model = model,
        .body_json = b,
        .body_len = strlen(b),
        .timeout_ms = timeout_ms,
        .first_token_timeout_ms = first_token_ms,
    };
    return f->ops->chat(f->st, &req, &callbacks, r, &r->call);
}

/* oc_test_host_run_until tests its condition only after uv_run(ONCE)
 * returns, and ONCE may block in poll until the next timer: short slices
 * bound that to a few ms. */
int wait_until(fx_t *f, int (*cond)(void *), void *arg, uint64_t timeout_ms)
{
    uint64_t end = f->host->now_ms() + timeout_ms;
    while (!cond(arg)) {
        if (f->host->now_ms() >= end)
            return 0;
        oc_test_host_run_until(f->th, cond, arg, 5);
    }
    return 1;
}

static int is_done(void *arg)
{
    return ((rec_t *)arg)->ndone > 0;
}

int rec_wait(fx_t *f, rec_t *r, uint64_t timeout_ms)
{
    return wait_until(f, is_done, r, timeout_ms);
}

void rec_run(fx_t *f, rec_t *r, int stream, const char *body)
{
    int32_t rc = rec_start(f, r, NULL, stream, body, 0, 0);
    cr_assert_eq(rc, OC_PENDING, "chat refused (%d): %s", rc, oc_test_host_errors(f->th));
    cr_assert(rec_wait(f, r, 10000), "no on_done");
}

typedef struct want_chunks_s {
    rec_t *r;
    size_t n;
} want_chunks_t;

static int has_chunks(void *arg)
{
    want_chunks_t *w = arg;
    return w->r->nchunks >= w->n || w->r->ndone > 0;
}

int rec_wait_chunks(fx_t *f, rec_t *r, size_t n, uint64_t timeout_ms)
{
    want_chunks_t w = {r, n};
    wait_until(f, has_chunks, &w, timeout_ms);
    return r->nchunks >= n;
}

static int never(void *arg)
{
    (void)arg;
    return 0;
}

void run_for(fx_t *f, uint64_t ms)
{
    oc_test_host_run_until(f->th, never, NULL, ms);
}

void rec_free(rec_t *r)
{
    free(r->error);
    free(r->body);
    for (size_t i = 0; i < r->nchunks; i++)
        free(r->chunks[i]);
    free(r->chunks);
    memset(r, 0, sizeof *r);
}

/* ---- upstream ----------------------------------------------------------- */

void route_json(fx_t *f, int status, const char *headers, const char *body)
{
    char h[1024];
    snprintf(h, sizeof h, "Content-Type: application/json\r\n%s", headers ? headers : "");
    gw_ths_response_t r = {.status = status, .headers = h, .body = body};
    cr_assert_eq(gw_ths_route(f->srv, MESSAGES, &r), 0);
}

void route_sse(fx_t *f, const char *const *pieces, size_t n, unsigned interval_ms, int gated)
{
    gw_ths_response_t r = {
        .headers = "Content-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n",
        .pieces = pieces,
        .npieces = n,
        .chunk_interval_ms = interval_ms,
        .gated = gated,
    };
    cr_assert_eq(gw_ths_route(f->srv, MESSAGES, &r), 0);
}

void upstream_request(fx_t *f, size_t i, gw_ths_request_t *out)
{
    cr_assert_eq(gw_ths_request(f->srv, i, out), 0, "the upstream saw no request %zu", i);
}

json_object *upstream_body(fx_t *f, size_t i)
{
    gw_ths_request_t q;
    upstream_request(f, i, &q);
    json_object *o = json_tokener_parse(q.body);
    cr_assert_not_null(o, "the upstream got a body that is not JSON: %s", q.body);
    gw_ths_request_free(&q);
    return o;
}

/* ---- JSON paths --------------------------------------------------------- */

json_object *at(json_object *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
        if (json_object_is_type(o, json_type_array)) {
            char *end;
            long i = strtol(k, &end, 10);
            o = *end == '\0' && i >= 0 && (size_t)i < json_object_array_length(o)
                    ? json_object_array_get_idx(o, (size_t)i)
                    : NULL;
        } else if (!json_object_object_get_ex(o, k, &o)) {
            o = NULL;
        }
    }
    return o;
}

const char *text_at(json_object *o, const char *path)
{
    json_object *v = at(o, path);
    return v ? json_object_get_string(v) : "";
}

const char *json_at(json_object *o, const char *path)
{
    json_object *v = at(o, path);
    return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE)
             : "";
}

char *norm_created(const char *chunk)
{
    const char *p = strstr(chunk, "\"created\":");
    cr_assert_not_null(p, "no created in %s", chunk);
    p += strlen("\"created\":");
    char *end;
    long long t = strtoll(p, &end, 10);
    cr_assert_gt(t, 1600000000LL, "created %lld is not a Unix time now", t);
    size_t head = (size_t)(p - chunk);
    char *out = malloc(strlen(chunk) + 2);
    cr_assert_not_null(out);
    memcpy(out, chunk, head);
    out[head] = '0';
    strcpy(out + head + 1, end);
    return out;
}
