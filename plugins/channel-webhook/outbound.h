/* outbound.h - the reply POSTed to callbackUrl, and what its answer means.
 * Pure functions (json-c only); the call itself is wh_send (webhook.h). */
#ifndef WH_OUTBOUND_H
#define WH_OUTBOUND_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openclaw/channel.h>

#define WH_IDEMPOTENCY_HEADER "X-OpenClaw-Idempotency-Key"

/* The body for msg, exactly
 *   {"to":{"type":"direct"|"group","id":peer_id},"text":...,
 *    "inReplyTo":...,"idempotencyKey":...}
 * (inReplyTo only when set), as malloc'd text the caller frees, its length in
 * *len. NULL on out of memory or a peer_kind that is neither. */
char *wh_outbound_body(const oc_outbound_t *msg, size_t *len);

/* A Retry-After value (delta-seconds, or an HTTP-date compared with now) in
 * milliseconds; 0 when absent, past or unreadable. */
uint32_t wh_retry_after_ms(const char *value, time_t now);

/* Maps a finished call to the send result: 2xx delivered; no answer
 * (connect error, timeout), 408, 429 and 5xx retryable (with Retry-After);
 * any other status final. out->error points into err (errlen bytes) and
 * into nothing else; now is for HTTP-date Retry-After values. */
void wh_outbound_result(const oc_http_response_t *res, time_t now, oc_send_result_t *out,
                        char *err, size_t errlen);

#endif
