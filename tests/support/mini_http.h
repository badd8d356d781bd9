/* tests/support/mini_http.h - just enough HTTP/1.1 head parsing for the
 * benchmark tools (webhook-sink, webhook-load): one request or response head
 * at the start of a buffer, the few headers they act on, bodies framed by
 * Content-Length only. Pure functions; nothing is copied (pointers go into
 * the caller's buffer). */
#ifndef MINI_HTTP_H
#define MINI_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define MH_MAX_HEAD 16384 /* a longer head is malformed: these peers send tiny ones */

typedef struct mh_head_s {
    size_t head_len;        /* bytes up to and including the blank line */
    int64_t content_length; /* -1 when absent */
    int status;             /* responses: the status code */
    int close;              /* Connection: close (or HTTP/1.0 without keep-alive) */
    int chunked;            /* Transfer-Encoding present: not supported by the tools */
    int expect_continue;    /* Expect: 100-continue */
    const char *method;     /* requests: not NUL-terminated */
    size_t method_len;
    const char *signature;  /* X-OpenClaw-Signature value, or NULL */
    size_t signature_len;
} mh_head_t;

/* 1: a whole head was parsed into *h; 0: more bytes needed; -1: malformed. */
int mh_parse_request(const char *buf, size_t len, mh_head_t *h);
int mh_parse_response(const char *buf, size_t len, mh_head_t *h);
/* A decimal command-line number: 0, or -1 when v is not one (sign, junk,
 * overflow). Shared by the load generator and the sink. */
int mh_parse_u64(const char *v, uint64_t *out);

#endif
