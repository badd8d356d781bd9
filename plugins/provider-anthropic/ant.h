/* ant.h - provider-anthropic: types shared by the plugin's files. Not part
 * of the SDK.
 *
 * Threads (the descriptor has OC_PLUGIN_F_MULTI_LOOP):
 *  - ant_state_t is written by init only (and stop/destroy on the home
 *    loop); while calls may run it is read-only, except the atomics.
 *  - ant_call_t (the oc_provider_call_t handle) belongs to the loop that
 *    called chat: its HTTP call, timers, parser and stream translator live
 *    on that loop and every callback for it runs there. Nothing in it is
 *    shared.
 *  - The pure helpers (buf, request, response, stream, sse, classify) touch
 *    only what they are given: any thread, one object per thread. */
#ifndef ANT_H
#define ANT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <openclaw/plugin.h>
#include <pthread.h>

#include "sse.h"

#define ANT_NAME "provider-anthropic"
#define ANT_VERSION "1.0.0"
#define ANT_DEFAULT_BASE_URL "https://api.anthropic.com"
#define ANT_DEFAULT_API_VERSION "2023-06-01"
#define ANT_DEFAULT_MAX_TOKENS 4096
#define ANT_MAX_MAX_TOKENS 1048576     /* far above any model's output limit */
#define ANT_DEFAULT_TIMEOUT_MS 60000
#define ANT_MAX_TIMEOUT_MS 3600000     /* one hour: extended thinking can be slow */
#define ANT_MAX_RETRIES 10
#define ANT_CONNECT_TIMEOUT_MS 10000   /* capped by the call's own budget */
#define ANT_ERROR_BODY_MAX 65536       /* bytes of an error body kept for its message */
#define ANT_DRAIN_MS 1000              /* after message_stop: wait this long for the body's end */
#define ANT_ERR_MAX 512                /* result.error text */
#define ANT_JSON_DEPTH 128             /* nesting allowed in bodies (tool schemas nest deep) */

/* ---- a growable string (buf.c) ------------------------------------------ */

typedef struct ant_buf_s {
    char *data; /* NUL-terminated when not NULL; owned */
    size_t len, cap;
    int oom;    /* an append failed: the content is incomplete */
} ant_buf_t;

void ant_buf_append(ant_buf_t *b, const char *s, size_t n);
void ant_buf_puts(ant_buf_t *b, const char *s);
void ant_buf_printf(ant_buf_t *b, const char *fmt, ...) OC_PRINTF(2, 3);
/* s (n bytes) as a JSON string literal, quotes included; '/' unescaped. */
void ant_buf_json_str(ant_buf_t *b, const char *s, size_t n);
/* Empties b, keeping its memory unless it grew past `keep` bytes. */
void ant_buf_clear(ant_buf_t *b, size_t keep);
void ant_buf_free(ant_buf_t *b);

/* ---- json-c helpers (buf.c) ---------------------------------------------- */

/* Parses exactly one JSON value from s (trailing blanks allowed), nesting
 * at most ANT_JSON_DEPTH. NULL when it does not parse; the caller owns the
 * result. */
json_object *ant_json_parse(const char *s, size_t len);
/* o[key] when o is an object, else NULL. Borrowed. */
json_object *ant_member(json_object *o, const char *key);
/* o[key] when it is a string, else NULL. Borrowed. */
const char *ant_str_member(json_object *o, const char *key);
/* o is not NULL and of `type` (json-c counts NULL as json_type_null). */
int ant_is(json_object *o, json_type type);
/* o[key] = v, taking v's reference even when it fails. OC_OK or OC_ENOMEM. */
int32_t ant_put(json_object *o, const char *key, json_object *v);
/* Appends v (NULL: out of memory) to array a, taking v's reference even
 * when it fails. OC_OK or OC_ENOMEM. */
int32_t ant_push(json_object *a, json_object *v);
/* The compact text of o (no "\/" escaping) as a malloc'd copy; NULL on OOM. */
char *ant_json_dump(json_object *o, size_t *len);

/* ---- configuration (config.c) ------------------------------------------- */

/* Every string is an owned copy (config nodes are only valid until a
 * reload, and a replaced instance may still be draining calls). Immutable
 * after init. */
typedef struct ant_config_s {
    char *base_url;       /* without a trailing '/' or "/v1" */
    char *url;            /* base_url + "/v1/messages" (+ the query of baseUrl) */
    char *model;          /* default model; NULL when not set */
    char **models;        /* NULL-terminated; what the models op returns */
    char *api_key;        /* sent as x-api-key; NULL when none (wiped on destroy) */
    char *api_version;    /* sent as anthropic-version */
    oc_http_header_t *headers; /* extra headers, owned name/value copies */
    size_t header_count;
    const char **secrets; /* NULL-terminated: the key and secret-looking header values,
                             scrubbed from error texts (borrowed from the above) */
    int has_content_type; /* headers override our own of the same name */
    int has_accept;
    uint32_t timeout_ms;
    uint32_t max_retries;
    uint32_t max_tokens;  /* when a request gives none */
} ant_config_t;

