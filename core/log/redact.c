/* log/redact.c - finds secrets in a line and masks them (rules in log.h).
 *
 * Every rule only records byte spans of the original text; the spans are then
 * sorted and merged and the output is written once. Working on spans (not by
 * rewriting the text rule after rule) means one rule's mask can never hide or
 * split what another rule must see, and overlapping secrets are masked as
 * one. */
#include "log/log_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LONG_SPAN 18 /* spans this long keep 4 + 2 bytes */

/* A span to mask. `full`: never reveal any byte of it (password-like values,
 * URL passwords, short values). */
typedef struct span_s {
    size_t start, end;
    int full;
} span_t;

typedef struct spans_s {
    span_t *v;
    size_t n, cap;
    span_t local[16];
    int oom;
} spans_t;

static void spans_add(spans_t *s, size_t start, size_t end, int full)
{
    if (end <= start)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap * 2;
        span_t *v;
        if (s->v == s->local) {
            v = malloc(cap * sizeof(*v));
            if (v != NULL)
                memcpy(v, s->local, sizeof(s->local));
        } else {
            v = realloc(s->v, cap * sizeof(*v));
        }
        if (v == NULL) {
            s->oom = 1;
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    if (end - start < LONG_SPAN)
        full = 1;
    s->v[s->n++] = (span_t){start, end, full};
}

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static int is_keychar(unsigned char c)
{
    return is_alnum(c) || c == '_' || c == '-' || c == '.';
}

/* Ends an unquoted value. */
static int is_value_end(unsigned char c)
{
    return is_space(c) || strchr("\"',;&)]}<>", c) != NULL || c == '\0';
}

/* ---- registered secrets ---------------------------------------------- */

static void find_registered(const char *s, size_t n, spans_t *sp)
{
    for (const gw_log_secret_t *sec = gw_log_secrets_head(); sec != NULL; sec = sec->next) {
        if (sec->len > n)
            continue;
        const char *p = s;
        size_t left = n;
        /* Step by one byte so that overlapping occurrences are all found. */
        while ((p = memmem(p, left, sec->value, sec->len)) != NULL) {
            size_t at = (size_t)(p - s);
            spans_add(sp, at, at + sec->len, 0);
            p++;
            left = n - (size_t)(p - s);
        }
    }
}

/* ---- key/value pairs -------------------------------------------------- */

enum { KEY_NONE, KEY_TOKEN, KEY_PASSWORD, KEY_HEADER };

/* Does k[0..n) end with `suffix` when '-', '_' and '.' are ignored and case
 * is folded? */
static int key_ends_with(const char *k, size_t n, const char *suffix)
{
    size_t i = n, j = strlen(suffix);
    while (j > 0) {
        while (i > 0 && (k[i - 1] == '-' || k[i - 1] == '_' || k[i - 1] == '.'))
            i--;
        if (i == 0)
            return 0;
        if (tolower((unsigned char)k[i - 1]) != suffix[j - 1])
            return 0;
        i--;
        j--;
    }
    return 1;
}

static int key_class(const char *k, size_t n)
{
    static const char *const header[] = {"authorization", "cookie"};
    static const char *const password[] = {"password", "passwd", "privatekey"};
    static const char *const token[] = {"apikey", "token", "secret"};
    for (size_t i = 0; i < sizeof(header) / sizeof(header[0]); i++)
        if (key_ends_with(k, n, header[i]))
            return KEY_HEADER;
    for (size_t i = 0; i < sizeof(password) / sizeof(password[0]); i++)
        if (key_ends_with(k, n, password[i]))
            return KEY_PASSWORD;
    for (size_t i = 0; i < sizeof(token) / sizeof(token[0]); i++)
        if (key_ends_with(k, n, token[i]))
            return KEY_TOKEN;
    return KEY_NONE;
}

static int word_at_ci(const char *s, size_t n, size_t at, const char *w)
{
    size_t wl = strlen(w);
    return at + wl <= n && strncasecmp(s + at, w, wl) == 0;
}

/* Length of an auth scheme word followed by spaces at s[at..], or 0. The
 * scheme names the kind of credential, not the credential, so it is kept. */
static size_t auth_scheme_len(const char *s, size_t n, size_t at)
{
    static const char *const schemes[] = {"bearer", "basic", "bot", "token", "digest",
                                          "negotiate", "apikey", "key", "dpop"};
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t wl = strlen(schemes[i]);
        if (word_at_ci(s, n, at, schemes[i]) && at + wl < n &&
            (s[at + wl] == ' ' || s[at + wl] == '\t')) {
            size_t j = at + wl;
            while (j < n && (s[j] == ' ' || s[j] == '\t'))
                j++;
            return j - at;
        }
    }
    return 0;
}

