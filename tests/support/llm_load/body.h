/* tests/support/llm_load/body.h - oc-llm-load: an HTTP/1.1 response body
 * decoded as it arrives, whatever its framing (Content-Length, chunked, or
 * up to the close), so a stream is seen piece by piece and nothing of it
 * is kept. Pure: no I/O, no allocation. */
#ifndef LLM_LOAD_BODY_H
#define LLM_LOAD_BODY_H

#include <stddef.h>
#include <stdint.h>

enum { LB_LENGTH, LB_CHUNKED, LB_CLOSE };

typedef struct ll_body_s {
    int mode;
    int state;      /* chunked: where in the framing we are */
    int done;       /* the whole body has been seen */
    uint64_t left;  /* LB_LENGTH: bytes to come; chunked: of the current chunk */
    size_t line;    /* chunked: bytes of the size or trailer line so far */
    int digits;     /* chunked: hex digits of the size line so far */
} ll_body_t;

/* Payload bytes, in order, as they are decoded; p is borrowed for the call. */
typedef void (*ll_body_out)(void *arg, const char *p, size_t n);

/* Starts a body of the given mode; length is the Content-Length for
 * LB_LENGTH (done at once when 0). */
void ll_body_init(ll_body_t *b, int mode, uint64_t length);
/* Feeds n raw bytes. Returns the bytes consumed (fewer than n only once the
 * body is done: the rest is not part of it), or -1 when the framing is
 * malformed (bad chunk size, missing CRLF, an over-long line). */
long ll_body_feed(ll_body_t *b, const char *p, size_t n, ll_body_out out, void *arg);

#endif
