/* classify.c - provider-anthropic: what an upstream failure means for
 * failover (error class, Retry-After) and the text shown for it. Pure
 * functions: no host, no state. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ant.h"

#define RETRY_AFTER_CAP_MS (24u * 3600u * 1000u) /* beyond a day is a broken header */

int32_t ant_class_of_status(int s)
{
    switch (s) {
    case 401:
    case 402: /* billing: the key is unusable until someone pays */
    case 403: return OC_PROV_ERR_AUTH;
    case 408: return OC_PROV_ERR_SERVER; /* the upstream timed our request out */
    case 429: return OC_PROV_ERR_RATE;
    default: break;
    }
    if (s >= 400 && s < 500)
        return OC_PROV_ERR_REQUEST; /* 400, 404, 413, 422, ...: same request fails anywhere */
    return OC_PROV_ERR_SERVER;      /* 5xx (529 overloaded), and 1xx/3xx a proxy should not send */
}

int32_t ant_class_of_error_type(const char *t)
{
    static const struct {
        const char *type;
        int32_t cls;
    } map[] = {
        {"invalid_request_error", OC_PROV_ERR_REQUEST},
        {"not_found_error", OC_PROV_ERR_REQUEST},
        {"request_too_large", OC_PROV_ERR_REQUEST},
        {"authentication_error", OC_PROV_ERR_AUTH},
        {"permission_error", OC_PROV_ERR_AUTH},
        {"billing_error", OC_PROV_ERR_AUTH},
        {"rate_limit_error", OC_PROV_ERR_RATE},
        {"overloaded_error", OC_PROV_ERR_SERVER},
        {"api_error", OC_PROV_ERR_SERVER},
        {"timeout_error", OC_PROV_ERR_SERVER},
    };
    for (size_t i = 0; t != NULL && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(t, map[i].type) == 0)
            return map[i].cls;
    return OC_PROV_ERR_SERVER; /* unknown: the upstream failed, another one may not */
}

int32_t ant_status_of_class(int32_t c)
{
    switch (c) {
    case OC_PROV_ERR_NONE: return OC_OK;
    case OC_PROV_ERR_REQUEST: return OC_EINVAL;
    case OC_PROV_ERR_AUTH: return OC_EACCES;
    case OC_PROV_ERR_RATE: return OC_ELIMIT;
    case OC_PROV_ERR_NETWORK: return OC_EIO;
    case OC_PROV_ERR_TIMEOUT: return OC_ETIMEDOUT;
    case OC_PROV_ERR_CANCELED: return OC_ECANCELED;
    default: return OC_EUNAVAIL;
    }
}

/* ---- Retry-After ------------------------------------------------------ */

static const char *header(const oc_http_header_t *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (h[i].name && h[i].value && strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

/* A non-negative decimal number of seconds (fraction allowed) in ms, or -1. */
static int64_t parse_seconds(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != '\0' || v < 0)
        return -1;
    v *= 1000.0;
    return v > (double)RETRY_AFTER_CAP_MS ? (int64_t)RETRY_AFTER_CAP_MS : (int64_t)(v + 0.5);
}

static int month_of(const char *m)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (strncmp(m, names + 3 * i, 3) == 0)
            return i;
    return -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (y, m 0-11, d 1-31). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m < 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int mp = (m + 10) % 12; /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int valid_time(int y, int m, int d, int hh, int mm, int ss)
{
    return m >= 0 && m < 12 && d >= 1 && d <= 31 && hh >= 0 && hh <= 23 && mm >= 0 &&
           mm <= 59 && ss >= 0 && ss <= 60 && y >= 1970 && y <= 9999;
}

int ant_parse_http_date(const char *s, int64_t *out)
{
    char wd[16], mon[4];
    int d, y, hh, mm, ss, n = 0;
    if (sscanf(s, "%15[A-Za-z], %d %3s %d %d:%d:%d GMT%n", wd, &d, mon, &y, &hh, &mm, &ss,
               &n) == 7 &&
        n > 0) {
        /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
    } else if (n = 0, sscanf(s, "%15[A-Za-z], %d-%3s-%d %d:%d:%d GMT%n", wd, &d, mon, &y, &hh,
                             &mm, &ss, &n) == 7 &&
                          n > 0) {
        y += y < 70 ? 2000 : y < 100 ? 1900 : 0; /* RFC 850: two-digit year */
    } else if (n = 0, sscanf(s, "%15[A-Za-z] %3s %d %d:%d:%d %d%n", wd, mon, &d, &hh, &mm, &ss,
                             &y, &n) == 7 &&
                          n > 0) {
        /* asctime: Sun Nov  6 08:49:37 1994 */
    } else {
        return -1;
    }
    while (s[n] == ' ' || s[n] == '\t')
        n++;
    int m = month_of(mon);
    if (s[n] != '\0' || !valid_time(y, m, d, hh, mm, ss))
        return -1;
    *out = days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
    return 0;
}

/* Exactly `n` digits at s, as a number; -1 when not. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int ant_parse_rfc3339(const char *s, int64_t *out)
{
    /* 2025-01-01T12:00:00[.fff](Z|+hh:mm|-hh:mm) */
    if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' &&
        s[10] != ' ') || s[13] != ':' || s[16] != ':')
        return -1;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int hh = digits(s + 11, 2), mm = digits(s + 14, 2), ss = digits(s + 17, 2);
    if (y < 0 || mo < 1 || d < 0 || hh < 0 || mm < 0 || ss < 0 ||
        !valid_time(y, mo - 1, d, hh, mm, ss))
        return -1;
    const char *p = s + 19;
    int frac = 0;
    if (*p == '.') {
        if (!isdigit((unsigned char)p[1]))
            return -1;
        for (p++; isdigit((unsigned char)*p); p++)
            frac |= *p != '0';
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = digits(p + 1, 2);
        if (oh < 0 || oh > 23 || p[3] != ':')
            return -1;
        int om = digits(p + 4, 2);
        if (om < 0 || om > 59)
            return -1;
        off = (*p == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    *out = days_from_civil(y, mo - 1, d) * 86400 + hh * 3600 + mm * 60 + ss - off + frac;
    return 0;
}

/* ms from now_s until the Unix time at, or 0 when it is not ahead. */
static uint32_t until(int64_t at, int64_t now_s)
{
    if (at <= now_s)
        return 0;
    int64_t d = (at - now_s) * 1000;
    return d > RETRY_AFTER_CAP_MS ? RETRY_AFTER_CAP_MS : (uint32_t)d;
}

uint32_t ant_retry_after_ms(const oc_http_header_t *headers, size_t count, int64_t now_s)
{
    const char *v = header(headers, count, "retry-after");
    if (v != NULL) {
        int64_t ms = parse_seconds(v);
        if (ms >= 0)
            return (uint32_t)ms;
        int64_t at;
        while (*v == ' ' || *v == '\t')
            v++;
        if (ant_parse_http_date(v, &at) == 0)
            return until(at, now_s);
    }
    /* No usable Retry-After: the reset time of each exhausted limit; the
     * latest one is when every exhausted limit allows a call again. */
    static const char *const limits[] = {"requests", "tokens", "input-tokens", "output-tokens"};
    uint32_t best = 0;
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "anthropic-ratelimit-%s-remaining", limits[i]);
        const char *left = header(headers, count, name);
        if (left == NULL || parse_seconds(left) != 0)
            continue; /* absent, or not exhausted ("0", as a count) */
        snprintf(name, sizeof name, "anthropic-ratelimit-%s-reset", limits[i]);
        const char *reset = header(headers, count, name);
        int64_t at;
        if (reset != NULL && ant_parse_rfc3339(reset, &at) == 0 && until(at, now_s) > best)
            best = until(at, now_s);
    }
    return best;
}