/* After a sensitive key ending at `i`: skip a closing quote, the separator
 * and an opening quote, then record the value. Returns where scanning goes
 * on. */
static size_t take_value(const char *s, size_t n, size_t i, int cls, spans_t *sp)
{
    /* Closing quote of a quoted key, possibly escaped (\" in escaped JSON). */
    size_t j = i;
    while (j < n && s[j] == '\\')
        j++;
    if (j < n && (s[j] == '"' || s[j] == '\''))
        i = j + 1;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i >= n)
        return i;
    if (s[i] == '=' && i + 1 < n && s[i + 1] == '>')
        i += 2;
    else if (s[i] == ':' && i + 1 < n && s[i + 1] == '=')
        i += 2;
    else if (s[i] == '=' || s[i] == ':')
        i += 1;
    else
        return i;
    /* "scheme://" after "key:" is a URL, not a value; leave it to the URL rule. */
    if (s[i - 1] == ':' && i + 1 < n && s[i] == '/' && s[i + 1] == '/')
        return i;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i >= n)
        return i;

    size_t bs = 0;
    while (i + bs < n && s[i + bs] == '\\')
        bs++;
    size_t start, end;
    if (i + bs < n && (s[i + bs] == '"' || s[i + bs] == '\'')) {
        char q = s[i + bs];
        start = i + bs + 1;
        end = start;
        if (bs == 0 && q == '"') {
            /* A JSON string: \" inside does not end it. */
            while (end < n && s[end] != '"') {
                if (s[end] == '\\' && end + 1 < n)
                    end++;
                end++;
            }
        } else {
            while (end < n && s[end] != q)
                end++;
            /* The backslashes escaping the closing quote belong to it. */
            while (bs > 0 && end > start && s[end - 1] == '\\')
                end--;
        }
    } else {
        start = i;
        if (s[i] == '{' || s[i] == '[')
            return i; /* an object: its own keys are scanned */
        end = start;
        if (cls == KEY_HEADER) {
            while (end < n && s[end] != '\r' && s[end] != '\n')
                end++;
        } else {
            /* A password may hold any punctuation: only whitespace, a quote
             * or '&' (next query parameter) ends it. */
            while (end < n && (cls == KEY_PASSWORD ? !is_space((unsigned char)s[end]) &&
                                                         strchr("\"'&", s[end]) == NULL
                                                   : !is_value_end((unsigned char)s[end])))
                end++;
            size_t len = end - start;
            if ((len == 4 && strncmp(s + start, "null", 4) == 0) ||
                (len == 4 && strncmp(s + start, "true", 4) == 0) ||
                (len == 5 && strncmp(s + start, "false", 5) == 0))
                return end;
        }
    }
    if (cls == KEY_HEADER)
        start += auth_scheme_len(s, end, start);
    spans_add(sp, start, end, cls == KEY_PASSWORD);
    return end;
}

static void find_keys(const char *s, size_t n, spans_t *sp)
{
    size_t i = 0;
    while (i < n) {
        if (!is_keychar((unsigned char)s[i]) || (i > 0 && is_keychar((unsigned char)s[i - 1]))) {
            i++;
            continue;
        }
        size_t k = i;
        while (i < n && is_keychar((unsigned char)s[i]))
            i++;
        int cls = key_class(s + k, i - k);
        if (cls != KEY_NONE)
            i = take_value(s, n, i, cls, sp);
    }
}

