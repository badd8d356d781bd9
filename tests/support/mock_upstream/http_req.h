/* mock_upstream/http_req.h - HTTP/1.1 request framing for oc-mock-upstream:
 * the request line, the header fields, Content-Length and chunked bodies.
 *
 * Unlike tests/support/mini_http (Content-Length only, a fixed set of
 * fields), the mock must route on the path, read any header (knobs, API
 * keys) and accept chunked uploads. Pure functions over the caller's buffer;
 * nothing is copied (the slices point into it). Thread-safe (no state). */
#ifndef MOCK_HTTP_REQ_H
#define MOCK_HTTP_REQ_H

#include <stddef.h>
#include <stdint.h>

#define HR_MAX_HEAD 32768    /* a longer head gets 431 */
#define HR_MAX_HEADERS 64    /* more fields get 431 */

typedef struct hr_field_s {
    const char *name, *value; /* not NUL-terminated; value trimmed */
    size_t name_len, value_len;
} hr_field_t;

typedef struct hr_req_s {
    size_t head_len;          /* bytes up to and including the blank line */
    const char *method;       /* not NUL-terminated */
    size_t method_len;
    const char *path;         /* the target without its query string */
    size_t path_len;
    int http10;               /* HTTP/1.0 request */
    int close;                /* the connection ends after this answer */
    int chunked;              /* Transfer-Encoding: chunked */
    int expect_continue;      /* Expect: 100-continue */
    int64_t content_length;   /* -1 when absent */
    size_t nfields;
    hr_field_t fields[HR_MAX_HEADERS];
} hr_req_t;

/* Parses the head at buf. 1: complete, *r filled; 0: more bytes needed;
 * otherwise the HTTP status to answer before closing (400, 431, 501) with
 * *why set to a static reason. */
int hr_parse_head(const char *buf, size_t len, hr_req_t *r, const char **why);

/* The value of header `name` (lower-case), or NULL. */
const hr_field_t *hr_field(const hr_req_t *r, const char *name);

/* Incremental scan of a chunked body. The caller keeps *st zeroed for a new
 * body and passes the bytes after the head each time more arrive; work done
 * on earlier calls is not repeated. 1: the body is complete (st->raw_len
 * bytes, trailers included; st->body_len decoded bytes); 0: more needed;
 * else 400 (malformed) or 413 (decoded body over max_body, or the encoding
 * over twice that) with *why set. */
typedef struct hr_chunked_s {
    size_t off;      /* next unread chunk-size line, from the body start */
    size_t body_len; /* decoded bytes so far */
    int in_trailers; /* the last chunk was seen */
    size_t raw_len;
} hr_chunked_t;

int hr_chunked_scan(hr_chunked_t *st, const char *p, size_t n, size_t max_body,
                    const char **why);
/* Appends the decoded data of a complete chunked body (raw_len bytes at p,
 * already validated by hr_chunked_scan) to dst, which has room for
 * st->body_len bytes. */
void hr_chunked_decode(const char *p, size_t raw_len, char *dst);

#endif
