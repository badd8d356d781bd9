/* sse.h - provider-anthropic: an incremental text/event-stream parser, fed
 * with the body in arbitrary pieces (a read may end anywhere, inside a
 * line, a field name, a UTF-8 sequence or a CRLF).
 *
 * Lines end in CRLF, LF or CR. "data" lines of one event are joined with
 * "\n"; a blank line dispatches the event when it has data; ":" lines are
 * comments; "event" names the event; other fields are ignored; a leading
 * UTF-8 BOM is skipped. sse_finish dispatches an event whose blank line
 * never came.
 *
 * Every byte of a line is copied into one buffer (simple, and lines are
 * small); buffers are kept between events unless an event made them grow
 * past SSE_KEEP_BYTES. No dependencies: loop- and thread-agnostic (one
 * parser per stream). */
#ifndef ANT_SSE_H
#define ANT_SSE_H

#include <stddef.h>

#define SSE_EVENT_MAX ((size_t)8 * 1024 * 1024) /* bytes per line or event */
#define SSE_KEEP_BYTES 4096                     /* buffer kept between events */

#define SSE_OK 0
#define SSE_ETOOBIG (-1) /* a line or event exceeds SSE_EVENT_MAX */
#define SSE_ENOMEM (-2)

/* An event: `event` its name ("message" when none was given), `payload`
 * its data, NUL-terminated (len excludes the NUL); both borrowed for the
 * call. Return 0 to go on, anything else to stop: sse_feed then returns
 * that value at once and never touches the parser again in that call (so
 * the callback may free or reset it). */
typedef int (*sse_event_cb)(void *data, const char *event, const char *payload, size_t len);

typedef struct sse_parser_s {
    char *line;       /* the line being read, owned */
    size_t line_len, line_cap;
    char *data;       /* data lines of the current event, joined with '\n'; owned */
    size_t data_len, data_cap;
    char event[64];   /* event name (longer names are truncated) */
    int has_data;     /* a data line was seen (data may still be "") */
    int after_cr;     /* the last byte was a CR: a LF right after it ends nothing */
    int started;      /* the BOM check is done */
} sse_parser_t;

void sse_init(sse_parser_t *p);
/* Parse len bytes; each event is dispatched through cb as soon as its
 * blank line is read. Returns SSE_OK, SSE_ETOOBIG, SSE_ENOMEM or cb's
 * non-zero return. */
int sse_feed(sse_parser_t *p, const char *buf, size_t len, sse_event_cb cb, void *data);
/* End of the body: a last line without its line end is parsed, and the
 * pending event, if any, dispatched. */
int sse_finish(sse_parser_t *p, sse_event_cb cb, void *data);
/* Forget everything (a new stream); keeps small buffers. */
void sse_reset(sse_parser_t *p);
void sse_free(sse_parser_t *p);

#endif
