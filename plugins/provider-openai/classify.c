/* classify.c - provider-openai: what an upstream failure means for
 * failover (error class, Retry-After) and the text shown for it. Pure
 * functions: no host, no state. */
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oai.h"

#define RETRY_AFTER_CAP_MS (24u * 3600u * 1000u) /* beyond a day is a broken header */

int32_t oai_class_of_status(int s)
{
    switch (s) {
    case 401:
    case 402: /* billing: the key is unusable, like OpenClaw's profile disable */
    case 403: return OC_PROV_ERR_AUTH;
    case 408: return OC_PROV_ERR_SERVER; /* the upstream timed our request out */
    case 429: return OC_PROV_ERR_RATE;
    default: break;
    }
    if (s >= 400 && s < 500)
        return OC_PROV_ERR_REQUEST; /* 400, 404, 409, 413, 422, ...: same request fails anywhere */
    return OC_PROV_ERR_SERVER;      /* 5xx, and 1xx/3xx a proxy should never answer */
}

int32_t oai_status_of_class(int32_t c)
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
        if (h[i].name && strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

/* A non-negative decimal number (fraction allowed) times `scale`, in ms.
 * Returns -1 when s is not one. */
static int64_t parse_amount(const char *s, double scale)
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
    v *= scale;
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

int oai_parse_http_date(const char *s, int64_t *out)
{
    char wd[16], mon[4];
    int d, y, hh, mm, ss, n = 0;
    /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
    if (sscanf(s, "%15[A-Za-z], %d %3s %d %d:%d:%d GMT%n", wd, &d, mon, &y, &hh, &mm, &ss, &n) ==
            7 &&
        n > 0) {
        /* parsed */
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
    if (s[n] != '\0' || m < 0 || d < 1 || d > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 ||
        ss < 0 || ss > 60 || y < 1970 || y > 9999)
        return -1;
    *out = days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
    return 0;
}

uint32_t oai_retry_after_ms(const oc_http_header_t *headers, size_t count, int64_t now_s)
{
    /* OpenAI also sends retry-after-ms (its SDKs prefer it). */
    const char *v = header(headers, count, "retry-after-ms");
    int64_t ms = v ? parse_amount(v, 1.0) : -1;
    if (ms >= 0)
        return (uint32_t)ms;
    v = header(headers, count, "retry-after");
    if (v == NULL)
        return 0;
    ms = parse_amount(v, 1000.0);
    if (ms >= 0)
        return (uint32_t)ms;
    int64_t at;
    while (*v == ' ' || *v == '\t')
        v++;
    if (oai_parse_http_date(v, &at) != 0 || at <= now_s)
        return 0; /* garbage, or "now" */
    int64_t d = (at - now_s) * 1000;
    return d > RETRY_AFTER_CAP_MS ? RETRY_AFTER_CAP_MS : (uint32_t)d;
}

/* ---- error text ------------------------------------------------------- */

static const char *str_member(json_object *o, const char *key)
{
    json_object *v;
    if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v) &&
        json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

/* Printable ASCII/UTF-8 only, one line, at most msglen - 1 bytes. */
static void copy_clean(char *msg, size_t msglen, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && s[i] && o + 1 < msglen; i++) {
        unsigned char c = (unsigned char)s[i];
        msg[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    msg[o] = '\0';
}

void oai_error_message(const char *body, size_t len, char *msg, size_t msglen)
{
    if (msglen == 0)
        return;
    msg[0] = '\0';
    if (body == NULL || len == 0)
        return;
    json_tokener *tok = json_tokener_new_ex(OAI_JSON_DEPTH);
    int n = len > INT32_MAX ? INT32_MAX : (int)len;
    json_object *root = tok ? json_tokener_parse_ex(tok, body, n) : NULL;
    if (tok)
        json_tokener_free(tok);
    const char *m = NULL;
    if (root && json_object_is_type(root, json_type_object)) {
        json_object *err = NULL;
        json_object_object_get_ex(root, "error", &err);
        m = str_member(err, "message");                   /* OpenAI: {"error":{"message"}} */
        if (m == NULL && err && json_object_is_type(err, json_type_string))
            m = json_object_get_string(err);              /* {"error":"..."} */
        if (m == NULL)
            m = str_member(root, "message");              /* {"message":"..."} */
        if (m == NULL)
            m = str_member(root, "detail");               /* FastAPI servers */
    }
    if (m != NULL) {
        copy_clean(msg, msglen, m, strlen(m));
    } else if (root == NULL) {
        /* Not JSON (a proxy's HTML page, plain text): its start says enough. */
        copy_clean(msg, msglen < 161 ? msglen : 161, body, len);
    }
    json_object_put(root);
}

void oai_scrub(char *s, size_t cap, const char *const *secrets)
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
