/* metrics/metrics_int.h - the registry's insides, shared by its sources only.
 *
 * Concurrency scheme:
 *  - r->lock guards the family array (register, render, free).
 *  - m->lock guards series creation in one family. Lookups do not take it:
 *    they read the family's open-addressing table, whose slots are only ever
 *    filled (release store) and never cleared. Growing builds a new table
 *    and publishes it; the old one is frozen and kept until free, so a
 *    reader still holding it sees a consistent (if stale) set and falls back
 *    to the locked path on a miss.
 *  - Series values are atomics; series are never removed before free. */
#ifndef GW_METRICS_METRICS_INT_H
#define GW_METRICS_METRICS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "metrics/metrics.h"

/* Doubles hold every integer up to here exactly. */
#define GW_METRICS_EXACT_INT_MAX 9007199254740992.0 /* 2^53 */

struct gw_series_s {
    /* Hot fields first: what an update touches. */
    _Atomic uint64_t val;  /* bits of a double: gauge value, counter's fractional
                              part, histogram sum */
    _Atomic uint64_t ival; /* counters: integral adds, so the common "+1" is one
                              fetch_add instead of a CAS loop */
    uint8_t type;          /* OC_METRIC_* */
    uint8_t sink;          /* the family's overflow sink (registry full) */
    uint16_t nbounds;      /* histograms: number of finite bounds */
    const double *bounds;  /* histograms: the family's bounds */
    gw_metric_t *fam;
    uint64_t hash;
    gw_series_t *next;         /* family list, newest first */
    const char *key;           /* raw label values, each NUL-terminated, back to back */
    const char *labels;        /* rendered `a="x",b="y"` (escaped); "" when none */
    _Atomic uint64_t counts[]; /* histograms: nbounds + 1 (+Inf) per-bucket counts */
};

typedef struct gw_series_table_s {
    struct gw_series_table_s *retired; /* older tables, kept until free */
    size_t mask;                       /* slots - 1, slots a power of two */
    _Atomic(gw_series_t *) slots[];
} gw_series_table_t;

struct oc_metric_s {
    gw_metrics_t *reg;
    int type;
    char *name;
    char *help; /* escaped for the HELP line */
    size_t nlabels;
    char **label_names;
    size_t nbounds;
    double *bounds;
    char **le; /* histograms: formatted bounds for le="..." */
    pthread_mutex_t lock;
    _Atomic(gw_series_table_t *) table; /* labelled families */
    _Atomic(gw_series_t *) head;        /* every series, newest first */
    size_t count;                       /* series in table; under lock */
    gw_series_t *single;                /* unlabelled families: the one series */
    gw_series_t *sink;                  /* returned when the registry is full */
};

struct gw_metrics_s {
    pthread_mutex_t lock;
    gw_metric_t **fams; /* sorted by name */
    size_t nfams;
    size_t capfams;
    _Atomic size_t nseries;
    gw_series_t *dropped; /* openclaw_metrics_series_dropped_total */
    double start_time;    /* process_start_time_seconds; < 0 until known */
};

/* validate.c: checks one registration; 0, or -EINVAL with a message. */
int gw_metrics_check(int type, const char *name, const char *help, const char *const *label_names,
                     size_t *nlabels, const double *buckets, size_t nbuckets, char *err,
                     size_t errlen);
/* Non-zero when s (len bytes) is valid UTF-8 (no overlongs, no surrogates). */
int gw_metrics_utf8_valid(const char *s, size_t len);
/* Appends s to out with invalid UTF-8 bytes replaced by U+FFFD and, per
 * flags, backslash and newline (GW_ESC_TEXT) and double quotes
 * (GW_ESC_QUOTE) escaped. 0 or -ENOMEM. */
#define GW_ESC_TEXT 0x1
#define GW_ESC_QUOTE 0x2
int gw_metrics_escape(gw_buf_t *out, const char *s, int flags);

/* render.c */
int gw_metrics_fmt_double(char *dst, size_t cap, double v);
int gw_metrics_render_process(gw_metrics_t *r, gw_buf_t *out);

#endif
