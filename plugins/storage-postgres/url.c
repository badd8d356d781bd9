/* url.c - storage-postgres: storage.url, a postgresql:// or postgres:// URI
 * (RFC 3986 shape, as libpq documents it): user, password, one host (a name,
 * an IPv4 address, [an IPv6 address] or a percent-encoded socket directory),
 * port, dbname and query parameters passed to libpq. libpq key=value
 * strings are refused: one form keeps redaction and messages simple.
 *
 * Every message names what is wrong and how to fix it, quoting the URL with
 * its secrets written as "***". No I/O (init calls this). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

#define REDACTED "***"

/* Query parameters whose value is a secret. */
static int secret_param(const char *key)
{
    return strcmp(key, "password") == 0 || strcmp(key, "sslpassword") == 0;
}

/* Parts the URL itself carries: a duplicate in the query is ambiguous. */
static const char *const url_parts[] = {"host", "hostaddr", "port", "dbname", "user"};

/* Values libpq accepts for sslmode (checked here: libpq would refuse them only
 * when connecting). */
static const char *const sslmodes[] = {"disable", "allow",     "prefer",
                                       "require", "verify-ca", "verify-full"};

typedef struct parse_s {
    const char *url;
    char *err;
    size_t errlen;
    const char *redacted; /* for messages */
} parse_t;

static int fail(parse_t *p, const char *fmt, ...) OC_PRINTF(2, 3);

static int fail(parse_t *p, const char *fmt, ...)
{
    char what[PG_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (p->redacted != NULL)
        snprintf(p->err, p->errlen, "url \"%s\": %s", p->redacted, what);
    else
        snprintf(p->err, p->errlen, "url: %s", what);
    return -1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode s[0..n) into a new string; NULL (with a message) when an
 * escape is malformed or decodes to a NUL byte. */
static char *decode(parse_t *p, const char *s, size_t n, const char *what)
{
    char *out = malloc(n + 1);
    if (out == NULL) {
        fail(p, "out of memory");
        return NULL;
    }
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[j++] = s[i];
            continue;
        }
        int hi = i + 1 < n ? hexval((unsigned char)s[i + 1]) : -1;
        int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            fail(p, "bad percent-encoding in the %s: write a literal %% as %%25", what);
            return NULL;
        }
        out[j++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[j] = '\0';
    return out;
}

/* The URL with the password (userinfo and query) replaced. */
static char *redact(const char *url, const char *pw_start, size_t pw_len, const char *query)
{
    size_t n = strlen(url);
    char *out = malloc(n + 64 + (query != NULL ? n * 4 : 0));
    if (out == NULL)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n;) {
        if (pw_start != NULL && url + i == pw_start) {
            memcpy(out + j, REDACTED, 3);
            j += 3;
            i += pw_len;
            continue;
        }
        if (query != NULL && url + i >= query) {
            /* Parameters: copy "key=", then the value or "***". */
            const char *k = url + i;
            size_t klen = strcspn(k, "=&");
            memcpy(out + j, k, klen);
            j += klen;
            i += klen;
            if (url[i] == '=') {
                out[j++] = '=';
                i++;
                size_t vlen = strcspn(url + i, "&");
                char key[64];
                snprintf(key, sizeof key, "%.*s", (int)(klen < 63 ? klen : 63), k);
                if (secret_param(key)) {
                    memcpy(out + j, REDACTED, 3);
                    j += 3;
                } else {
                    memcpy(out + j, url + i, vlen);
                    j += vlen;
                }
                i += vlen;
            }
            if (url[i] == '&')
                out[j++] = url[i++];
            continue;
        }
        out[j++] = url[i++];
    }
    out[j] = '\0';
    return out;
}

static int host_char_ok(int c)
{
    return isalnum(c) || c == '.' || c == '-' || c == '_' || c == '%';
}