/* ---- the instance and its calls ----------------------------------------- */

typedef struct ant_state_s {
    const oc_host_api_t *host;
    oc_plugin_t *self;
    ant_config_t cfg;
    pthread_t home;       /* the thread of init: the home loop */
    /* (live calls << 1) | stopping; see plugin.c. */
    atomic_uint gate;
    oc_stop_done_cb stop_done;
    void *stop_data;
} ant_state_t;

/* Stream translation: Anthropic Messages events in, OpenAI
 * chat.completion.chunk objects out (stream.c). Per call. */
typedef struct ant_stream_s {
    ant_buf_t head;       /* {"id":..,"object":..,"created":..,"model":.. of every chunk */
    ant_buf_t out;        /* the chunk of the last event */
    int *tool_of_block;   /* content block index -> tool call index, -1 when not a tool */
    size_t nblocks, cap_blocks;
    int ntools;
    int started;          /* message_start seen */
    int ended;            /* message_delta seen: the finish reason is known */
    int include_usage;    /* the request asked for a usage chunk */
    const char *model;    /* the requested model, until message_start names one; borrowed */
    int64_t prompt_tokens, completion_tokens; /* -1 until known */
    int32_t err_class;    /* ANT_EV_ERROR: OC_PROV_ERR_* */
    char msg[ANT_ERR_MAX / 2]; /* ANT_EV_ERROR / ANT_EV_BAD: what happened */
} ant_stream_t;

/* One call: the oc_provider_call_t handed to the core. */
struct oc_provider_call_s {
    ant_state_t *st;
    oc_chat_callbacks_t cbs; /* size-aware copy */
    void *data;
    int stream;
    char *model;             /* owned */
    char *body;              /* the Anthropic request as sent (kept for retries), owned */
    size_t body_len;
    uint64_t deadline_ms;    /* host now_ms() when the whole call times out */
    uint32_t first_token_ms; /* 0 = none */
    unsigned attempt;        /* retries made so far */
    int include_usage;       /* stream_options.include_usage of the request */

    oc_http_call_t *http;    /* the attempt in flight, NULL when none */
    oc_timer_t *ftt_timer;   /* first-token timeout */
    oc_timer_t *retry_timer; /* backoff before the next attempt */
    oc_timer_t *drain_timer; /* bounds the wait for the body's end after message_stop */

    /* The response of the current attempt. */
    int http_status;
    int sse;                 /* 2xx and not JSON: the body is an event stream */
    sse_parser_t parser;
    ant_stream_t tr;
    char *ebuf;              /* collected non-SSE body (errors, JSON), owned */
    size_t elen, ecap;

    int64_t prompt_tokens, completion_tokens;
    unsigned chunks;         /* delivered through on_chunk */
    int finished;            /* on_done ran or cancel was called: no callback any more */
    int busy;                /* frames of ours holding this call: free when it drops to 0 */
    char err[ANT_ERR_MAX];
};
typedef struct oc_provider_call_s ant_call_t;

/* config.c: read and validate the section into st->cfg (errors reported
 * with cfg_error / the getters). OC_OK or OC_ECONFIG / OC_ENOMEM. Home
 * loop, from init. */
int32_t ant_config_read(ant_state_t *st, oc_config_t *cfg);
void ant_config_free(ant_config_t *cfg);

/* request.c: translates an OpenAI chat.completions request (in, len) into
 * an Anthropic Messages request for `model`: *out is malloc'd (the
 * caller's). *include_usage tells whether the client asked for a usage
 * chunk (stream_options.include_usage). OC_OK, OC_EINVAL (why in err:
 * which member, what is wrong) or OC_ENOMEM. */
int32_t ant_request_body(const ant_config_t *cfg, const char *in, size_t len, const char *model,
                         int stream, char **out, size_t *out_len, int *include_usage,
                         char *err, size_t errlen);
/* messages.c: the OpenAI messages array `msgs` (borrowed) as Anthropic
 * messages (*out, the caller's), system and developer texts appended to
 * *system (the caller's). OC_OK, OC_EINVAL (why in err) or OC_ENOMEM. */
int32_t ant_messages(json_object *msgs, json_object **out, ant_buf_t *system, char *err,
                     size_t errlen);
/* Headers for one attempt into hdrs (room for cfg->header_count + 4).
 * Returns the count. Borrowed from cfg. */
size_t ant_request_headers(const ant_config_t *cfg, int stream, oc_http_header_t *hdrs);

