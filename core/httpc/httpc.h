/* httpc/httpc.h - the asynchronous HTTP client: one libcurl multi handle per
 * libuv loop (what the host's http_request/http_cancel run on).
 *
 * Threads: gw_httpc_global_init/cleanup once per process, before any other
 * thread exists / after they are gone. Everything else is loop-bound: a
 * client and its calls are used only on the thread running its loop.
 *
 * Behaviour:
 *  - connections are kept alive and reused across calls on the same client
 *    (at most 64 per host); h2 is negotiated over TLS (ALPN, with PIPEWAIT so
 *    concurrent calls share one connection), never by prior knowledge; plain
 *    http:// is HTTP/1.1. Redirects are not followed.
 *  - timeouts: req->timeout_ms for the whole call (0 = 60000),
 *    req->connect_timeout_ms (0 = 10000).
 *  - response header names are lower-cased; only the final response's
 *    headers are kept (not 1xx ones).
 *  - without OC_HTTP_F_STREAM the body is collected (NUL-terminated) up to the
 *    client's body limit (default GW_HTTPC_BODY_LIMIT); beyond it the call
 *    fails with OC_EIO and "response body exceeds the N-byte limit".
 *  - with OC_HTTP_F_STREAM, on_data(data, head, chunk, len) is called once
 *    with len 0 (chunk "") as soon as the final response head is in (head
 *    carries http_status and headers), then once per body piece as it
 *    arrives; head stays valid for each call. Returning OC_ECANCELED aborts
 *    the call: on_done still follows, with status OC_ECANCELED.
 *  - on_done's response: status OC_OK when the whole response arrived (any
 *    HTTP code); otherwise OC_ETIMEDOUT, OC_EIO (refused, DNS, reset, TLS,
 *    truncated), OC_ECANCELED or OC_ENOMEM, with curl's text in `error`, and
 *    http_status/headers/body as far as they arrived.
 *  - callbacks always run from the loop, never from inside
 *    gw_httpc_request. on_done may free the caller's state, start new
 *    requests, cancel other calls or close the client.
 *
 * Ownership: everything a request points to is copied before
 * gw_httpc_request returns. A call is freed by the client after on_done
 * returns, or by gw_httpc_cancel. The response and its strings are borrowed
 * for the callback only. */
#ifndef GW_HTTPC_HTTPC_H
#define GW_HTTPC_HTTPC_H

#include <stddef.h>
#include <uv.h>

#include "openclaw/host.h"

#define GW_HTTPC_BODY_LIMIT ((size_t)64 * 1024 * 1024)
/* Connections to one upstream host per loop. LLM calls last seconds and
 * streams minutes: thousands run at once, each on its own HTTP/1.1
 * connection (HTTP/2 upstreams multiplex). A small cap queued every call
 * behind the first 64 (TTFT of seconds in the S4 benchmark); the real
 * bound is the process's open-file limit. */
#define GW_HTTPC_MAX_HOST_CONNECTIONS 16384
#define GW_HTTPC_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

/* curl_global_init, once per process; call before starting threads.
 * Idempotent (and usable again after gw_httpc_global_cleanup). Returns 0 or
 * -EIO. */
int gw_httpc_global_init(void);
/* curl_global_cleanup, after every client is closed and threads are gone. */
void gw_httpc_global_cleanup(void);

typedef struct gw_httpc_s gw_httpc_t;

/* A client on `loop` (calls gw_httpc_global_init if nobody did). Returns NULL
 * when out of memory or curl refuses. Loop thread only. */
gw_httpc_t *gw_httpc_new(uv_loop_t *loop);

/* Largest collected (non-streamed) body; 0 = GW_HTTPC_BODY_LIMIT. Applies
 * to calls started afterwards. Loop thread only. */
void gw_httpc_set_body_limit(gw_httpc_t *c, size_t bytes);

/* Start a call. req and cbs are read size-aware (their struct_size; fields
 * beyond it count as zero) and copied. cbs may be NULL (fire and forget);
 * OC_HTTP_F_STREAM needs on_data. Returns the call, or NULL with a reason in
 * err (when err != NULL) for a bad request: missing URL or struct_size, a
 * scheme other than http/https, a header name or value that would break the
 * request (CR, LF, ':' in a name), a client that is closing. No callback
 * runs before this returns. Loop thread only. */
oc_http_call_t *gw_httpc_request(gw_httpc_t *c, const oc_http_request_t *req,
                                 const oc_http_callbacks_t *cbs, void *data, char *err,
                                 size_t errlen);

/* Cancel a call that has not completed: no callback runs afterwards and the
 * call is freed (possibly after the current curl callback returns). Safe
 * from within on_data (of this or another call) and from on_done of another
 * call; never after this call's on_done started. Loop thread only. */
void gw_httpc_cancel(oc_http_call_t *call);

/* Cancel every call (as gw_httpc_cancel: no on_done), close the connections
 * and uv handles, free the client, then call done(data) (may be NULL) from the
 * loop once the last handle's close callback ran. The loop must keep running
 * until then. Safe from within callbacks. A second call is ignored. Loop
 * thread only. */
void gw_httpc_close(gw_httpc_t *c, void (*done)(void *data), void *data);

/* Calls in flight (started and not yet completed or canceled). For tests
 * and the status page. Loop thread only. */
size_t gw_httpc_active(const gw_httpc_t *c);

#endif
