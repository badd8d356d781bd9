/* fixture.h - shared by the provider-anthropic tests: a test host with the
 * real provider-anthropic.so, a fake Anthropic upstream
 * (tests/support/test_http_server), and a recorder for one chat call's
 * callbacks. */
#ifndef ANT_TEST_FIXTURE_H
#define ANT_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <openclaw/plugin.h>
#include <openclaw/testing.h>

#include "test_http_server.h"

#define TEST_KEY "sk-ant-test-0123456789abcdefXYZ"
#define MESSAGES "/v1/messages"

typedef struct fx_s {
    oc_test_host_t *th;
    gw_ths_t *srv;
    const oc_provider_ops_t *ops;
    void *st;
    const oc_host_api_t *host;
} fx_t;

/* Everything one call reported. Strings are copies. */
typedef struct rec_s {
    fx_t *f;
    oc_provider_call_t *call;
    int ndone;
    oc_chat_result_t res; /* error/body_json point to the copies below */
    char *error;
    char *body;
    char **chunks;
    size_t nchunks;
    uint64_t started_at, done_at, first_chunk_at;
    size_t cancel_at;        /* call ops->cancel from inside the nth on_chunk (1-based) */
    size_t return_cancel_at; /* return OC_ECANCELED from the nth on_chunk */
} rec_t;

const char *plugin_path(const char *name);

/* Starts the fake upstream (f->srv). */
void fx_server(fx_t *f);
/* Host with `yaml` and the plugin loaded; returns the load status. The
 * yaml may contain "%PORT%", replaced with the fake upstream's port. */
int32_t fx_try(fx_t *f, const char *yaml);
void fx_load(fx_t *f, const char *yaml);
/* The usual entry: baseUrl at the fake upstream, TEST_KEY, model
 * claude-test, plus `extra` lines (each "    key: value\n"). */
void fx_load_default(fx_t *f, const char *extra);
/* fx_server + fx_load_default. */
void fx_up(fx_t *f, const char *extra);
void fx_free(fx_t *f);

/* Starts a call; returns chat's status. body NULL = a small default. */
int32_t rec_start(fx_t *f, rec_t *r, const char *model, int stream, const char *body,
                  uint32_t timeout_ms, uint32_t first_token_ms);
/* Runs the loop until the call is done (or timeout_ms). 1 when done. */
int rec_wait(fx_t *f, rec_t *r, uint64_t timeout_ms);
/* Runs the loop until r has n chunks (or timeout_ms). */
int rec_wait_chunks(fx_t *f, rec_t *r, size_t n, uint64_t timeout_ms);
/* Runs the loop until cond(arg) (or timeout_ms); 1 when it holds. */
int wait_until(fx_t *f, int (*cond)(void *), void *arg, uint64_t timeout_ms);
/* Runs the loop for ms, whatever happens. */
void run_for(fx_t *f, uint64_t ms);
void rec_free(rec_t *r);
/* rec_start + rec_wait, asserting the call was accepted and ended. */
void rec_run(fx_t *f, rec_t *r, int stream, const char *body);

/* Upstream helpers. */
void route_json(fx_t *f, int status, const char *headers, const char *body);
void route_sse(fx_t *f, const char *const *pieces, size_t n, unsigned interval_ms, int gated);
/* Request i as the upstream saw it (free with gw_ths_request_free). */
void upstream_request(fx_t *f, size_t i, gw_ths_request_t *out);
/* The body of request i, parsed (free with json_object_put). */
json_object *upstream_body(fx_t *f, size_t i);

/* JSON helpers for the checks: o at a path like "messages.0.content.1.text"
 * (NULL when absent), and its text form ("" when absent). */
json_object *at(json_object *o, const char *path);
const char *text_at(json_object *o, const char *path);
/* The compact JSON text of o at path, like {"type":"auto"}; "" when absent. */
const char *json_at(json_object *o, const char *path);

/* A copy of a chunk with the number after "created": replaced by 0, after
 * checking it is a plausible Unix time. Free it. */
char *norm_created(const char *chunk);

/* A non-streamed answer with one text block and usage. */
#define MESSAGE_BODY                                                                           \
    "{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":"               \
    "\"claude-test-20250101\",\"content\":[{\"type\":\"text\",\"text\":\"hi there\"}],"        \
    "\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,"      \
    "\"output_tokens\":3}}"

#endif
