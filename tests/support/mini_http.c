/* tests/support/mini_http.c - see mini_http.h. */
#define _GNU_SOURCE /* memmem */
#include "mini_http.h"

#include <errno.h>
#include <stdlib.h>

#include <string.h>
#include <strings.h>

static int name_is(const char *p, size_t n, const char *want)
{
    return n == strlen(want) && strncasecmp(p, want, n) == 0;
}

static int value_has(const char *v, size_t n, const char *token)
{
    size_t t = strlen(token);
    for (size_t i = 0; i + t <= n; i++)
        if (strncasecmp(v + i, token, t) == 0)
            return 1;
    return 0;
}

/* Digits only, no sign, no overflow: anything else is malformed. */
static int parse_length(const char *v, size_t n, int64_t *out)
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

/* The header lines between the first line and the blank line. */
static int parse_fields(const char *p, const char *end, mh_head_t *h, int keep_alive_default)
{
    int keep_alive = keep_alive_default;
    while (p < end) {
        const char *eol = memchr(p, '\r', (size_t)(end - p));
        if (eol == NULL || eol[1] != '\n') /* end[0] is '\r': eol[1] is in bounds */
            return -1;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon == NULL || colon == p)
            return -1;
        const char *v = colon + 1, *ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t nl = (size_t)(colon - p), vl = (size_t)(ve - v);
        if (name_is(p, nl, "content-length")) {
            if (h->content_length >= 0 || parse_length(v, vl, &h->content_length) != 0)
                return -1; /* twice, or not a number: ambiguous framing */
        } else if (name_is(p, nl, "transfer-encoding")) {
            h->chunked = 1;
        } else if (name_is(p, nl, "connection")) {
            if (value_has(v, vl, "close"))
                keep_alive = 0;
            else if (value_has(v, vl, "keep-alive"))
                keep_alive = 1;
        } else if (name_is(p, nl, "expect")) {
            h->expect_continue = value_has(v, vl, "100-continue");
        } else if (name_is(p, nl, "x-openclaw-signature")) {
            h->signature = v;
            h->signature_len = vl;
        }
        p = eol + 2;
    }
    h->close = !keep_alive;
    return 0;
}

/* Finds the head; fills head_len. 1, 0 or -1 as the public functions. */
static int find_head(const char *buf, size_t len, mh_head_t *h)
{
    memset(h, 0, sizeof *h);
    h->content_length = -1;
    size_t scan = len < MH_MAX_HEAD ? len : MH_MAX_HEAD;
    const char *end = memmem(buf, scan, "\r\n\r\n", 4);
    if (end == NULL)
        return len >= MH_MAX_HEAD ? -1 : 0;
    h->head_len = (size_t)(end - buf) + 4;
    return 1;
}

int mh_parse_request(const char *buf, size_t len, mh_head_t *h)
{
    int rc = find_head(buf, len, h);
    if (rc != 1)
        return rc;
    const char *end = buf + h->head_len - 2; /* the last CRLF ends the fields */
    const char *eol = memchr(buf, '\r', h->head_len);
    const char *sp = memchr(buf, ' ', (size_t)(eol - buf));
    if (sp == NULL || sp == buf || eol - buf < 14)
        return -1;
    h->method = buf;
    h->method_len = (size_t)(sp - buf);
    int http11 = memcmp(eol - 8, "HTTP/1.1", 8) == 0;
    if (!http11 && memcmp(eol - 8, "HTTP/1.0", 8) != 0)
        return -1;
    return parse_fields(eol + 2, end, h, http11) == 0 ? 1 : -1;
}

int mh_parse_response(const char *buf, size_t len, mh_head_t *h)
{
    int rc = find_head(buf, len, h);
    if (rc != 1)
        return rc;
    const char *end = buf + h->head_len - 2;
    const char *eol = memchr(buf, '\r', h->head_len);
    /* "HTTP/1.x NNN" at least */
    if (eol - buf < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
        return -1;
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
        status = status * 10 + (buf[i] - '0');
    }
    h->status = status;
    return parse_fields(eol + 2, end, h, buf[7] == '1') == 0 ? 1 : -1;
}

int mh_parse_u64(const char *v, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || v[0] == '-')
        return -1;
    *out = x;
    return 0;
}
