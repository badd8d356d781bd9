/* mock_upstream/http_req.c - see http_req.h. Strict where ambiguity could
 * desynchronise a pipelined connection (framing headers, line endings),
 * lenient elsewhere. */
#include "http_req.h"

#include <string.h>
#include <strings.h>

#define MAX_SIZE_LINE 1024 /* a chunk-size line, extensions included */

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int name_is(const char *p, size_t n, const char *want)
{
    return n == strlen(want) && strncasecmp(p, want, n) == 0;
}

/* Case-insensitive search of a comma-separated token list. */
static int has_token(const char *v, size_t n, const char *token)
{
    size_t t = strlen(token);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == t && strncasecmp(v + s, token, t) == 0)
            return 1;
    }
    return 0;
}

static int parse_decimal(const char *v, size_t n, int64_t *out)
{
    int64_t x = 0;
    if (n == 0 || n > 15)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return 0;
}

/* The request line "METHOD SP target SP HTTP/1.x". 0 or -1. */
static int parse_request_line(const char *p, const char *eol, hr_req_t *r)
{
    const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
    if (sp1 == NULL || sp1 == p)
        return -1;
    for (const char *q = p; q < sp1; q++)
        if (!is_tchar((unsigned char)*q))
            return -1;
    const char *target = sp1 + 1;
    const char *sp2 = memchr(target, ' ', (size_t)(eol - target));
    if (sp2 == NULL || sp2 == target || *target != '/' || eol - sp2 != 9)
        return -1;
    for (const char *q = target; q < sp2; q++)
        if ((unsigned char)*q <= 0x20 || (unsigned char)*q == 0x7f)
            return -1;
    if (memcmp(sp2 + 1, "HTTP/1.1", 8) == 0)
        r->http10 = 0;
    else if (memcmp(sp2 + 1, "HTTP/1.0", 8) == 0)
        r->http10 = 1;
    else
        return -1;
    r->method = p;
    r->method_len = (size_t)(sp1 - p);
    const char *q = memchr(target, '?', (size_t)(sp2 - target));
    r->path = target;
    r->path_len = (size_t)((q != NULL ? q : sp2) - target);
    return 0;
}

/* One "name: value" line into r. 0, or the status to answer. */
static int parse_field(const char *p, const char *eol, hr_req_t *r, int *keep_alive,
                       const char **why)
{
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    if (*p == ' ' || *p == '\t') {
        *why = "folded header lines (obs-fold) are not accepted";
        return 400;
    }
    if (colon == NULL || colon == p) {
        *why = "a header line has no name or no colon";
        return 400;
    }
    for (const char *q = p; q < colon; q++) {
        if (!is_tchar((unsigned char)*q)) {
            *why = "a header name has an invalid character (space before the colon?)";
            return 400;
        }
    }
    if (r->nfields == HR_MAX_HEADERS) {
        *why = "more than 64 header fields";
        return 431;
    }
    const char *v = colon + 1, *ve = eol;
    while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    hr_field_t *f = &r->fields[r->nfields++];
    f->name = p;
    f->name_len = (size_t)(colon - p);
    f->value = v;
    f->value_len = (size_t)(ve - v);

    if (name_is(f->name, f->name_len, "content-length")) {
        int64_t n;
        if (parse_decimal(v, f->value_len, &n) != 0) {
            *why = "Content-Length is not a decimal number";
            return 400;
        }
        if (r->content_length >= 0 && r->content_length != n) {
            *why = "two different Content-Length headers";
            return 400;
        }
        r->content_length = n;
    } else if (name_is(f->name, f->name_len, "transfer-encoding")) {
        if (!name_is(v, f->value_len, "chunked")) {
            *why = "only Transfer-Encoding: chunked is supported";
            return 501;
        }
        r->chunked = 1;
    } else if (name_is(f->name, f->name_len, "connection")) {
        if (has_token(v, f->value_len, "close"))
            *keep_alive = 0;
        else if (has_token(v, f->value_len, "keep-alive"))
            *keep_alive = 1;
    } else if (name_is(f->name, f->name_len, "expect")) {
        r->expect_continue = has_token(v, f->value_len, "100-continue");
    }
    return 0;
}

