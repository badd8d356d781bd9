/* tests/support/llm_load/sse.h - oc-llm-load: Server-Sent Events of an
 * OpenAI chat completion stream, scanned as the bytes arrive.
 *
 * Lines end with LF or CRLF; an event ends at an empty line and counts
 * only when it had a data line (comments ":..." and other fields are
 * skipped, as the SSE rules say). Each event is classified by its data:
 *   LL_EV_DONE     "data: [DONE]"
 *   LL_EV_ERROR    a JSON object whose first key is "error"
 *   LL_EV_CONTENT  a chunk carrying a non-empty "content" string (a token)
 *   LL_EV_OTHER    any other chunk (the role-only first chunk, the final
 *                  one with finish_reason, usage)
 * No JSON parsing: a byte scan keeps the client cheap at 10k streams.
 * Not thread-safe; one owner. */
#ifndef LLM_LOAD_SSE_H
#define LLM_LOAD_SSE_H

#include <stddef.h>

#include "util/buf.h"

enum { LL_EV_OTHER, LL_EV_CONTENT, LL_EV_DONE, LL_EV_ERROR };

#define LL_SSE_MAX_LINE (1u << 20) /* a longer line is malformed */

typedef void (*ll_sse_event)(void *arg, int kind);

typedef struct ll_sse_s {
    gw_buf_t part;  /* owned: the start of a line split across pieces */
    int skip_lf;    /* the last piece ended in CR: a leading LF belongs to it */
    int has_data;   /* the event being read had a data line */
    int kind;       /* its class so far (the strongest of its data lines) */
} ll_sse_t;

void ll_sse_init(ll_sse_t *s);
/* Scans n bytes; calls ev once per completed event. 0, or -1 when a line
 * is longer than LL_SSE_MAX_LINE or memory ran out. */
int ll_sse_feed(ll_sse_t *s, const char *p, size_t n, ll_sse_event ev, void *arg);
/* Forgets any partial line and event (a new stream on the connection). */
void ll_sse_reset(ll_sse_t *s);
void ll_sse_free(ll_sse_t *s);

/* The class of one data value (after "data:" and its optional space). */
int ll_sse_classify(const char *v, size_t n);

#endif
