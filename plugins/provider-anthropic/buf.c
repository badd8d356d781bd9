/* buf.c - provider-anthropic: a growable string, JSON string escaping and
 * the few json-c helpers every translation uses. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ant.h"

static int grow(ant_buf_t *b, size_t need)
{
    if (b->oom)
        return -1;
    if (b->len + need + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + need + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (d == NULL) {
        b->oom = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

void ant_buf_append(ant_buf_t *b, const char *s, size_t n)
{
    if (grow(b, n) != 0)
        return;
    if (n > 0)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ant_buf_puts(ant_buf_t *b, const char *s)
{
    ant_buf_append(b, s, strlen(s));
}

void ant_buf_printf(ant_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || grow(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ant_buf_json_str(ant_buf_t *b, const char *s, size_t n)
{
    ant_buf_append(b, "\"", 1);
    size_t run = 0; /* bytes copied as they are, in one append */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                snprintf(u, sizeof u, "\\u%04x", c);
                esc = u;
            }
        }
        if (esc == NULL) {
            run++;
            continue;
        }
        ant_buf_append(b, s + i - run, run);
        run = 0;
        ant_buf_puts(b, esc);
    }
    ant_buf_append(b, s + n - run, run);
    ant_buf_append(b, "\"", 1);
}

void ant_buf_clear(ant_buf_t *b, size_t keep)
{
    if (b->cap > keep) {
        free(b->data);
        b->data = NULL;
        b->cap = 0;
    }
    b->len = 0;
    b->oom = 0;
    if (b->data)
        b->data[0] = '\0';
}

void ant_buf_free(ant_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* ---- json-c ------------------------------------------------------------- */

json_object *ant_json_parse(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > INT32_MAX)
        return NULL;
    json_tokener *tok = json_tokener_new_ex(ANT_JSON_DEPTH);
    if (tok == NULL)
        return NULL;
    json_object *o = json_tokener_parse_ex(tok, s, (int)len);
    size_t used = json_tokener_get_parse_end(tok);
    int ok = json_tokener_get_error(tok) == json_tokener_success;
    json_tokener_free(tok);
    while (ok && used < len && (s[used] == ' ' || s[used] == '\t' || s[used] == '\r' ||
                                s[used] == '\n' || s[used] == '\0'))
        used++;
    if (!ok || used < len) { /* half a value, or something after it */
        json_object_put(o);
        return NULL;
    }
    return o;
}

json_object *ant_member(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o != NULL && json_object_is_type(o, json_type_object))
        json_object_object_get_ex(o, key, &v);
    return v;
}

const char *ant_str_member(json_object *o, const char *key)
{
    json_object *v = ant_member(o, key);
    return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                                 : NULL;
}

int ant_is(json_object *o, json_type type)
{
    return o != NULL && json_object_is_type(o, type);
}

int32_t ant_put(json_object *o, const char *key, json_object *v)
{
    if (json_object_object_add(o, key, v) != 0) {
        json_object_put(v);
        return OC_ENOMEM;
    }
    return OC_OK;
}

int32_t ant_push(json_object *a, json_object *v)
{
    if (v == NULL || json_object_array_add(a, v) != 0) {
        json_object_put(v);
        return OC_ENOMEM;
    }
    return OC_OK;
}

char *ant_json_dump(json_object *o, size_t *len)
{
    size_t n = 0;
    const char *text = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    char *copy = text ? malloc(n + 1) : NULL;
    if (copy == NULL)
        return NULL;
    memcpy(copy, text, n + 1);
    if (len)
        *len = n;
    return copy;
}