/* ---- error text ------------------------------------------------------- */

/* Printable text only, one line, at most msglen - 1 bytes, appended at o. */
static size_t copy_clean(char *msg, size_t msglen, size_t o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i] && o + 1 < msglen; i++) {
        unsigned char c = (unsigned char)s[i];
        msg[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    msg[o] = '\0';
    return o;
}

void ant_error_of(json_object *err, char *msg, size_t msglen)
{
    if (msglen == 0)
        return;
    msg[0] = '\0';
    const char *type = ant_str_member(err, "type");
    const char *m = ant_str_member(err, "message");
    if (m == NULL && err != NULL && json_object_is_type(err, json_type_string))
        m = json_object_get_string(err); /* {"error":"..."} */
    size_t o = 0;
    if (type != NULL) {
        o = copy_clean(msg, msglen, o, type, strlen(type));
        if (m != NULL)
            o = copy_clean(msg, msglen, o, ": ", 2);
    }
    if (m != NULL)
        copy_clean(msg, msglen, o, m, strlen(m));
}

void ant_error_message(const char *body, size_t len, char *msg, size_t msglen,
                       int32_t *type_class)
{
    if (type_class)
        *type_class = 0;
    if (msglen == 0)
        return;
    msg[0] = '\0';
    if (body == NULL || len == 0)
        return;
    json_object *root = ant_json_parse(body, len);
    if (root == NULL) {
        /* Not JSON (a proxy's HTML page, plain text): its start says enough. */
        copy_clean(msg, msglen < 161 ? msglen : 161, 0, body, len);
        return;
    }
    json_object *err = ant_member(root, "error");
    if (err != NULL && (json_object_is_type(err, json_type_object) ||
                        json_object_is_type(err, json_type_string))) {
        ant_error_of(err, msg, msglen);
        const char *type = ant_str_member(err, "type");
        if (type_class && type)
            *type_class = ant_class_of_error_type(type);
    } else {
        const char *m = ant_str_member(root, "message");
        if (m == NULL)
            m = ant_str_member(root, "detail");
        if (m != NULL)
            copy_clean(msg, msglen, 0, m, strlen(m));
    }
    json_object_put(root);
}

void ant_scrub(char *s, size_t cap, const char *const *secrets)
{
    static const char red[] = "[redacted]";
    const size_t rl = sizeof red - 1;
    for (size_t k = 0; secrets && secrets[k]; k++) {
        size_t sl = strlen(secrets[k]);
        if (sl < 4)
            continue;
        char *p = s;
        while ((p = strstr(p, secrets[k])) != NULL) {
            size_t at = (size_t)(p - s);
            if (at + rl + 1 > cap) { /* no room for the marker: cut the text here */
                *p = '\0';
                break;
            }
            size_t tail = strlen(p + sl);
            if (at + rl + tail + 1 > cap)
                tail = cap - at - rl - 1; /* truncate rather than overflow */
            memmove(p + rl, p + sl, tail);
            memcpy(p, red, rl);
            p[rl + tail] = '\0';
            p += rl;
        }
    }
}
