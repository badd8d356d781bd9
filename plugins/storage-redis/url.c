/* url.c - storage-redis: parsing storage.url and redacting its password.
 *
 *   redis://[[user]:password@]host[:port][/db]
 *
 * port defaults to 6379 and db to 0 (0..15). The user name and password may
 * be percent-encoded. Each refusal names what is wrong and shows the URL
 * with its password replaced by "***". Pure functions: any thread. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rd.h"

#define RD_DEFAULT_PORT 6379
#define RD_DB_MAX 15
#define RD_HOST_MAX 253
#define RD_FORM "redis://[user:password@]host:port/db"

void rd_url_redact(const char *text, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    const char *sep = strstr(text, "://");
    size_t start = sep != NULL ? (size_t)(sep - text) + 3 : 0;
    /* The last '@': a password with an unescaped '/' or '@' stays hidden. */
    const char *at = strrchr(text + start, '@');
    if (at == NULL) {
        snprintf(out, outlen, "%s", text);
        return;
    }
    size_t info_len = (size_t)(at - (text + start));
    const char *colon = memchr(text + start, ':', info_len);
    /* "user:secret@" keeps the user; a lone "secret@" may be a password. */
    size_t keep = colon != NULL ? (size_t)(colon - text) + 1 : start;
    snprintf(out, outlen, "%.*s***%s", (int)keep, text, at);
}

static int fail(char *err, size_t errlen, const char *text, const char *fmt, ...)
    OC_PRINTF(4, 5);

static int fail(char *err, size_t errlen, const char *text, const char *fmt, ...)
{
    char shown[RD_TEXT_MAX], why[RD_TEXT_MAX];
    rd_url_redact(text, shown, sizeof shown);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "\"%s\": %s", shown, why);
    return -1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes p[0..n) into a malloc'd string; NULL on a bad escape, a
 * NUL byte, or no memory (*oom set). */
