/* llm/sse.h - Server-Sent Events framing for the API's streams
 * (text/event-stream): "data: <payload>\n\n", named events, the
 * "data: [DONE]\n\n" terminator and ": keep-alive\n\n" comments.
 *
 * A payload may hold line breaks (an upstream's pretty-printed JSON arrives
 * joined with '\n'): each line becomes its own "data:" line, which SSE
 * readers join back with '\n', so the framing never breaks the stream.
 * Builders append to b and return 0 or -ENOMEM. Thread-safe. */
#ifndef GW_LLM_SSE_H
#define GW_LLM_SSE_H

#include <stddef.h>

#include "util/buf.h"

#define GW_SSE_DONE "data: [DONE]\n\n"
#define GW_SSE_KEEPALIVE ": keep-alive\n\n"

/* "data: " payload "\n\n" (one data line per payload line). */
int gw_sse_data(gw_buf_t *b, const char *payload, size_t len);
/* "event: " type "\n" then the data lines and "\n\n". type must be one line
 * (it is a constant of ours). */
int gw_sse_event(gw_buf_t *b, const char *type, const char *payload, size_t len);

#endif
