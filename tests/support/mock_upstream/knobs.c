/* mock_upstream/knobs.c - see knobs.h. */
#include "knobs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#define K(field) offsetof(knobs_t, field)
#define MAX_MS 600000
#define MAX_WINDOW_S 86400

const knob_def_t knob_defs[] = {
    {"latency_ms", "x-mock-latency-ms", "latency-ms", KT_UINT, 0, MAX_MS, K(latency_ms),
     "ms before the answer (or before a stream's first chunk)"},
    {"chunks", "x-mock-chunks", "chunks", KT_UINT, 1, 100000, K(chunks),
     "content chunks per stream"},
    {"chunk_interval_ms", "x-mock-chunk-interval-ms", "chunk-interval-ms", KT_UINT, 0, MAX_MS,
     K(chunk_interval_ms), "ms between a stream's chunks (deadline-scheduled)"},
    {"fail_rate", "x-mock-fail-rate", "fail-rate", KT_RATE, 0, 1, K(fail_rate),
     "share of model calls answered with fail_status"},
    {"fail_status", "x-mock-fail-status", "fail-status", KT_STATUS, 400, 599, K(fail_status),
     "status of the fail_rate failures"},
    {"status", "x-mock-status", "status", KT_STATUS0, 0, 599, K(status),
     "force this status on every model call (0: off)"},
    {"retry_after_s", "x-mock-retry-after", "retry-after", KT_UINT, 0, MAX_WINDOW_S,
     K(retry_after_s), "Retry-After seconds on a forced or injected 429/503"},
    {"stall", "x-mock-stall", "stall", KT_BOOL, 0, 1, K(stall),
     "accept model calls and never answer them"},
    {"size", "x-mock-size", "size", KT_UINT, 0, 16 << 20, K(size),
     "pad the reply content to at least this many bytes"},
    {"tools", "x-mock-tools", "tools", KT_BOOL, 0, 1, K(tools),
     "answer with a tool call when the request offers tools"},
    {"echo", "x-mock-echo", "echo", KT_BOOL, 0, 1, K(echo),
     "include the last user message in the reply"},
    {"stream_error_after", "x-mock-stream-error-after", "stream-error-after", KT_INT, -1, 100000,
     K(stream_error_after), "end streams with an error event after N chunks (-1: off)"},
    {"rate_limit", NULL, "rate-limit", KT_WINDOW, 0, 0, 0,
     "\"EVERY:FOR\": 429 for the last FOR seconds of every EVERY seconds"},
};
const size_t knob_count = sizeof knob_defs / sizeof knob_defs[0];

void knobs_init(knobs_t *k)
{
    memset(k, 0, sizeof *k);
    k->chunks = 5;
    k->chunk_interval_ms = 10;
    k->fail_status = 500;
    k->retry_after_s = 1;
    k->stream_error_after = -1;
    k->rl_epoch_ns = uv_hrtime();
}

const knob_def_t *knob_by_header(const char *name, size_t n)
{
    for (size_t i = 0; i < knob_count; i++) {
        const char *h = knob_defs[i].header;
        if (h != NULL && strlen(h) == n && strncasecmp(h, name, n) == 0)
            return &knob_defs[i];
    }
    return NULL;
}

void knob_describe(const knob_def_t *d, int json, gw_buf_t *out)
{
    switch (d->type) {
    case KT_UINT:
    case KT_INT:
        gw_buf_printf(out, "an integer in %lld..%lld", (long long)d->min, (long long)d->max);
        break;
    case KT_RATE: gw_buf_puts(out, "a number in 0..1"); break;
    case KT_STATUS: gw_buf_puts(out, "an HTTP status in 400..599"); break;
    case KT_STATUS0: gw_buf_puts(out, "0 (off) or an HTTP status in 400..599"); break;
    case KT_BOOL: gw_buf_puts(out, json ? "true or false" : "one of 1, 0, true, false"); break;
    default:
        gw_buf_printf(out, "\"EVERY:FOR\" seconds with 1 <= FOR < EVERY <= %d, or \"off\"",
                      MAX_WINDOW_S);
    }
}

