/* config/expand.c - ${VAR} and ${VAR:-default} in configuration strings. */
#include "config/expand.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Defaults may hold references themselves; bound the nesting. */
#define MAX_DEPTH 8

static int is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Index of the '}' closing the "${" at s[0], or -1. */
static long closing_brace(const char *s, size_t n)
{
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '$' && i + 1 < n && s[i + 1] == '$') {
            i++;
        } else if (s[i] == '$' && i + 1 < n && s[i + 1] == '{') {
            depth++;
            i++;
        } else if (s[i] == '}' && --depth == 0) {
            return (long)i;
        }
    }
    return -1;
}

static int expand_into(gw_buf_t *b, const char *s, size_t n, gw_buf_t *why, int depth);

/* Expands the reference s[0..n) = "${...}". */
static int expand_ref(gw_buf_t *b, const char *s, size_t n, gw_buf_t *why, int depth)
{
    const char *body = s + 2;
    size_t blen = n - 3;
    size_t k = 0;
    if (blen == 0 || !is_name_start(body[0])) {
        gw_buf_printf(why, "invalid reference %.*s: a variable name starts with a letter "
                      "or _ (write $$ for a literal $)", (int)n, s);
        return -EINVAL;
    }
    while (k < blen && is_name_char(body[k]))
        k++;
    int has_default = 0;
    if (k < blen) {
        if (blen - k < 2 || body[k] != ':' || body[k + 1] != '-') {
            gw_buf_printf(why, "unsupported reference %.*s (use ${VAR} or ${VAR:-default})",
                          (int)n, s);
            return -EINVAL;
        }
        has_default = 1;
    }
    char name[256];
    if (k >= sizeof(name)) {
        gw_buf_printf(why, "variable name too long in %.40s...", s);
        return -EINVAL;
    }
    memcpy(name, body, k);
    name[k] = '\0';
    const char *v = getenv(name);
    if (v && (*v || !has_default))
        return gw_buf_puts(b, v);
    if (has_default)
        return expand_into(b, body + k + 2, blen - k - 2, why, depth + 1);
    gw_buf_printf(why, "environment variable %s is not set (set it, or write ${%s:-default})",
                  name, name);
    return -EINVAL;
}

static int expand_into(gw_buf_t *b, const char *s, size_t n, gw_buf_t *why, int depth)
{
    if (depth > MAX_DEPTH) {
        gw_buf_printf(why, "${...} references nested more than %d deep", MAX_DEPTH);
        return -EINVAL;
    }
    size_t i = 0;
    while (i < n) {
        const char *dollar = memchr(s + i, '$', n - i);
        size_t lit = dollar ? (size_t)(dollar - (s + i)) : n - i;
        if (gw_buf_append(b, s + i, lit) != 0)
            return -ENOMEM;
        i += lit;
        if (i >= n)
            break;
        if (i + 1 < n && s[i + 1] == '$') {
            if (gw_buf_putc(b, '$') != 0)
                return -ENOMEM;
            i += 2;
        } else if (i + 1 < n && s[i + 1] == '{') {
            long end = closing_brace(s + i, n - i);
            if (end < 0) {
                gw_buf_puts(why, "unterminated ${ (add the closing }, or write $$ for a "
                            "literal $)");
                return -EINVAL;
            }
            int rc = expand_ref(b, s + i, (size_t)end + 1, why, depth);
            if (rc != 0)
                return rc;
            i += (size_t)end + 1;
        } else {
            if (gw_buf_putc(b, '$') != 0)
                return -ENOMEM;
            i++;
        }
    }
    return 0;
}

int gw_cfg_expand(const char *in, char **out, gw_buf_t *why)
{
    gw_buf_t b = GW_BUF_INIT;
    *out = NULL;
    int rc = expand_into(&b, in, strlen(in), why, 0);
    if (rc == 0 && gw_buf_reserve(&b, 0) != 0)
        rc = -ENOMEM;
    if (rc != 0) {
        gw_buf_free(&b);
        return rc;
    }
    *out = gw_buf_steal(&b);
    return *out ? 0 : -ENOMEM;
}
