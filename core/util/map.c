/* util/map.c - see map.h. */
#include "util/map.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct gw_map_entry_s {
    gw_map_entry_t *next;
    void *value;
    char key[]; /* NUL-terminated */
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static gw_map_entry_t **slot(const gw_map_t *m, const char *key)
{
    gw_map_entry_t **p = &m->buckets[hash(key) & (m->nbuckets - 1)];
    while (*p && strcmp((*p)->key, key) != 0)
        p = &(*p)->next;
    return p;
}

void *gw_map_get(const gw_map_t *m, const char *key)
{
    if (m->count == 0)
        return NULL;
    gw_map_entry_t *e = *slot(m, key);
    return e ? e->value : NULL;
}

static int grow(gw_map_t *m)
{
    size_t n = m->nbuckets ? m->nbuckets * 2 : 16;
    gw_map_entry_t **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < m->nbuckets; i++) {
        gw_map_entry_t *e = m->buckets[i];
        while (e) {
            gw_map_entry_t *next = e->next;
            size_t k = hash(e->key) & (n - 1);
            e->next = b[k];
            b[k] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
    return 0;
}

int gw_map_set(gw_map_t *m, const char *key, void *value)
{
    if (m->count >= m->nbuckets && grow(m) != 0 && m->nbuckets == 0)
        return -ENOMEM;
    gw_map_entry_t **p = slot(m, key);
    if (*p) {
        (*p)->value = value;
        return 0;
    }
    size_t kl = strlen(key);
    gw_map_entry_t *e = malloc(sizeof(*e) + kl + 1);
    if (e == NULL)
        return -ENOMEM;
    memcpy(e->key, key, kl + 1);
    e->value = value;
    e->next = NULL;
    *p = e;
    m->count++;
    return 0;
}

void *gw_map_remove(gw_map_t *m, const char *key)
{
    if (m->count == 0)
        return NULL;
    gw_map_entry_t **p = slot(m, key);
    gw_map_entry_t *e = *p;
    if (e == NULL)
        return NULL;
    *p = e->next;
    void *v = e->value;
    free(e);
    m->count--;
    return v;
}

void gw_map_each(const gw_map_t *m, void (*fn)(const char *key, void *value, void *arg),
                 void *arg)
{
    for (size_t i = 0; i < m->nbuckets; i++)
        for (gw_map_entry_t *e = m->buckets[i]; e; e = e->next)
            fn(e->key, e->value, arg);
}

void gw_map_free(gw_map_t *m)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        gw_map_entry_t *e = m->buckets[i];
        while (e) {
            gw_map_entry_t *next = e->next;
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    memset(m, 0, sizeof(*m));
}
