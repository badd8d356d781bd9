/* arena.c - storage-postgres: an op's memory. Its inputs (copies of the
 * caller's strings, statement parameters in text form) and the structs of
 * its results live in chunks freed together with the op, so nothing is freed
 * piecemeal and pointers never move. Loop only. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

#define CHUNK_MIN 1024

struct pg_chunk_s {
    pg_chunk_t *next;
    size_t used, cap;
    /* data follows, 16-aligned */
    _Alignas(16) unsigned char data[];
};

void *pg_arena_alloc(pg_arena_t *a, size_t n)
{
    size_t need = (n + 7) & ~(size_t)7;
    if (need < n) { /* wrapped */
        a->oom = 1;
        return NULL;
    }
    pg_chunk_t *c = a->head;
    if (c == NULL || c->cap - c->used < need) {
        size_t cap = need > CHUNK_MIN ? need : CHUNK_MIN;
        if (c != NULL && c->cap * 2 > cap && c->cap < (1u << 20))
            cap = c->cap * 2; /* ops with many strings take few chunks */
        c = malloc(sizeof *c + cap);
        if (c == NULL) {
            a->oom = 1;
            return NULL;
        }
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += need;
    memset(p, 0, need);
    return p;
}

void pg_arena_free(pg_arena_t *a)
{
    pg_chunk_t *c = a->head;
    while (c != NULL) {
        pg_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

const char *pg_arena_str(pg_arena_t *a, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = pg_arena_alloc(a, n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

const char *pg_arena_u64(pg_arena_t *a, uint64_t v)
{
    /* bigint columns: a value above INT64_MAX could not have been stored
     * (ids), and clamping keeps comparisons meaningful. */
    if (v > (uint64_t)INT64_MAX)
        v = (uint64_t)INT64_MAX;
    char *d = pg_arena_alloc(a, 24);
    if (d != NULL)
        snprintf(d, 24, "%" PRIu64, v);
    return d;
}

/* Bytes of one quoted element: quotes, and a backslash before " and \. */
static size_t quoted_len(const char *s)
{
    size_t n = 2;
    for (; *s != '\0'; s++)
        n += (*s == '"' || *s == '\\') ? 2 : 1;
    return n;
}

const char *pg_arena_text_array(pg_arena_t *a, const char *const *items, size_t n)
{
    size_t len = 3; /* braces and NUL */
    for (size_t i = 0; i < n; i++)
        len += (items[i] != NULL ? quoted_len(items[i]) : 4) + 1;
    char *d = pg_arena_alloc(a, len);
    if (d == NULL)
        return NULL;
    char *p = d;
    *p++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            *p++ = ',';
        if (items[i] == NULL) {
            memcpy(p, "NULL", 4);
            p += 4;
            continue;
        }
        *p++ = '"';
        for (const char *s = items[i]; *s != '\0'; s++) {
            if (*s == '"' || *s == '\\')
                *p++ = '\\';
            *p++ = *s;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return d;
}

const char *pg_arena_u64_array(pg_arena_t *a, const uint64_t *v, size_t n)
{
    size_t len = 3 + n * 21;
    char *d = pg_arena_alloc(a, len);
    if (d == NULL)
        return NULL;
    char *p = d;
    *p++ = '{';
    for (size_t i = 0; i < n; i++) {
        uint64_t x = v[i] > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : v[i];
        p += snprintf(p, 22, "%s%" PRIu64, i > 0 ? "," : "", x);
    }
    *p++ = '}';
    *p = '\0';
    return d;
}
