/* oai.h - provider-openai: types shared by the plugin's files. Not part of
 * the SDK.
 *
 * Threads (the descriptor has OC_PLUGIN_F_MULTI_LOOP):
 *  - oai_state_t is written by init only (and stop/destroy on the home
 *    loop); while calls may run it is read-only, except the atomics.
 *  - oai_call_t (the oc_provider_call_t handle) belongs to the loop that
 *    called chat: its HTTP call and timers live on that loop and every
 *    callback for it runs there. Nothing in it is shared. */
#ifndef OAI_H
#define OAI_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <openclaw/plugin.h>
#include <pthread.h>

#include "sse.h"

#define OAI_NAME "provider-openai"
#define OAI_VERSION "1.0.0"
#define OAI_DEFAULT_BASE_URL "https://api.openai.com/v1"
#define OAI_DEFAULT_TIMEOUT_MS 60000
#define OAI_MAX_TIMEOUT_MS 3600000   /* one hour: a reasoning model can be slow */
#define OAI_MAX_RETRIES 10
#define OAI_CONNECT_TIMEOUT_MS 10000 /* capped by the call's own budget */
#define OAI_ERROR_BODY_MAX 65536     /* bytes of an error body kept for its message */
#define OAI_DRAIN_MS 1000            /* after [DONE]: wait this long for the body's end */
#define OAI_ERR_MAX 512              /* result.error text */
#define OAI_JSON_DEPTH 128           /* nesting allowed in bodies (tool schemas nest deep) */

/* Configuration: every string is an owned copy (config nodes are only
 * valid until a reload, and a replaced instance may still be draining
 * calls). Immutable after init. */
typedef struct oai_config_s {
    char *base_url;       /* without a trailing '/' */
    char *url;            /* base_url + "/chat/completions" */
    char *model;          /* default model; NULL when not set */
    char **models;        /* NULL-terminated; what the models op returns */
    char *authorization;  /* "Bearer <apiKey>", NULL when no key (wiped on destroy) */
    const char *api_key;  /* points into authorization (after "Bearer "); for scrubbing */
    oc_http_header_t *headers; /* extra headers, owned name/value copies */
    size_t header_count;
    const char **secrets; /* NULL-terminated: the key and secret-looking header values,
                             scrubbed from error texts (borrowed from the above) */
    int has_content_type; /* headers override our own of the same name */
    int has_accept;
    uint32_t timeout_ms;
    uint32_t max_retries;
} oai_config_t;

typedef struct oai_state_s {
    const oc_host_api_t *host;
    oc_plugin_t *self;
    oai_config_t cfg;
    pthread_t home;        /* the thread of init: the home loop */
    /* (live calls << 1) | stopping. Live calls include ones draining after
     * on_done. One word, so that exactly one party sees "stopping and no
     * call left" and calls stop's done (see plugin.c). */
    atomic_uint gate;
    oc_stop_done_cb stop_done;
    void *stop_data;
} oai_state_t;

/* One call: the oc_provider_call_t handed to the core. */
struct oc_provider_call_s {
    oai_state_t *st;
    oc_chat_callbacks_t cbs; /* size-aware copy */
    void *data;
    int stream;
    char *model;             /* owned */
    char *body;              /* request body as sent (kept for retries), owned */
    size_t body_len;
    uint64_t deadline_ms;    /* host now_ms() when the whole call times out */
    uint32_t first_token_ms; /* 0 = none */
    unsigned attempt;        /* retries made so far */

    oc_http_call_t *http;    /* the attempt in flight, NULL when none */
    oc_timer_t *ftt_timer;   /* first-token timeout */
    oc_timer_t *retry_timer; /* backoff before the next attempt */
    oc_timer_t *drain_timer; /* bounds the wait for the body's end after [DONE] */

    /* The response of the current attempt. */
    int http_status;
    int sse;                 /* 2xx and not JSON: the body is an event stream */
    sse_parser_t parser;
    char *ebuf;              /* collected non-SSE body (errors, JSON), owned */
    size_t elen, ecap;