/* host[:port] or [v6][:port]; fills u->host / u->port. */
static int parse_hostport(parse_t *p, pg_url_t *u, const char *s, size_t n)
{
    const char *port = NULL;
    size_t hlen;
    const char *h = s;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (close == NULL)
            return fail(p, "bad host: \"[\" without \"]\"; write an IPv6 address as [::1]");
        h = s + 1;
        hlen = (size_t)(close - h);
        size_t rest = n - (size_t)(close + 1 - s);
        if (rest > 0) {
            if (close[1] != ':')
                return fail(p, "bad host: unexpected text after \"]\"");
            port = close + 2;
        }
        char addr[64];
        unsigned char bin[16];
        if (hlen == 0 || hlen >= sizeof addr)
            return fail(p, "bad host: empty or overlong IPv6 address");
        memcpy(addr, h, hlen);
        addr[hlen] = '\0';
        char *zone = strchr(addr, '%');
        if (zone != NULL)
            *zone = '\0';
        if (inet_pton(AF_INET6, addr, bin) != 1)
            return fail(p, "bad host: \"%.*s\" is not an IPv6 address", (int)hlen, h);
    } else {
        const char *colon = memchr(s, ':', n);
        hlen = colon != NULL ? (size_t)(colon - s) : n;
        if (colon != NULL)
            port = colon + 1;
        for (size_t i = 0; i < hlen; i++) {
            if (!host_char_ok((unsigned char)s[i]))
                return fail(p,
                            "bad host \"%.*s\": '%c' is not allowed in a host name (an IPv6 "
                            "address goes in brackets, a socket directory percent-encoded)",
                            (int)hlen, s, isprint((unsigned char)s[i]) ? s[i] : '?');
        }
        if (hlen == 0 && port != NULL)
            return fail(p, "bad host: a port without a host; write host:port");
    }
    if (hlen > 0) {
        u->host = decode(p, h, hlen, "host");
        if (u->host == NULL)
            return -1;
        if (u->host[0] != '/' && strchr(u->host, '/') != NULL)
            return fail(p, "bad host \"%s\": only a socket directory (starting with /) may "
                           "contain a slash", u->host);
    }
    if (port != NULL) {
        size_t plen = n - (size_t)(port - s);
        char digits[8];
        unsigned long v = 0;
        int ok = plen > 0 && plen < sizeof digits;
        for (size_t i = 0; ok && i < plen; i++)
            ok = isdigit((unsigned char)port[i]);
        if (ok) {
            memcpy(digits, port, plen);
            digits[plen] = '\0';
            v = strtoul(digits, NULL, 10);
        }
        if (!ok || v < 1 || v > 65535)
            return fail(p, "bad port \"%.*s\": a port is a number from 1 to 65535",
                        (int)(plen > 32 ? 32 : plen), port);
        u->port = strdup(digits);
        if (u->port == NULL)
            return fail(p, "out of memory");
    }
    if (u->host != NULL && u->host[0] != '/') {
        unsigned char bin[16];
        char addr[64];
        snprintf(addr, sizeof addr, "%s", u->host);
        char *zone = strchr(addr, '%');
        if (zone != NULL)
            *zone = '\0';
        u->host_is_name =
            inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1;
    }
    return 0;
}

