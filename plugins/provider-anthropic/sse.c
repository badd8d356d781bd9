/* sse.c - provider-anthropic: incremental text/event-stream parser (see
 * sse.h). */
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
    p->after_cr = 0;
    p->started = 0;
}

void sse_free(sse_parser_t *p)
{
    free(p->line);
    free(p->data);
    sse_init(p);
}

/* Appends n bytes to *buf (len, cap), keeping room for a NUL. */
static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (n > SSE_EVENT_MAX || *len + n > SSE_EVENT_MAX)
        return SSE_ETOOBIG;
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n + 1)
            c *= 2;
        char *b = realloc(*buf, c);
        if (b == NULL)
            return SSE_ENOMEM;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return SSE_OK;
}

/* One big event or line must not pin its memory for the whole stream. */
static void trim(char **buf, size_t *cap)
{
    if (*cap > SSE_KEEP_BYTES) {
        free(*buf);
        *buf = NULL;
        *cap = 0;
    }
}

static int dispatch(sse_parser_t *p, sse_event_cb cb, void *data)
{
    if (!p->has_data) {
        p->event[0] = '\0'; /* an event without data is dropped whole */
        return SSE_OK;
    }
    /* Reset first: cb may free the parser. The payload stays valid in
     * p->data until the next data line. */
    char ev[sizeof p->event];
    snprintf(ev, sizeof ev, "%s", p->event[0] ? p->event : "message");
    const char *payload = p->data ? p->data : "";
    size_t len = p->data_len;
    p->data_len = 0;
    p->has_data = 0;
    p->event[0] = '\0';
    int rc = cb(data, ev, payload, len);
    if (rc == 0)
        trim(&p->data, &p->data_cap);
    return rc;
}

/* A complete line (without its line end). */
static int line_done(sse_parser_t *p, sse_event_cb cb, void *data)
{
    const char *line = p->line ? p->line : "";
    size_t n = p->line_len;
    p->line_len = 0;
    if (!p->started) {
        p->started = 1;
        if (n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
            line += 3;
            n -= 3;
        }
    }
    if (n == 0)
        return dispatch(p, cb, data);
    if (line[0] == ':')
        return SSE_OK; /* a comment (keep-alive) */
    const char *colon = memchr(line, ':', n);
    size_t fl = colon ? (size_t)(colon - line) : n;
    const char *v = colon ? colon + 1 : line + n;
    size_t vl = (size_t)(line + n - v);
    if (vl > 0 && v[0] == ' ') {
        v++;
        vl--;
    }
    int rc = SSE_OK;
    if (fl == 4 && memcmp(line, "data", 4) == 0) {
        if (p->has_data)
            rc = append(&p->data, &p->data_len, &p->data_cap, "\n", 1);
        if (rc == SSE_OK)
            rc = append(&p->data, &p->data_len, &p->data_cap, v, vl);
        p->has_data = 1;
    } else if (fl == 5 && memcmp(line, "event", 5) == 0) {
        size_t k = vl < sizeof p->event - 1 ? vl : sizeof p->event - 1;
        memcpy(p->event, v, k);
        p->event[k] = '\0';
    } /* id, retry and unknown fields: nothing for us */
    trim(&p->line, &p->line_cap);
    return rc;
}

int sse_feed(sse_parser_t *p, const char *buf, size_t len, sse_event_cb cb, void *data)
{
    size_t i = 0;
    while (i < len) {
        if (p->after_cr) {
            p->after_cr = 0;
            if (buf[i] == '\n') { /* the LF of a CRLF, maybe in a later read */
                i++;
                continue;
            }
        }
        size_t j = i;
        while (j < len && buf[j] != '\n' && buf[j] != '\r')
            j++;
        int rc = append(&p->line, &p->line_len, &p->line_cap, buf + i, j - i);
        if (rc != SSE_OK || j == len)
            return rc; /* no line end yet: the rest comes in a later read */
        p->after_cr = buf[j] == '\r';
        i = j + 1;
        rc = line_done(p, cb, data);
        if (rc != SSE_OK)
            return rc;
    }
    return SSE_OK;
}

int sse_finish(sse_parser_t *p, sse_event_cb cb, void *data)
{
    p->after_cr = 0;
    if (p->line_len > 0) {
        int rc = line_done(p, cb, data);
        if (rc != SSE_OK)
            return rc;
    }
    return dispatch(p, cb, data);
}
