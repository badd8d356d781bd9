/* metrics/metrics.c - registry, families, series and their updates.
 * The locking scheme is described in metrics_int.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics_int.h"

#define CACHE_LINE 64

/* 0.5 ms .. 10 s: from a fast proxied request to a slow model call. */
static const double default_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                         0.1,    0.25,  0.5,    1,     2.5,  5,     10};

static uint64_t d2u(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double u2d(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* There is no atomic double add: CAS on the bit pattern. */
static void atomic_add_double(_Atomic uint64_t *a, double v)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, d2u(u2d(old) + v), memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

static const char *value_at(const char *const *vals, size_t i)
{
    return vals != NULL && vals[i] != NULL ? vals[i] : "";
}

/* FNV-1a over the values, each followed by 0xff (never in UTF-8, so
 * {"ab",""} and {"a","b"} differ), with a final mix for the low bits the
 * table mask uses. */
static uint64_t hash_values(const char *const *vals, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        for (const unsigned char *p = (const unsigned char *)value_at(vals, i); *p; p++)
            h = (h ^ *p) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    }
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

static int key_equal(const gw_series_t *s, const char *const *vals, size_t n)
{
    const char *k = s->key;
    for (size_t i = 0; i < n; i++) {
        const char *v = value_at(vals, i);
        while (*k != '\0' && *k == *v) {
            k++;
            v++;
        }
        if (*k != *v)
            return 0;
        k++;
    }
    return 1;
}

static gw_series_t *table_find(const gw_series_table_t *t, const char *const *vals, size_t n,
                               uint64_t h)
{
    /* The table is never more than half full, so an empty slot ends the probe. */
    for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
        gw_series_t *s = atomic_load_explicit(&t->slots[i], memory_order_acquire);
        if (s == NULL)
            return NULL;
        if (s->hash == h && key_equal(s, vals, n))
            return s;
    }
}

static void table_put(gw_series_table_t *t, gw_series_t *s)
{
    size_t i = s->hash & t->mask;
    while (atomic_load_explicit(&t->slots[i], memory_order_relaxed) != NULL)
        i = (i + 1) & t->mask;
    atomic_store_explicit(&t->slots[i], s, memory_order_release);
}

static gw_series_table_t *table_new(size_t slots)
{
    gw_series_table_t *t = calloc(1, sizeof *t + slots * sizeof t->slots[0]);
    if (t != NULL)
        t->mask = slots - 1;
    return t;
}

/* One cache-line-aligned block: the series, its bucket counts, the raw key
 * and the rendered labels. Aligned so that two hot series never share a
 * line. vals == NULL makes an unlabelled series (or a sink). */
static gw_series_t *series_alloc(gw_metric_t *m, const char *const *vals, uint64_t h, int sink)
{
    gw_buf_t labels = GW_BUF_INIT;
    size_t keylen = 0;
    for (size_t i = 0; vals != NULL && i < m->nlabels; i++) {
        const char *v = value_at(vals, i);
        keylen += strlen(v) + 1;
        if ((i > 0 && gw_buf_putc(&labels, ',') != 0) ||
            gw_buf_printf(&labels, "%s=\"", m->label_names[i]) != 0 ||
            gw_metrics_escape(&labels, v, GW_ESC_TEXT | GW_ESC_QUOTE) != 0 ||
            gw_buf_putc(&labels, '"') != 0) {
            gw_buf_free(&labels);
            return NULL;
        }
    }
    size_t ncounts = m->type == OC_METRIC_HISTOGRAM && !sink ? m->nbounds + 1 : 0;
    size_t head = sizeof(gw_series_t) + ncounts * sizeof(uint64_t);
    size_t total = head + keylen + labels.len + 1;
    total = (total + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
    gw_series_t *s = aligned_alloc(CACHE_LINE, total);
    if (s == NULL) {
        gw_buf_free(&labels);
        return NULL;
    }
    memset(s, 0, total);
    atomic_init(&s->val, d2u(0.0));
    atomic_init(&s->ival, 0);
    for (size_t i = 0; i < ncounts; i++)
        atomic_init(&s->counts[i], 0);
    s->type = (uint8_t)m->type;
    s->sink = (uint8_t)(sink != 0);
    s->nbounds = (uint16_t)m->nbounds;
    s->bounds = m->bounds;
    s->fam = m;
    s->hash = h;
    char *k = (char *)s + head;
    s->key = k;
    for (size_t i = 0; vals != NULL && i < m->nlabels; i++) {
        size_t n = strlen(value_at(vals, i)) + 1;
        memcpy(k, value_at(vals, i), n);
        k += n;
    }
    if (labels.len > 0)
        memcpy(k, labels.data, labels.len);
    k[labels.len] = '\0';
    s->labels = k;
    gw_buf_free(&labels);
    return s;
}

/* Adds a series for vals (known missing). Under m->lock. NULL when the
 * registry is full or memory is out: the caller hands out the sink. */
static gw_series_t *series_insert(gw_metric_t *m, const char *const *vals, uint64_t h)
{
    gw_metrics_t *r = m->reg;
    if (atomic_fetch_add(&r->nseries, 1) >= GW_METRICS_MAX_SERIES) {
        atomic_fetch_sub(&r->nseries, 1);
        return NULL;
    }
    gw_series_table_t *t = atomic_load_explicit(&m->table, memory_order_relaxed);
    if ((m->count + 1) * 2 > t->mask + 1) {
        /* Grow: fill a new table, then publish it. The old one stays
         * readable (and unchanged) for lookups already inside it. */
        gw_series_table_t *nt = table_new((t->mask + 1) * 2);
        if (nt == NULL)
            goto fail;
        for (size_t i = 0; i <= t->mask; i++) {
            gw_series_t *s = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
            if (s != NULL)
                table_put(nt, s);
        }
        nt->retired = t;
        atomic_store_explicit(&m->table, nt, memory_order_release);
        t = nt;
    }
    gw_series_t *s = series_alloc(m, vals, h, 0);
    if (s == NULL)
        goto fail;
    s->next = atomic_load_explicit(&m->head, memory_order_relaxed);
    table_put(t, s);
    atomic_store_explicit(&m->head, s, memory_order_release);
    m->count++;
    return s;
fail:
    atomic_fetch_sub(&r->nseries, 1);
    return NULL;
}

/* The locked path of gw_metric_series: find again (another thread may have
 * won), else create. Label values that are not valid UTF-8 are stored
 * sanitised, keyed by the sanitised text, so that two raw values never
 * render as the same series; such updates keep taking this path, which is
 * fine for what is a caller bug. */
static gw_series_t *series_slow(gw_metric_t *m, const char *const *vals, uint64_t h)
{
    const char *clean[GW_METRIC_MAX_LABELS];
    gw_buf_t bufs[GW_METRIC_MAX_LABELS];
    size_t nbufs = 0;
    gw_series_t *s = NULL;

    pthread_mutex_lock(&m->lock);
    gw_series_table_t *t = atomic_load_explicit(&m->table, memory_order_relaxed);
    s = table_find(t, vals, m->nlabels, h);
    if (s != NULL)
        goto out;
    int dirty = 0;
    for (size_t i = 0; i < m->nlabels; i++) {
        const char *v = value_at(vals, i);
        clean[i] = v;
        if (!gw_metrics_utf8_valid(v, strlen(v))) {
            bufs[nbufs] = (gw_buf_t)GW_BUF_INIT;
            if (gw_metrics_escape(&bufs[nbufs], v, 0) != 0) {
                gw_buf_free(&bufs[nbufs]);
                goto out;
            }
            clean[i] = bufs[nbufs++].data;
            dirty = 1;
        }
    }
    if (dirty) {
        vals = clean;
        h = hash_values(vals, m->nlabels);
        s = table_find(t, vals, m->nlabels, h);
    }
    if (s == NULL)
        s = series_insert(m, vals, h);
out:
    pthread_mutex_unlock(&m->lock);
    for (size_t i = 0; i < nbufs; i++)
        gw_buf_free(&bufs[i]);
    return s != NULL ? s : m->sink;
}

gw_series_t *gw_metric_series(gw_metric_t *m, const char *const *label_values)
{
    if (m == NULL)
        return NULL;
    if (m->single != NULL)
        return m->single;
    uint64_t h = hash_values(label_values, m->nlabels);
    const gw_series_table_t *t = atomic_load_explicit(&m->table, memory_order_acquire);
    gw_series_t *s = table_find(t, label_values, m->nlabels, h);
    return s != NULL ? s : series_slow(m, label_values, h);
}

/* ---- updates ------------------------------------------------------------ */

static void count_drop(const gw_series_t *s)
{
    atomic_fetch_add_explicit(&s->fam->reg->dropped->ival, 1, memory_order_relaxed);
}

static int counter_ok(double v)
{
    return isfinite(v) && v >= 0;
}

void gw_series_add(gw_series_t *s, double v)
{
    if (s == NULL)
        return;
    if (s->type == OC_METRIC_COUNTER) {
        if (!counter_ok(v))
            return;
        if (s->sink) {
            count_drop(s);
        } else if (v < GW_METRICS_EXACT_INT_MAX && v == (double)(uint64_t)v) {
            atomic_fetch_add_explicit(&s->ival, (uint64_t)v, memory_order_relaxed);
        } else {
            atomic_add_double(&s->val, v);
        }
    } else if (s->type == OC_METRIC_GAUGE) {
        if (s->sink)
            count_drop(s);
        else
            atomic_add_double(&s->val, v);
    }
}

void gw_series_set(gw_series_t *s, double v)
{
    if (s == NULL || s->type != OC_METRIC_GAUGE)
        return;
    if (s->sink)
        count_drop(s);
    else
        atomic_store_explicit(&s->val, d2u(v), memory_order_relaxed);
}

void gw_series_observe(gw_series_t *s, double v)
{
    if (s == NULL || s->type != OC_METRIC_HISTOGRAM || isnan(v))
        return;
    if (s->sink) {
        count_drop(s);
        return;
    }
    /* First bound >= v ("le"), or nbounds for +Inf. */
    size_t lo = 0, hi = s->nbounds;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v <= s->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&s->counts[lo], 1, memory_order_relaxed);
    atomic_add_double(&s->val, v);
}

double gw_series_value(const gw_series_t *s)
{
    if (s == NULL || s->sink)
        return 0;
    double v = u2d(atomic_load_explicit(&s->val, memory_order_relaxed));
    if (s->type == OC_METRIC_COUNTER)
        v += (double)atomic_load_explicit(&s->ival, memory_order_relaxed);
    return v;
}

/* Type checks before the lookup, so a misuse creates no series. */
void gw_metric_add(gw_metric_t *m, const char *const *label_values, double v)
{
    if (m == NULL || (m->type == OC_METRIC_COUNTER ? !counter_ok(v) : m->type != OC_METRIC_GAUGE))
        return;
    gw_series_add(gw_metric_series(m, label_values), v);
}

void gw_metric_set(gw_metric_t *m, const char *const *label_values, double v)
{
    if (m == NULL || m->type != OC_METRIC_GAUGE)
        return;
    gw_series_set(gw_metric_series(m, label_values), v);
}

void gw_metric_observe(gw_metric_t *m, const char *const *label_values, double v)
{
    if (m == NULL || m->type != OC_METRIC_HISTOGRAM || isnan(v))
        return;
    gw_series_observe(gw_metric_series(m, label_values), v);
}

/* ---- families and the registry ------------------------------------------ */

static void family_free(gw_metric_t *m)
{
    if (m == NULL)
        return;
    for (gw_series_t *s = atomic_load(&m->head), *next; s != NULL; s = next) {
        next = s->next;
        free(s);
    }
    for (gw_series_table_t *t = atomic_load(&m->table), *old; t != NULL; t = old) {
        old = t->retired;
        free(t);
    }
    free(m->sink);
    for (size_t i = 0; i < m->nlabels; i++)
        free(m->label_names[i]);
    free(m->label_names);
    for (size_t i = 0; m->le != NULL && i < m->nbounds; i++)
        free(m->le[i]);
    free(m->le);
    free(m->bounds);
    free(m->help);
    free(m->name);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static gw_metric_t *family_new(gw_metrics_t *r, int type, const char *name, const char *help,
                               const char *const *label_names, size_t nlabels, const double *bounds,
                               size_t nbounds)
{
    gw_metric_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->reg = r;
    m->type = type;
    pthread_mutex_init(&m->lock, NULL);
    atomic_init(&m->table, NULL);
    atomic_init(&m->head, NULL);
    gw_buf_t hb = GW_BUF_INIT;
    m->name = strdup(name);
    if (m->name == NULL || gw_metrics_escape(&hb, help, GW_ESC_TEXT) != 0)
        goto fail;
    m->help = gw_buf_steal(&hb);
    if (m->help == NULL)
        goto fail;
    if (nlabels > 0) {
        m->label_names = calloc(nlabels, sizeof *m->label_names);
        if (m->label_names == NULL)
            goto fail;
        for (; m->nlabels < nlabels; m->nlabels++)
            if ((m->label_names[m->nlabels] = strdup(label_names[m->nlabels])) == NULL)
                goto fail;
    }
    if (nbounds > 0) {
        m->bounds = malloc(nbounds * sizeof *m->bounds);
        m->le = calloc(nbounds, sizeof *m->le);
        if (m->bounds == NULL || m->le == NULL)
            goto fail;
        memcpy(m->bounds, bounds, nbounds * sizeof *m->bounds);
        for (; m->nbounds < nbounds; m->nbounds++) {
            char num[32];
            gw_metrics_fmt_double(num, sizeof num, bounds[m->nbounds]);
            if ((m->le[m->nbounds] = strdup(num)) == NULL)
                goto fail;
        }
    }
    m->sink = series_alloc(m, NULL, 0, 1);
    if (m->sink == NULL)
        goto fail;
    if (nlabels > 0) {
        gw_series_table_t *t = table_new(8);
        if (t == NULL)
            goto fail;
        atomic_init(&m->table, t);
    } else {
        /* The one series exists from the start, so it renders as 0 before
         * the first update. Always allowed: families are few and bounded,
         * but it counts towards the limit. */
        m->single = series_alloc(m, NULL, 0, 0);
        if (m->single == NULL)
            goto fail;
        atomic_init(&m->head, m->single);
        atomic_fetch_add(&r->nseries, 1);
    }
    return m;
fail:
    gw_buf_free(&hb);
    family_free(m);
    return NULL;
}

static int same_shape(const gw_metric_t *m, int type, const char *const *label_names,
                      size_t nlabels, const double *bounds, size_t nbounds)
{
    if (m->type != type || m->nlabels != nlabels || m->nbounds != nbounds)
        return 0;
    for (size_t i = 0; i < nlabels; i++)
        if (strcmp(m->label_names[i], label_names[i]) != 0)
            return 0;
    for (size_t i = 0; i < nbounds; i++)
        if (m->bounds[i] != bounds[i])
            return 0;
    return 1;
}

gw_metric_t *gw_metric_register(gw_metrics_t *r, int type, const char *name, const char *help,
                                const char *const *label_names, const double *buckets,
                                size_t nbuckets, char *err, size_t errlen)
{
    size_t nlabels = 0;
    if (r == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "no metrics registry");
        return NULL;
    }
    if (gw_metrics_check(type, name, help, label_names, &nlabels, buckets, nbuckets, err, errlen) !=
        0)
        return NULL;
    if (type != OC_METRIC_HISTOGRAM) {
        nbuckets = 0;
    } else if (buckets == NULL) {
        buckets = default_buckets;
        nbuckets = sizeof default_buckets / sizeof *default_buckets;
    }

    gw_metric_t *m = NULL;
    const char *why = NULL;
    pthread_mutex_lock(&r->lock);
    size_t lo = 0, hi = r->nfams;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(r->fams[mid]->name, name);
        if (c == 0) {
            m = r->fams[mid];
            break;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (m != NULL) {
        if (!same_shape(m, type, label_names, nlabels, buckets, nbuckets)) {
            m = NULL;
            why = "is already registered with a different type, labels or buckets";
        }
        goto out;
    }
    why = "out of memory";
    if (r->nfams == r->capfams) {
        size_t cap = r->capfams ? r->capfams * 2 : 32;
        gw_metric_t **fams = realloc(r->fams, cap * sizeof *fams);
        if (fams == NULL)
            goto out;
        r->fams = fams;
        r->capfams = cap;
    }
    m = family_new(r, type, name, help, label_names, nlabels, buckets, nbuckets);
    if (m == NULL)
        goto out;
    memmove(r->fams + lo + 1, r->fams + lo, (r->nfams - lo) * sizeof *r->fams);
    r->fams[lo] = m;
    r->nfams++;
out:
    pthread_mutex_unlock(&r->lock);
    if (m == NULL && err != NULL && errlen > 0)
        snprintf(err, errlen, "metric \"%s\" %s", name, why);
    return m;
}

gw_metrics_t *gw_metrics_new(void)
{
    gw_metrics_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    atomic_init(&r->nseries, 0);
    r->start_time = -1;
    gw_metric_t *m =
        gw_metric_register(r, OC_METRIC_COUNTER, "openclaw_metrics_series_dropped_total",
                           "Metric updates dropped because the registry reached its series limit.",
                           NULL, NULL, 0, NULL, 0);
    if (m == NULL) {
        gw_metrics_free(r);
        return NULL;
    }
    r->dropped = m->single;
    return r;
}

void gw_metrics_free(gw_metrics_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nfams; i++)
        family_free(r->fams[i]);
    free(r->fams);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
