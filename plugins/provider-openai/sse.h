/* sse.h - an incremental parser for text/event-stream (the WHATWG "server-
 * sent events" format), fed with the body in arbitrary pieces.
 *
 * Lines end in CRLF, LF or CR (a CRLF split across two feeds counts once).
 * "data" lines of one event are joined with "\n"; a blank line dispatches
 * the event when it has data; ":" lines are comments; "event" names the
 * event; "id", "retry" and unknown fields are ignored; a leading UTF-8 BOM
 * is skipped. At the end of the body sse_finish dispatches an event whose
 * last line was complete but whose blank line never came (lenient: some
 * servers end with "data: [DONE]" without the blank line, or without any
 * line end).
 *
 * An event's data is copied into a buffer (so it can be NUL-terminated);
 * only a line cut by the end of a feed is carried over in a second one.
 * Buffers are kept for the next event, and released after an event that
 * made them grow past SSE_KEEP_BYTES, so a long stream costs a few hundred
 * bytes. No dependencies: loop- and thread-agnostic (one parser per
 * stream). */
#ifndef SSE_H
#define SSE_H

#include <stddef.h>

#define SSE_EVENT_MAX ((size_t)8 * 1024 * 1024) /* bytes per line or event */
#define SSE_KEEP_BYTES 4096                     /* buffer kept between events */

#define SSE_OK 0
#define SSE_ETOOBIG (-1) /* a line or event exceeds SSE_EVENT_MAX */
#define SSE_ENOMEM (-2)

/* An event: `event` is its name ("message" when none was given), `data`
 * its data, NUL-terminated (len excludes the NUL); both borrowed for the
 * call. Return 0 to go on, anything else to stop: sse_feed then returns that
 * value at once and never touches the parser again in that call (so the
 * callback may free it). */
typedef int (*sse_event_cb)(void *data, const char *event, const char *payload, size_t len);

typedef struct sse_parser_s {
    char *line;          /* an incomplete line carried over from the last feed */
    size_t line_len, line_cap;
    char *data;          /* data lines of the current event, joined with '\n' */
    size_t data_len, data_cap;
    char event[64];      /* event name (longer names are truncated) */
    int has_data;        /* a data line was seen (data may still be "") */
    int skip_lf;         /* the last feed ended in CR: drop a leading LF */
    int started;         /* the BOM check is done */
} sse_parser_t;

void sse_init(sse_parser_t *p);
/* Parse len bytes; events are dispatched through cb as soon as their blank
 * line is read. Returns SSE_OK, SSE_ETOOBIG, SSE_ENOMEM or cb's non-zero
 * return value. */
int sse_feed(sse_parser_t *p, const char *buf, size_t len, sse_event_cb cb, void *data);
/* End of the body: parse a last unterminated line and dispatch the pending
 * event, if any (see above). */
int sse_finish(sse_parser_t *p, sse_event_cb cb, void *data);
/* Forget everything (a new stream); keeps small buffers. */
void sse_reset(sse_parser_t *p);
void sse_free(sse_parser_t *p);

#endif
