/* openclaw/auth.h - auth plugins: decide whether an HTTP or WebSocket caller
 * may use the gateway. APPEND ONLY (see plugin.h). */
#ifndef OPENCLAW_AUTH_H
#define OPENCLAW_AUTH_H

#include <stdint.h>

#include "openclaw/host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the host knows about the caller. All borrowed for the call. */
typedef struct oc_auth_request_s {
    uint32_t struct_size;
    int32_t remote_is_loopback; /* 1 when the peer address is 127.0.0.0/8 or ::1 */
    const char *remote_addr;    /* textual peer address, no port */
    const char *method;         /* "GET", "POST", ...; "WS" for a WebSocket connect frame */
    const char *path;           /* request path without the query */
    const char *authorization;  /* raw Authorization header value, or NULL */
    const char *api_key;        /* X-API-Key header value, or NULL */
    const char *token;          /* WebSocket connect auth.token / auth.password, or NULL */
} oc_auth_request_t;

/* What the plugin answers, filled in place; the host zeroes it first. */
typedef struct oc_auth_result_s {
    uint32_t struct_size;      /* the host's size; fill only members that fit */
    uint32_t retry_after_s;    /* with OC_ELIMIT: seconds until the lockout ends */
    char principal[64];        /* with OC_OK: who it is ("apiKey", "bearerToken"); NUL-terminated */
    char reason[128];          /* with an error: short text for logs, never a secret */
} oc_auth_result_t;

/* authenticate returns:
 *   OC_OK       the caller is allowed;
 *   OC_DECLINED no credentials this plugin understands (the chain goes on);
 *   OC_EACCES   credentials were offered and are wrong (401 unless another allows);
 *   OC_ELIMIT   too many failures from this address (429 with Retry-After).
 * THREADS: runs on any HTTP worker loop, concurrently. It must be thread-safe
 * and must not block (no I/O). */
typedef struct oc_auth_ops_s {
    uint32_t struct_size;
    uint32_t kind; /* OC_KIND_AUTH */
    int32_t (*authenticate)(void *state, const oc_auth_request_t *req, oc_auth_result_t *res);
    /* Non-zero when at least one credential is configured, so the gateway may
     * listen beyond loopback. Called on the home loop after init. Required. */
    int32_t (*has_credentials)(void *state);
} oc_auth_ops_t;

#define OC_AUTH_OPS_INIT .struct_size = sizeof(oc_auth_ops_t), .kind = 4

#ifdef __cplusplus
}
#endif
#endif