/* ---- Bearer <token> --------------------------------------------------- */

static void find_bearer(const char *s, size_t n, spans_t *sp)
{
    for (size_t i = 0; i + 6 < n; i++) {
        if ((s[i] != 'b' && s[i] != 'B') || (i > 0 && is_alnum((unsigned char)s[i - 1])) ||
            strncasecmp(s + i, "bearer", 6) != 0)
            continue;
        size_t j = i + 6;
        if (j >= n || (s[j] != ' ' && s[j] != '\t'))
            continue;
        while (j < n && (s[j] == ' ' || s[j] == '\t'))
            j++;
        size_t end = j;
        while (end < n && !is_value_end((unsigned char)s[end]))
            end++;
        spans_add(sp, j, end, 0);
        i = end > i ? end - 1 : i;
    }
}

/* ---- scheme://user:password@host -------------------------------------- */

static void find_url_credentials(const char *s, size_t n, spans_t *sp)
{
    const char *p = s;
    size_t left = n;
    while (left >= 3 && (p = memmem(p, left, "://", 3)) != NULL) {
        size_t at = (size_t)(p - s);
        p += 3;
        left = n - (size_t)(p - s);
        if (at == 0 || !isalpha((unsigned char)s[at - 1]))
            continue;
        size_t a = at + 3, e = a, last_at = SIZE_MAX;
        while (e < n && !is_space((unsigned char)s[e]) && strchr("/?#\"'<>", s[e]) == NULL) {
            if (s[e] == '@')
                last_at = e;
            e++;
        }
        if (last_at == SIZE_MAX)
            continue;
        const char *colon = memchr(s + a, ':', last_at - a);
        if (colon != NULL)
            spans_add(sp, (size_t)(colon - s) + 1, last_at, 1);
        else if (last_at - a >= 20)
            spans_add(sp, a, last_at, 0);
    }
}

/* ---- token shapes ----------------------------------------------------- */

enum { CS_KEY, CS_SLACK, CS_ALNUM, CS_ALNUM_US, CS_JWT };

static int in_charset(unsigned char c, int cs)
{
    switch (cs) {
    case CS_KEY: return is_alnum(c) || c == '_' || c == '-';
    case CS_SLACK: return is_alnum(c) || c == '-';
    case CS_ALNUM: return is_alnum(c);
    case CS_ALNUM_US: return is_alnum(c) || c == '_';
    case CS_JWT: return is_alnum(c) || c == '_' || c == '-' || c == '.';
    }
    return 0;
}

static const struct {
    const char *prefix;
    int cs;
    size_t min_tail;
} shapes[] = {
    {"sk-", CS_KEY, 10},        /* OpenAI sk-..., sk-proj-..., Anthropic sk-ant-... */
    {"xoxb-", CS_SLACK, 10},    {"xoxp-", CS_SLACK, 10}, {"xoxa-", CS_SLACK, 10},
    {"xoxr-", CS_SLACK, 10},    {"xoxs-", CS_SLACK, 10}, {"xoxe-", CS_SLACK, 10},
    {"xapp-", CS_SLACK, 10},    {"ghp_", CS_ALNUM, 20},  {"gho_", CS_ALNUM, 20},
    {"ghu_", CS_ALNUM, 20},     {"ghs_", CS_ALNUM, 20},  {"ghr_", CS_ALNUM, 20},
    {"github_pat_", CS_ALNUM_US, 20}, {"AIza", CS_KEY, 30}, {"eyJ", CS_JWT, 30},
};