static char *decode(const char *p, size_t n, int *oom)
{
    char *out = malloc(n + 1);
    if (out == NULL) {
        *oom = 1;
        return NULL;
    }
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '%') {
            out[j++] = p[i];
            continue;
        }
        int hi = i + 2 < n ? hexval(p[i + 1]) : -1;
        int lo = i + 2 < n ? hexval(p[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        out[j++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[j] = '\0';
    return out;
}

static int host_char_ok(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

static int v6_char_ok(char c)
{
    return isxdigit((unsigned char)c) || c == ':' || c == '.';
}

/* Digits only, value in [min, max]; -1 otherwise. */
static long number(const char *p, size_t n, long min, long max)
{
    if (n == 0 || n > 9)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v >= min && v <= max ? v : -1;
}

static int parse_scheme(const char *text, const char **rest, char *err, size_t errlen)
{
    const char *sep = strstr(text, "://");
    if (sep == NULL)
        return fail(err, errlen, text, "not a redis URL (write " RD_FORM ")");
    size_t n = (size_t)(sep - text);
    if (n == 6 && strncasecmp(text, "rediss", 6) == 0)
        return fail(err, errlen, text,
                    "rediss:// (TLS) is not supported: hiredis 0.14 has no TLS; use redis:// "
                    "on a trusted network or through a TLS tunnel (stunnel, spiped)");
    if (n != 5 || strncasecmp(text, "redis", 5) != 0)
        return fail(err, errlen, text, "unsupported scheme \"%.*s\" (write " RD_FORM ")",
                    (int)(n > 32 ? 32 : n), text);
    *rest = sep + 3;
    return 0;
}

static int parse_userinfo(const char *text, const char *p, size_t n, rd_url_t *url, char *err,
                          size_t errlen)
{
    const char *colon = memchr(p, ':', n);
    if (colon == NULL)
        return fail(err, errlen, text,
                    "a user name without a password (write redis://USER:PASSWORD@host:port/db, "
                    "or redis://:PASSWORD@host:port/db for the default user)");
    size_t ulen = (size_t)(colon - p), plen = n - ulen - 1;
    if (plen == 0)
        return fail(err, errlen, text, "the password is empty");
    int oom = 0;
    if (ulen > 0 && (url->user = decode(p, ulen, &oom)) == NULL)
        return fail(err, errlen, text, oom ? "out of memory" : "bad %%-escape in the user name");
    if ((url->password = decode(colon + 1, plen, &oom)) == NULL)
        return fail(err, errlen, text, oom ? "out of memory" : "bad %%-escape in the password");
    return 0;
}

/* host, [v6] host, then :port; *p moves past them. */
static int parse_host_port(const char *text, const char **p, rd_url_t *url, char *err,
                           size_t errlen)
{
    const char *s = *p, *h, *e;
    if (*s == '[') {
        h = s + 1;
        e = strchr(h, ']');
        if (e == NULL)
            return fail(err, errlen, text, "bad host: \"[\" without \"]\"");
        for (const char *c = h; c < e; c++)
            if (!v6_char_ok(*c))
                return fail(err, errlen, text, "bad host \"%.*s\": not an IPv6 address",
                            (int)(e - h), h);
        s = e + 1;
    } else {
        h = s;
        e = s + strcspn(s, ":/?#");
        for (const char *c = h; c < e; c++)
            if (!host_char_ok(*c))
                return fail(err, errlen, text,
                            "bad host \"%.*s\": a host is a name (letters, digits, '.', '-', "
                            "'_'), an IPv4 address or an [IPv6] address",
                            (int)(e - h > 64 ? 64 : e - h), h);
        s = e;
    }
    size_t hlen = (size_t)(e - h);
    if (hlen == 0)
        return fail(err, errlen, text, "the host is missing (write " RD_FORM ")");
    if (hlen > RD_HOST_MAX || h[0] == '.' || h[0] == '-')
        return fail(err, errlen, text, "bad host \"%.*s\"", (int)(hlen > 64 ? 64 : hlen), h);
    url->host = strndup(h, hlen);
    if (url->host == NULL)
        return fail(err, errlen, text, "out of memory");
    url->port = RD_DEFAULT_PORT;
    if (*s == ':') {
        s++;
        size_t n = strcspn(s, "/?#");
        long port = number(s, n, 1, 65535);
        if (port < 0)
            return fail(err, errlen, text,
                        "bad port \"%.*s\": a port is a number from 1 to 65535",
                        (int)(n > 16 ? 16 : n), s);
        url->port = (int)port;
        s += n;
    } else if (*s != '\0' && *s != '/' && *s != '?' && *s != '#') {
        return fail(err, errlen, text, "unexpected \"%c\" after the host", *s);
    }
    *p = s;
    return 0;
}

static int build_display(rd_url_t *url)
{
    const char *lb = strchr(url->host, ':') != NULL ? "[" : "";
    const char *rb = *lb ? "]" : "";
    char auth[300] = "";
    if (url->password != NULL)
        snprintf(auth, sizeof auth, "%.255s:***@", url->user != NULL ? url->user : "");
    return asprintf(&url->display, "redis://%s%s%s%s:%d/%d", auth, lb, url->host, rb,
                    url->port, url->db) < 0
               ? -1
               : 0;
}

int rd_url_parse(const char *text, rd_url_t *url, char *err, size_t errlen)
{
    memset(url, 0, sizeof *url);
    const char *p = NULL;
    if (parse_scheme(text, &p, err, errlen) != 0)
        return -1;
    const char *at = strrchr(p, '@');
    if (at != NULL) {
        if (parse_userinfo(text, p, (size_t)(at - p), url, err, errlen) != 0)
            goto fail;
        p = at + 1;
    }
    if (parse_host_port(text, &p, url, err, errlen) != 0)
        goto fail;
    if (*p == '/') {
        p++;
        size_t n = strcspn(p, "?#");
        long db = n == 0 ? 0 : number(p, n, 0, RD_DB_MAX);
        if (db < 0) {
            fail(err, errlen, text,
                 "bad database index \"%.*s\": Redis databases are numbered 0 to 15",
                 (int)(n > 16 ? 16 : n), p);
            goto fail;
        }
        url->db = (int)db;
        p += n;
    }
    if (*p == '?') {
        fail(err, errlen, text,
             "query parameters are not supported (set timeoutMs, connectTimeoutMs and "
             "startupRetrySeconds as storage keys)");
        goto fail;
    }
    if (*p != '\0') {
        fail(err, errlen, text, "unexpected \"%c\" at the end", *p);
        goto fail;
    }
    if (build_display(url) != 0) {
        fail(err, errlen, text, "out of memory");
        goto fail;
    }
    return 0;
fail:
    rd_url_free(url);
    return -1;
}

void rd_url_free(rd_url_t *url)
{
    free(url->user);
    if (url->password != NULL)
        explicit_bzero(url->password, strlen(url->password));
    free(url->password);
    free(url->host);
    free(url->display);
    memset(url, 0, sizeof *url);
}