/* A decimal integer, optionally negative; 0 or -1. */
static int parse_int(const char *v, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (n > 0 && v[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n || n - i > 12)
        return -1;
    int64_t x = 0;
    for (; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    *out = neg ? -x : x;
    return 0;
}

static int text_is(const char *v, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(v, want, n) == 0;
}

/* "EVERY:FOR" or "off"; 0 or -1. */
static int parse_window(const char *v, size_t n, uint32_t *every, uint32_t *for_s)
{
    if (text_is(v, n, "off") || text_is(v, n, "0") || text_is(v, n, "0:0")) {
        *every = *for_s = 0;
        return 0;
    }
    const char *colon = memchr(v, ':', n);
    int64_t e, f;
    if (colon == NULL || parse_int(v, (size_t)(colon - v), &e) != 0 ||
        parse_int(colon + 1, n - (size_t)(colon - v) - 1, &f) != 0)
        return -1;
    if (f < 1 || f >= e || e > MAX_WINDOW_S)
        return -1;
    *every = (uint32_t)e;
    *for_s = (uint32_t)f;
    return 0;
}

/* The value of text v for d into *k; 0 or -1. */
static int set_from_text(knobs_t *k, const knob_def_t *d, const char *v, size_t n)
{
    char *field = (char *)k + d->off;
    int64_t x;
    switch (d->type) {
    case KT_UINT:
    case KT_INT:
    case KT_STATUS:
    case KT_STATUS0:
        if (parse_int(v, n, &x) != 0)
            return -1;
        if (d->type == KT_STATUS && (x < 400 || x > 599))
            return -1;
        if (d->type == KT_STATUS0 && x != 0 && (x < 400 || x > 599))
            return -1;
        if ((d->type == KT_UINT || d->type == KT_INT) && (x < d->min || x > d->max))
            return -1;
        if (d->type == KT_INT)
            *(int32_t *)field = (int32_t)x;
        else
            *(uint32_t *)field = (uint32_t)x;
        return 0;
    case KT_RATE: {
        char tmp[64];
        if (n == 0 || n >= sizeof tmp)
            return -1;
        memcpy(tmp, v, n);
        tmp[n] = '\0';
        char *end = NULL;
        double r = strtod(tmp, &end);
        if (*end != '\0' || !isfinite(r) || r < 0 || r > 1 || tmp[0] == ' ')
            return -1;
        *(double *)field = r;
        return 0;
    }
    case KT_BOOL:
        if (text_is(v, n, "1") || text_is(v, n, "true"))
            *(uint32_t *)field = 1;
        else if (text_is(v, n, "0") || text_is(v, n, "false"))
            *(uint32_t *)field = 0;
        else
            return -1;
        return 0;
    default:
        if (parse_window(v, n, &k->rl_every_s, &k->rl_for_s) != 0)
            return -1;
        k->rl_epoch_ns = uv_hrtime();
        return 0;
    }
}

int knob_set_text(knobs_t *k, const knob_def_t *d, const char *v, size_t n, const char *who,
                  gw_buf_t *err)
{
    if (set_from_text(k, d, v, n) == 0)
        return 0;
    gw_buf_printf(err, "%s: '%.*s' is not ", who, n > 80 ? 80 : (int)n, v);
    knob_describe(d, 0, err);
    return -1;
}

/* The JSON value v for d into *k; 0 or -1. */
static int set_from_json(knobs_t *k, const knob_def_t *d, struct json_object *v)
{
    char buf[32];
    switch (d->type) {
    case KT_RATE:
        if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
            return -1;
        snprintf(buf, sizeof buf, "%.17g", json_object_get_double(v));
        return set_from_text(k, d, buf, strlen(buf));
    case KT_BOOL:
        if (!json_object_is_type(v, json_type_boolean))
            return -1;
        *(uint32_t *)((char *)k + d->off) = json_object_get_boolean(v) ? 1 : 0;
        return 0;
    case KT_WINDOW:
        if (json_object_is_type(v, json_type_null))
            return set_from_text(k, d, "off", 3);
        if (!json_object_is_type(v, json_type_string))
            return -1;
        return set_from_text(k, d, json_object_get_string(v),
                             (size_t)json_object_get_string_len(v));
    default:
        if (!json_object_is_type(v, json_type_int))
            return -1;
        snprintf(buf, sizeof buf, "%lld", (long long)json_object_get_int64(v));
        return set_from_text(k, d, buf, strlen(buf));
    }
}

static const knob_def_t *knob_by_key(const char *key)
{
    for (size_t i = 0; i < knob_count; i++)
        if (strcmp(knob_defs[i].key, key) == 0)
            return &knob_defs[i];
    return NULL;
}

int knobs_apply_json(knobs_t *k, struct json_object *o, gw_buf_t *err)
{
    knobs_t next = *k;
    if (!json_object_is_type(o, json_type_object)) {
        gw_buf_puts(err, "the body must be a JSON object of knobs, e.g. {\"latency_ms\":50}");
        return -1;
    }
    json_object_object_foreach(o, key, v)
    {
        const knob_def_t *d = knob_by_key(key);
        if (d == NULL) {
            gw_buf_printf(err, "unknown knob \"%.80s\" (known:", key);
            for (size_t i = 0; i < knob_count; i++)
                gw_buf_printf(err, " %s", knob_defs[i].key);
            gw_buf_putc(err, ')');
            return -1;
        }
        if (set_from_json(&next, d, v) != 0) {
            const char *got = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
            gw_buf_printf(err, "%s: expected ", key);
            knob_describe(d, 1, err);
            gw_buf_printf(err, ", got %.80s", got);
            return -1;
        }
    }
    *k = next;
    return 0;
}

void knobs_to_json(const knobs_t *k, gw_buf_t *out)
{
    gw_buf_putc(out, '{');
    for (size_t i = 0; i < knob_count; i++) {
        const knob_def_t *d = &knob_defs[i];
        const char *field = (const char *)k + d->off;
        gw_buf_printf(out, "%s\"%s\":", i ? "," : "", d->key);
        switch (d->type) {
        case KT_RATE: gw_buf_printf(out, "%.6g", *(const double *)field); break;
        case KT_BOOL: gw_buf_puts(out, *(const uint32_t *)field ? "true" : "false"); break;
        case KT_INT: gw_buf_printf(out, "%d", (int)*(const int32_t *)field); break;
        case KT_WINDOW:
            if (k->rl_every_s == 0)
                gw_buf_puts(out, "\"off\"");
            else
                gw_buf_printf(out, "\"%u:%u\"", k->rl_every_s, k->rl_for_s);
            break;
        default: gw_buf_printf(out, "%u", *(const uint32_t *)field);
        }
    }
    gw_buf_putc(out, '}');
}

uint32_t knobs_rl_retry_after(const knobs_t *k, uint64_t now_ns)
{
    if (k->rl_every_s == 0 || now_ns < k->rl_epoch_ns)
        return 0;
    uint64_t period_ms = (uint64_t)k->rl_every_s * 1000;
    uint64_t phase = (now_ns - k->rl_epoch_ns) / 1000000 % period_ms;
    uint64_t open_ms = (uint64_t)(k->rl_every_s - k->rl_for_s) * 1000;
    if (phase < open_ms)
        return 0;
    return (uint32_t)((period_ms - phase + 999) / 1000);
}
