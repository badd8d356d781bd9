/* sse.c - incremental text/event-stream parser (see sse.h). */
#include "sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sse_init(sse_parser_t *p)
{
    memset(p, 0, sizeof *p);
}

void sse_reset(sse_parser_t *p)
{
    p->line_len = 0;
    p->data_len = 0;
    p->has_data = 0;
    p->event[0] = '\0';
    p->skip_lf = 0;
    p->started = 0;
}

void sse_free(sse_parser_t *p)
{
    free(p->line);
    free(p->data);
    sse_init(p);
}

/* Room for `need` more bytes plus a NUL in *buf. */
static int reserve(char **buf, size_t *cap, size_t len, size_t need)
{
    if (need > SSE_EVENT_MAX || len + need > SSE_EVENT_MAX)
        return SSE_ETOOBIG;
    if (len + need + 1 <= *cap)
        return SSE_OK;
    size_t n = *cap ? *cap : 256;
    while (n < len + need + 1)
        n *= 2;
    char *b = realloc(*buf, n);
    if (b == NULL)
        return SSE_ENOMEM;
    *buf = b;
    *cap = n;
    return SSE_OK;
}

static int dispatch(sse_parser_t *p, sse_event_cb cb, void *data)
{
    if (!p->has_data) {
        p->event[0] = '\0'; /* an event without data is dropped whole */
        return SSE_OK;
    }
    /* Reset before the callback: it may free the parser. The payload stays
     * valid in p->data until the next line is parsed. */
    char ev[sizeof p->event];
    snprintf(ev, sizeof ev, "%s", p->event[0] ? p->event : "message");
    const char *payload = p->data ? p->data : "";
    size_t len = p->data_len;
    p->data_len = 0;
    p->has_data = 0;
    p->event[0] = '\0';
    int rc = cb(data, ev, payload, len);
    if (rc != 0)
        return rc;
    if (p->data_cap > SSE_KEEP_BYTES) { /* one big event must not pin memory */
        free(p->data);
        p->data = NULL;
        p->data_cap = 0;
    }
    return SSE_OK;
}

static int field(sse_parser_t *p, const char *line, size_t n, sse_event_cb cb, void *data)
{
    if (n == 0)
        return dispatch(p, cb, data);
    if (line[0] == ':')
        return SSE_OK; /* comment (keep-alive) */
    const char *colon = memchr(line, ':', n);
    size_t fl = colon ? (size_t)(colon - line) : n;
    const char *v = colon ? colon + 1 : line + n;
    size_t vl = (size_t)(line + n - v);
    if (vl > 0 && v[0] == ' ') {
        v++;
        vl--;
    }
    if (fl == 4 && memcmp(line, "data", 4) == 0) {
        int rc = reserve(&p->data, &p->data_cap, p->data_len, vl + 1);
        if (rc != SSE_OK)
            return rc;
        if (p->has_data)
            p->data[p->data_len++] = '\n';
        memcpy(p->data + p->data_len, v, vl);
        p->data_len += vl;
        p->data[p->data_len] = '\0';
        p->has_data = 1;
    } else if (fl == 5 && memcmp(line, "event", 5) == 0) {
        size_t k = vl < sizeof p->event - 1 ? vl : sizeof p->event - 1;
        memcpy(p->event, v, k);
        p->event[k] = '\0';
    }
    /* id, retry and unknown fields: nothing for us. */
    return SSE_OK;
}

static int line_done(sse_parser_t *p, const char *line, size_t n, sse_event_cb cb, void *data)
{
    if (!p->started) {
        p->started = 1;
        if (n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
            line += 3;
            n -= 3;
        }
    }
    return field(p, line, n, cb, data);
}

int sse_feed(sse_parser_t *p, const char *buf, size_t len, sse_event_cb cb, void *data)
{
    size_t i = 0;
    if (p->skip_lf && len > 0) {
        p->skip_lf = 0;
        if (buf[0] == '\n')
            i = 1;
    }
    while (i < len) {
        size_t j = i;
        while (j < len && buf[j] != '\n' && buf[j] != '\r')
            j++;
        if (j == len) { /* no line end: keep the piece for the next feed */
            int rc = reserve(&p->line, &p->line_cap, p->line_len, len - i);
            if (rc != SSE_OK)
                return rc;
            memcpy(p->line + p->line_len, buf + i, len - i);
            p->line_len += len - i;
            return SSE_OK;
        }
        size_t next = j + 1;
        if (buf[j] == '\r') {
            if (j + 1 < len && buf[j + 1] == '\n')
                next = j + 2;
            else if (j + 1 == len)
                p->skip_lf = 1; /* the LF of this CRLF may come in the next feed */
        }
        const char *line = buf + i;
        size_t n = j - i;
        if (p->line_len > 0) { /* the line began in an earlier feed */
            int rc = reserve(&p->line, &p->line_cap, p->line_len, n);
            if (rc != SSE_OK)
                return rc;
            memcpy(p->line + p->line_len, buf + i, n);
            line = p->line;
            n += p->line_len;
            p->line_len = 0; /* the bytes stay readable until the next append */
        }
        int rc = line_done(p, line, n, cb, data);
        if (rc != SSE_OK)
            return rc;
        i = next;
    }
    return SSE_OK;
}

int sse_finish(sse_parser_t *p, sse_event_cb cb, void *data)
{
    if (p->line_len > 0) { /* a last line without its line end */
        size_t n = p->line_len;
        p->line_len = 0;
        int rc = line_done(p, p->line, n, cb, data);
        if (rc != SSE_OK)
            return rc;
    }
    p->skip_lf = 0;
    return dispatch(p, cb, data);
}