static void find_shapes(const char *s, size_t n, spans_t *sp)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        unsigned char prev = i > 0 ? (unsigned char)s[i - 1] : ' ';
        /* Telegram bot token: 6+ digits ':' 30+ of [A-Za-z0-9_-]. Any
         * non-digit may precede it: URLs spell it /bot<token>/. */
        if (c >= '0' && c <= '9' && !(prev >= '0' && prev <= '9')) {
            size_t j = i;
            while (j < n && s[j] >= '0' && s[j] <= '9')
                j++;
            if (j - i >= 6 && j < n && s[j] == ':') {
                size_t e = j + 1;
                while (e < n && in_charset((unsigned char)s[e], CS_KEY))
                    e++;
                if (e - (j + 1) >= 30) {
                    spans_add(sp, i, e, 0);
                    i = e - 1;
                    continue;
                }
            }
            continue;
        }
        if (is_alnum(prev))
            continue;
        for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
            size_t pl = strlen(shapes[k].prefix);
            if (c != (unsigned char)shapes[k].prefix[0] || i + pl > n ||
                memcmp(s + i, shapes[k].prefix, pl) != 0)
                continue;
            size_t e = i + pl;
            while (e < n && in_charset((unsigned char)s[e], shapes[k].cs))
                e++;
            if (e - (i + pl) < shapes[k].min_tail)
                continue;
            if (shapes[k].cs == CS_JWT) {
                while (e > i && s[e - 1] == '.')
                    e--; /* a sentence's full stop */
                if (memchr(s + i, '.', e - i) == NULL)
                    continue;
            }
            spans_add(sp, i, e, 0);
            i = e - 1;
            break;
        }
    }
}

/* ---- output ----------------------------------------------------------- */

static int span_cmp(const void *a, const void *b)
{
    const span_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int printable_ascii(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f)
            return 0;
    return 1;
}

int gw_redact(const char *in, size_t len, gw_buf_t *out)
{
    spans_t sp = {.v = NULL, .n = 0, .cap = 16, .oom = 0};
    sp.v = sp.local;
    find_registered(in, len, &sp);
    find_keys(in, len, &sp);
    find_bearer(in, len, &sp);
    find_url_credentials(in, len, &sp);
    find_shapes(in, len, &sp);

    int rc = 0;
    if (sp.oom) {
        rc = -ENOMEM;
        goto out;
    }
    if (sp.n == 0) {
        rc = gw_buf_append(out, in, len) == 0 ? 0 : -ENOMEM;
        goto out;
    }
    qsort(sp.v, sp.n, sizeof(span_t), span_cmp);
    size_t pos = 0, i = 0, count = 0;
    while (i < sp.n) {
        /* Merge every span that overlaps or touches this one. */
        size_t start = sp.v[i].start, end = sp.v[i].end, first = i;
        for (i++; i < sp.n && sp.v[i].start <= end; i++)
            if (sp.v[i].end > end)
                end = sp.v[i].end;
        /* Keep 4 + 2 bytes only when no constituent that must stay fully
         * hidden reaches into them. */
        int reveal = end - start >= LONG_SPAN && printable_ascii(in + start, 4) &&
                     printable_ascii(in + end - 2, 2);
        for (size_t k = first; k < i && reveal; k++)
            if (sp.v[k].full && (sp.v[k].start < start + 4 || sp.v[k].end > end - 2))
                reveal = 0;
        if (gw_buf_append(out, in + pos, start - pos) != 0) {
            rc = -ENOMEM;
            goto out;
        }
        int e = reveal ? gw_buf_append(out, in + start, 4) | gw_buf_puts(out, "***") |
                             gw_buf_append(out, in + end - 2, 2)
                       : gw_buf_puts(out, "***");
        if (e != 0) {
            rc = -ENOMEM;
            goto out;
        }
        pos = end;
        count++;
    }
    if (gw_buf_append(out, in + pos, len - pos) != 0) {
        rc = -ENOMEM;
        goto out;
    }
    rc = (int)count;
out:
    if (sp.v != sp.local)
        free(sp.v);
    return rc;
}

char *gw_redact_str(const char *s)
{
    gw_buf_t b = GW_BUF_INIT;
    if (gw_redact(s, strlen(s), &b) < 0) {
        gw_buf_free(&b);
        return NULL;
    }
    return gw_buf_steal(&b);
}
