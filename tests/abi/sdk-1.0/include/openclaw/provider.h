/* openclaw/provider.h - provider plugins: run a model call (OpenAI,
 * Anthropic, any OpenAI-compatible server, the mock). APPEND ONLY (see
 * plugin.h).
 *
 * Requests and responses cross the ABI as OpenAI Chat Completions JSON text,
 * the lingua franca of LLM gateways: a provider that speaks another dialect
 * (Anthropic) translates both ways. No JSON library type crosses the ABI. */
#ifndef OPENCLAW_PROVIDER_H
#define OPENCLAW_PROVIDER_H

#include <stdint.h>

#include "openclaw/host.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oc_provider_call_s oc_provider_call_t; /* plugin-owned, opaque to the host */

/* Error classes for failover (0 is never valid). */
#define OC_PROV_ERR_NONE 1       /* success */
#define OC_PROV_ERR_REQUEST 2    /* 400-class request error: never fail over */
#define OC_PROV_ERR_AUTH 3       /* 401/403: fail over, cool the key down */
#define OC_PROV_ERR_RATE 4       /* 429: fail over, honour retry_after_ms */
#define OC_PROV_ERR_SERVER 5     /* 5xx: fail over */
#define OC_PROV_ERR_NETWORK 6    /* connect error, reset: fail over */
#define OC_PROV_ERR_TIMEOUT 7    /* connect, first token or total timeout: fail over */
#define OC_PROV_ERR_CANCELED 8   /* the caller canceled */

/* One call. Borrowed for the call to chat; the plugin copies what it keeps. */
typedef struct oc_chat_request_s {
    uint32_t struct_size;
    int32_t stream;           /* 1: deliver chunks through on_chunk */
    const char *provider;     /* the configured provider name ("openai") */
    const char *model;        /* upstream model id, without the provider prefix */
    const char *body_json;    /* OpenAI chat.completions request JSON; its "model" and
                                 "stream" members are ignored in favour of the above */
    size_t body_len;
    uint32_t timeout_ms;          /* whole call; 0 = provider's timeoutMs */
    uint32_t first_token_timeout_ms; /* streaming: until the first chunk; 0 = none */
} oc_chat_request_t;

typedef struct oc_chat_result_s {
    uint32_t struct_size;
    int32_t status;          /* OC_OK or an error code */
    int32_t error_class;     /* OC_PROV_ERR_* */
    int32_t http_status;     /* upstream status, 0 when none */
    uint32_t retry_after_ms; /* from Retry-After, 0 when none */
    uint32_t reserved0;
    const char *error;       /* human text, never a secret; NULL on success */
    const char *body_json;   /* non-streaming: OpenAI chat.completion JSON */
    size_t body_len;
    int64_t prompt_tokens;     /* -1 when unknown */
    int64_t completion_tokens; /* -1 when unknown */
} oc_chat_result_t;

/* on_chunk: one OpenAI chat.completion.chunk JSON object (no "data: "
 * framing), forwarded as soon as it is parsed; borrowed. Return OC_OK, or
 * OC_ECANCELED to stop the call (on_done then reports OC_ECANCELED).
 * on_done: exactly once per call that chat accepted, unless cancel ran first.
 * Both run on the loop that called chat. */
typedef struct oc_chat_callbacks_s {
    uint32_t struct_size;
    uint32_t reserved0;
    int32_t (*on_chunk)(void *data, const char *chunk_json, size_t len);
    void (*on_done)(void *data, const oc_chat_result_t *res);
} oc_chat_callbacks_t;

/* THREADS: on the home loop, or on any worker loop concurrently when the
 * descriptor has OC_PLUGIN_F_MULTI_LOOP (then keep per-call state per call
 * and shared state thread-safe). */
typedef struct oc_provider_ops_s {
    uint32_t struct_size;
    uint32_t kind; /* OC_KIND_PROVIDER */
    /* Start a call. Returns OC_PENDING and sets *call (for cancel), or an
     * error now (callbacks not called). Required. */
    int32_t (*chat)(void *state, const oc_chat_request_t *req, const oc_chat_callbacks_t *cbs,
                    void *data, oc_provider_call_t **call);
    /* Abort a call in flight; no callback runs afterwards. Required. */
    void (*cancel)(void *state, oc_provider_call_t *call);
    /* Models this provider serves (for /v1/models), NULL-terminated, owned by
     * the plugin, valid until reload/destroy. Optional. */
    const char *const *(*models)(void *state);
} oc_provider_ops_t;

#define OC_PROVIDER_OPS_INIT .struct_size = sizeof(oc_provider_ops_t), .kind = 2

#ifdef __cplusplus
}
#endif
#endif