static int add_param(parse_t *p, pg_url_t *u, const char *s, size_t n)
{
    const char *eq = memchr(s, '=', n);
    if (eq == NULL || eq == s)
        return fail(p, "bad query parameter \"%.*s\": write key=value", (int)(n > 40 ? 40 : n),
                    s);
    char *key = decode(p, s, (size_t)(eq - s), "query");
    if (key == NULL)
        return -1;
    char *val = decode(p, eq + 1, n - (size_t)(eq + 1 - s), "query");
    if (val == NULL) {
        free(key);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < sizeof url_parts / sizeof url_parts[0] && rc == 0; i++)
        if (strcmp(key, url_parts[i]) == 0)
            rc = fail(p, "query parameter \"%s\" is not accepted: write it in the URL itself "
                         "(postgresql://user:password@host:port/dbname)", key);
    if (rc == 0 && strcmp(key, "password") == 0 && u->password != NULL)
        rc = fail(p, "the password is given twice (in the URL and as ?password=)");
    if (rc == 0 && strcmp(key, "sslmode") == 0) {
        int ok = 0;
        for (size_t i = 0; i < sizeof sslmodes / sizeof sslmodes[0]; i++)
            ok |= strcmp(val, sslmodes[i]) == 0;
        if (!ok)
            rc = fail(p, "sslmode \"%s\" is not one of disable, allow, prefer, require, "
                         "verify-ca, verify-full", val);
    }
    for (size_t i = 0; rc == 0 && i < u->nparams; i++)
        if (strcmp(u->keys[i], key) == 0)
            rc = fail(p, "query parameter \"%s\" is given twice", key);
    if (rc == 0 && u->nparams >= PG_URL_PARAMS_MAX)
        rc = fail(p, "too many query parameters (at most %d)", PG_URL_PARAMS_MAX);
    if (rc != 0) {
        free(key);
        free(val);
        return rc;
    }
    u->keys[u->nparams] = key;
    u->vals[u->nparams] = val;
    u->nparams++;
    return 0;
}

/* libpq's own parser checks the parameter names (and anything we let by). */
static int libpq_check(parse_t *p, const pg_url_t *u)
{
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(p->url, &msg);
    if (opts != NULL) {
        PQconninfoFree(opts);
        return 0;
    }
    char line[PG_TEXT_MAX];
    snprintf(line, sizeof line, "%s", msg != NULL ? msg : "libpq cannot parse it");
    PQfreemem(msg);
    line[strcspn(line, "\n")] = '\0';
    pg_url_scrub(u, line, sizeof line);
    return fail(p, "%s (see the libpq connection parameters)", line);
}

static int parse(parse_t *p, pg_url_t *u)
{
    const char *url = p->url;
    if (url[0] == '\0')
        return fail(p, "empty; write postgresql://user:password@host:port/dbname");
    const char *sep = strstr(url, "://");
    if (sep == NULL) {
        if (strchr(url, '=') != NULL)
            return fail(p, "libpq key=value strings are not accepted: write a URL, "
                           "postgresql://user:password@host:port/dbname?sslmode=disable");
        return fail(p, "not a URL; write postgresql://user:password@host:port/dbname");
    }
    size_t slen = (size_t)(sep - url);
    /* Lower case only: libpq recognises nothing else. */
    if (!((slen == 10 && strncmp(url, "postgresql", 10) == 0) ||
          (slen == 8 && strncmp(url, "postgres", 8) == 0)))
        return fail(p, "unsupported scheme \"%.*s\": use postgresql:// or postgres:// (lower case)",
                    (int)(slen > 20 ? 20 : slen), url);
    for (const char *c = url; *c != '\0'; c++)
        if (isspace((unsigned char)*c) || iscntrl((unsigned char)*c))
            return fail(p, "contains a space or control character; percent-encode it (%%20)");
    if (strchr(url, '#') != NULL)
        return fail(p, "a fragment (#...) has no meaning here; percent-encode a literal # "
                       "as %%23");

    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            at = auth + i; /* the last one: a password may not contain a raw @ anyway */
    const char *hp = auth;
    if (at != NULL) {
        size_t ulen = (size_t)(at - auth);
        const char *colon = memchr(auth, ':', ulen);
        size_t namelen = colon != NULL ? (size_t)(colon - auth) : ulen;
        if (memchr(auth, '@', ulen) != NULL)
            return fail(p, "an @ in the user or password must be percent-encoded as %%40");
        if (namelen > 0 && (u->user = decode(p, auth, namelen, "user name")) == NULL)
            return -1;
        if (colon != NULL &&
            (u->password = decode(p, colon + 1, ulen - namelen - 1, "password")) == NULL)
            return -1;
        hp = at + 1;
    }
    size_t hplen = alen - (size_t)(hp - auth);
    if (memchr(hp, ',', hplen) != NULL)
        return fail(p, "several hosts are not supported: name one host (a DNS name or a "
                       "proxy in front of the servers)");
    if (parse_hostport(p, u, hp, hplen) != 0)
        return -1;

    const char *rest = auth + alen;
    if (*rest == '/') {
        size_t dlen = strcspn(rest + 1, "?");
        if (dlen > 0 && (u->dbname = decode(p, rest + 1, dlen, "database name")) == NULL)
            return -1;
        rest += 1 + dlen;
    }
    if (*rest == '?') {
        const char *q = rest + 1;
        while (*q != '\0') {
            size_t n = strcspn(q, "&");
            if (n > 0 && add_param(p, u, q, n) != 0)
                return -1;
            q += n;
            if (*q == '&')
                q++;
        }
    }
    return libpq_check(p, u);
}