int hr_parse_head(const char *buf, size_t len, hr_req_t *r, const char **why)
{
    size_t skip = 0;
    /* RFC 9112 2.2: ignore empty lines before a request line (some clients
     * send a CRLF after a POST body). */
    while (skip + 2 <= len && buf[skip] == '\r' && buf[skip + 1] == '\n')
        skip += 2;
    size_t scan = len - skip < HR_MAX_HEAD ? len - skip : HR_MAX_HEAD;
    const char *start = buf + skip;
    const char *end = memmem(start, scan, "\r\n\r\n", 4);
    if (end == NULL) {
        if (len - skip >= HR_MAX_HEAD) {
            *why = "the request head is over 32 KiB";
            return 431;
        }
        return 0;
    }
    memset(r, 0, offsetof(hr_req_t, fields));
    r->content_length = -1;
    r->head_len = skip + (size_t)(end - start) + 4;

    const char *eol = memchr(start, '\r', (size_t)(end - start) + 2);
    if (eol[1] != '\n' || parse_request_line(start, eol, r) != 0) {
        *why = "malformed request line (want: METHOD /path HTTP/1.1)";
        return 400;
    }
    int keep_alive = !r->http10;
    const char *p = eol + 2, *fields_end = end + 2;
    while (p < fields_end) {
        const char *e = memchr(p, '\r', (size_t)(fields_end - p));
        if (e == NULL || e[1] != '\n') { /* fields_end[-2] is '\r': e is in bounds */
            *why = "a header line does not end with CRLF";
            return 400;
        }
        if (memchr(p, '\n', (size_t)(e - p)) != NULL) {
            *why = "a bare LF inside the head";
            return 400;
        }
        int st = parse_field(p, e, r, &keep_alive, why);
        if (st != 0)
            return st;
        p = e + 2;
    }
    if (r->chunked && r->content_length >= 0) {
        *why = "both Content-Length and Transfer-Encoding (ambiguous framing)";
        return 400;
    }
    r->close = !keep_alive;
    return 1;
}

const hr_field_t *hr_field(const hr_req_t *r, const char *name)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (name_is(r->fields[i].name, r->fields[i].name_len, name))
            return &r->fields[i];
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The chunk-size line at p (eol at p[len]): its size, or -1. */
static int64_t chunk_size(const char *p, size_t len)
{
    int64_t x = 0;
    size_t i = 0;
    for (; i < len && hexval(p[i]) >= 0; i++) {
        if (i == 12)
            return -1; /* 48 bits: far beyond any allowed body */
        x = x * 16 + hexval(p[i]);
    }
    if (i == 0)
        return -1;
    while (i < len && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i < len && p[i] != ';') /* only chunk extensions may follow */
        return -1;
    return x;
}

int hr_chunked_scan(hr_chunked_t *st, const char *p, size_t n, size_t max_body,
                    const char **why)
{
    for (;;) {
        if (st->off > 2 * max_body + 65536) {
            *why = "the chunked encoding is too large";
            return 413;
        }
        size_t avail = n - st->off;
        size_t look = avail < MAX_SIZE_LINE ? avail : MAX_SIZE_LINE;
        const char *line = p + st->off;
        const char *eol = memmem(line, look, "\r\n", 2);
        if (eol == NULL) {
            if (avail >= MAX_SIZE_LINE) {
                *why = st->in_trailers ? "a trailer line is over 1 KiB"
                                       : "a chunk-size line is over 1 KiB";
                return 400;
            }
            return 0;
        }
        size_t line_len = (size_t)(eol - line);
        if (st->in_trailers) {
            st->off += line_len + 2;
            if (line_len == 0) {
                st->raw_len = st->off;
                return 1;
            }
            continue;
        }
        int64_t size = chunk_size(line, line_len);
        if (size < 0) {
            *why = "malformed chunk-size line";
            return 400;
        }
        if (size == 0) {
            st->in_trailers = 1;
            st->off += line_len + 2;
            continue;
        }
        if (st->body_len + (uint64_t)size > max_body) {
            *why = "the request body is over the limit";
            return 413;
        }
        size_t data = st->off + line_len + 2;
        if (n < data + (size_t)size + 2)
            return 0;
        if (memcmp(p + data + size, "\r\n", 2) != 0) {
            *why = "chunk data is not followed by CRLF";
            return 400;
        }
        st->body_len += (size_t)size;
        st->off = data + (size_t)size + 2;
    }
}

void hr_chunked_decode(const char *p, size_t raw_len, char *dst)
{
    size_t off = 0;
    while (off < raw_len) {
        const char *eol = memmem(p + off, raw_len - off, "\r\n", 2);
        int64_t size = chunk_size(p + off, (size_t)(eol - (p + off)));
        if (size <= 0)
            return; /* the last chunk: trailers follow */
        memcpy(dst, eol + 2, (size_t)size);
        dst += size;
        off = (size_t)(eol + 2 - p) + (size_t)size + 2;
    }
}