/* response.c: translates a non-streamed 2xx body (an Anthropic message)
 * into an OpenAI chat.completion (*out malloc'd, the caller's), with
 * `created` as its time and `model` when the body names none. Sets the
 * token counts (-1 when absent). Returns OC_PROV_ERR_NONE, or the class of
 * the failure with the problem in err: the body's own error class for an
 * {"type":"error"} body, else OC_PROV_ERR_SERVER (not a message). */
int32_t ant_response_translate(const char *body, size_t len, const char *model, int64_t created,
                               char **out, size_t *out_len, int64_t *prompt, int64_t *completion,
                               char *err, size_t errlen);
/* Token counts from an Anthropic usage object, each left alone when absent.
 * OpenAI's prompt_tokens count cached input too, Anthropic's input_tokens
 * do not: the cache counts are added. */
void ant_read_usage(json_object *usage, int64_t *prompt, int64_t *completion);
/* The OpenAI finish_reason of an Anthropic stop_reason (NULL: "stop"). */
const char *ant_finish_reason(const char *stop_reason);

/* stream.c: one translator per call (reset for each attempt). s->out (the
 * chunk, NUL-terminated, out.len bytes) and s->msg are owned by s and valid
 * until the next call on s. `model` of init is borrowed for s's life. */
#define ANT_EV_NONE 0  /* nothing to forward (ping, block stop, unknown event) */
#define ANT_EV_CHUNK 1 /* forward s->out */
#define ANT_EV_DONE 2  /* message_stop: forward s->out first when it is not empty */
#define ANT_EV_ERROR 3 /* an error event: s->err_class, s->msg */
#define ANT_EV_BAD 4   /* not an event we can read: s->msg */
void ant_stream_init(ant_stream_t *s, const char *model, int include_usage);
/* Forget the last attempt's stream (a retry); keeps small buffers. */
void ant_stream_reset(ant_stream_t *s);
void ant_stream_free(ant_stream_t *s);
/* One SSE event (its name and data, both borrowed for the call).
 * `created` is the chunks' time, taken at message_start. Returns
 * ANT_EV_*. */
int ant_stream_event(ant_stream_t *s, const char *event, const char *data, size_t len,
                     int64_t created);

/* classify.c */
/* OC_PROV_ERR_* of an HTTP status that is not 2xx. */
int32_t ant_class_of_status(int http_status);
/* OC_PROV_ERR_* of an Anthropic error.type (overloaded_error, ...). */
int32_t ant_class_of_error_type(const char *type);
/* The oc status code that goes with an error class. */
int32_t ant_status_of_class(int32_t error_class);
/* Retry-After in ms from the response headers: retry-after (seconds or an
 * HTTP-date), else the latest anthropic-ratelimit-<x>-reset (RFC 3339) of
 * a limit whose -remaining is 0; against now_s, the wall clock in seconds.
 * 0 when absent or unparsable; capped at a day. */
uint32_t ant_retry_after_ms(const oc_http_header_t *headers, size_t count, int64_t now_s);
/* Parses an HTTP-date (IMF-fixdate, RFC 850 or asctime). 0 and the Unix
 * time in *out, or -1. */
int ant_parse_http_date(const char *s, int64_t *out);
/* Parses an RFC 3339 date-time (2025-01-01T12:00:00Z, fraction and offset
 * allowed). 0 and the Unix time (whole seconds, rounded up) in *out, or -1. */
int ant_parse_rfc3339(const char *s, int64_t *out);
/* The upstream's error text from an error body ({"type":"error","error":
 * {"type","message"}} and a few common others) into msg, prefixed with
 * "<error.type>: " when there is one; "" when none. *type_class (may be
 * NULL) gets ant_class_of_error_type of error.type, 0 when it has none. */
void ant_error_message(const char *body, size_t len, char *msg, size_t msglen,
                       int32_t *type_class);
/* The same for an already parsed error object (the "error" member). */
void ant_error_of(json_object *err, char *msg, size_t msglen);
/* Replaces every occurrence of each secret (NULL-terminated list; entries
 * shorter than 4 characters are skipped) in s with "[redacted]", in place
 * within cap bytes. */
void ant_scrub(char *s, size_t cap, const char *const *secrets);

/* call.c: the provider ops. chat and cancel run on the calling loop. */
int32_t ant_chat(void *state, const oc_chat_request_t *req, const oc_chat_callbacks_t *cbs,
                 void *data, oc_provider_call_t **call);
void ant_cancel(void *state, oc_provider_call_t *call);

/* plugin.c: a call begins: 0, or -1 when the instance is stopping (the
 * call must not start). Any loop. */
int ant_call_begin(ant_state_t *st);
/* A call ended for good (its memory is gone): the stop sequence may finish.
 * The caller must not touch st afterwards. Any loop. */
void ant_call_ended(ant_state_t *st);

#endif