    int64_t prompt_tokens, completion_tokens;
    unsigned chunks;         /* delivered through on_chunk */
    int finished;            /* on_done ran or cancel was called: no callback any more */
    int busy;                /* frames of ours holding this call: free when it drops to 0 */
    char err[OAI_ERR_MAX];
};
typedef struct oc_provider_call_s oai_call_t;

/* config.c: read and validate the section into st->cfg (errors reported
 * with cfg_error / the getters). OC_OK or OC_ECONFIG / OC_ENOMEM. */
int32_t oai_config_read(oai_state_t *st, oc_config_t *cfg);
void oai_config_free(oai_config_t *cfg);

/* request.c: the request body: `in` with "model" and "stream" set (and
 * "stream_options" dropped when not streaming). *out is malloc'd. OC_OK,
 * OC_EINVAL (not a JSON object; why in err) or OC_ENOMEM. */
int32_t oai_request_body(const char *in, size_t len, const char *model, int stream, char **out,
                         size_t *out_len, char *err, size_t errlen);
/* Headers for one attempt into hdrs (room for cfg->header_count + 3).
 * Returns the count. Borrowed from cfg. */
size_t oai_request_headers(const oai_config_t *cfg, int stream, oc_http_header_t *hdrs);

/* response.c: checks a non-streamed 2xx body: a JSON object whose
 * choices[0].message is an object. Sets the token counts (-1 when absent).
 * Returns 0, or -1 with the problem in err. */
int oai_response_check(const char *body, size_t len, int64_t *prompt, int64_t *completion,
                       char *err, size_t errlen);
/* Looks at one stream chunk. Only chunks that mention "usage" or "error"
 * are parsed (the rest are only checked to look like an object), so the
 * common delta costs a scan, not a parse. Returns OAI_CHUNK_* flags: USAGE
 * (the token counts were set from it), ERROR (msg has the upstream's text),
 * or OAI_CHUNK_BAD when it is not a JSON object. */
#define OAI_CHUNK_USAGE 0x1
#define OAI_CHUNK_ERROR 0x2
#define OAI_CHUNK_BAD 0x4
int oai_chunk_inspect(const char *json, size_t len, int64_t *prompt, int64_t *completion,
                      char *msg, size_t msglen);

/* classify.c */
/* OC_PROV_ERR_* of an HTTP status that is not 2xx. */
int32_t oai_class_of_status(int http_status);
/* The oc status code that goes with an error class. */
int32_t oai_status_of_class(int32_t error_class);
/* Retry-After in ms from the response headers (retry-after-ms, then
 * Retry-After as seconds or an HTTP-date against now_s, the wall clock in
 * seconds); 0 when absent or unparsable. */
uint32_t oai_retry_after_ms(const oc_http_header_t *headers, size_t count, int64_t now_s);
/* Parses an HTTP-date (IMF-fixdate, RFC 850 or asctime). Returns 0 and the
 * Unix time in *out, or -1. */
int oai_parse_http_date(const char *s, int64_t *out);
/* The upstream's own error text from an error body (OpenAI's
 * {"error":{"message"}} shape and a few common others) into msg; "" when
 * none. */
void oai_error_message(const char *body, size_t len, char *msg, size_t msglen);
/* Replaces every occurrence of each secret (NULL-terminated list; entries
 * shorter than 4 characters are skipped) in s with "[redacted]", in place
 * within cap bytes. */
void oai_scrub(char *s, size_t cap, const char *const *secrets);

/* call.c */
int32_t oai_chat(void *state, const oc_chat_request_t *req, const oc_chat_callbacks_t *cbs,
                 void *data, oc_provider_call_t **call);
void oai_cancel(void *state, oc_provider_call_t *call);

/* plugin.c: a call begins: 0, or -1 when the instance is stopping (the
 * call must not start). */
int oai_call_begin(oai_state_t *st);
/* A call ended for good (its memory is gone): the stop sequence may finish.
 * The caller must not touch st afterwards. */
void oai_call_ended(oai_state_t *st);

#endif