int pg_url_parse(const char *url, pg_url_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    parse_t p = {.url = url != NULL ? url : "", .err = err, .errlen = errlen};
    err[0] = '\0';

    /* Locate the secrets first, so every later message can quote the URL. */
    const char *s = strstr(p.url, "://");
    const char *pw = NULL, *query = NULL;
    size_t pwlen = 0;
    if (s != NULL) {
        const char *auth = s + 3;
        size_t alen = strcspn(auth, "/?");
        const char *at = NULL;
        for (size_t i = 0; i < alen; i++)
            if (auth[i] == '@')
                at = auth + i;
        if (at != NULL) {
            const char *colon = memchr(auth, ':', (size_t)(at - auth));
            if (colon != NULL) {
                pw = colon + 1;
                pwlen = (size_t)(at - pw);
            }
        }
        query = strchr(auth, '?');
        if (query != NULL)
            query++;
    }
    out->redacted = redact(p.url, pw, pwlen, query);
    if (out->redacted == NULL) {
        snprintf(err, errlen, "url: out of memory");
        return -1;
    }
    p.redacted = s != NULL ? out->redacted : NULL;
    if (parse(&p, out) != 0) {
        pg_url_free(out);
        return -1;
    }
    return 0;
}

void pg_url_free(pg_url_t *u)
{
    free(u->user);
    if (u->password != NULL) {
        memset(u->password, 0, strlen(u->password));
        free(u->password);
    }
    free(u->host);
    free(u->port);
    free(u->dbname);
    for (size_t i = 0; i < u->nparams; i++) {
        if (secret_param(u->keys[i]))
            memset(u->vals[i], 0, strlen(u->vals[i]));
        free(u->keys[i]);
        free(u->vals[i]);
    }
    free(u->redacted);
    memset(u, 0, sizeof *u);
}

/* Copy text into a scratch buffer with each `secret` replaced, then back. */
static void scrub_one(const char *secret, char *text, size_t size)
{
    size_t n = secret != NULL ? strlen(secret) : 0;
    if (n == 0 || strstr(text, secret) == NULL)
        return;
    char *out = malloc(size);
    if (out == NULL) { /* never leave the secret in place */
        snprintf(text, size, "(message withheld: it contained a secret)");
        return;
    }
    size_t j = 0;
    for (const char *s = text; *s != '\0' && j + 1 < size;) {
        if (strncmp(s, secret, n) == 0) {
            for (int k = 0; k < 3 && j + 1 < size; k++)
                out[j++] = '*';
            s += n;
        } else {
            out[j++] = *s++;
        }
    }
    out[j] = '\0';
    memcpy(text, out, j + 1);
    free(out);
}

void pg_url_scrub(const pg_url_t *u, char *text, size_t size)
{
    if (text == NULL || size == 0)
        return;
    scrub_one(u->password, text, size);
    for (size_t i = 0; i < u->nparams; i++)
        if (secret_param(u->keys[i]))
            scrub_one(u->vals[i], text, size);
}
