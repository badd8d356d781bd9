/* metrics/metrics.h - a thread-safe Prometheus metrics registry.
 *
 * One registry per gateway. Families (counter, gauge, histogram) are
 * registered on the loop thread; samples are updated from any thread; the
 * page is rendered in the text exposition format 0.0.4, with the standard
 * process_* metrics appended, and is clean under `promtool check metrics`.
 *
 * Model:
 *  - A family (gw_metric_t, the ABI's opaque oc_metric_t) has a name, a help
 *    text, a fixed list of label names and, for histograms, bucket bounds.
 *  - A series (gw_series_t) is one set of label values of a family. It is
 *    created on first use and lives as long as the registry; its address is
 *    stable, so hot paths can keep it. Updating a series is a few atomic
 *    instructions: no lock, no allocation.
 *  - A registry holds at most GW_METRICS_MAX_SERIES series. Past that,
 *    updates to series that do not exist yet are dropped and counted in
 *    openclaw_metrics_series_dropped_total, which the registry registers
 *    itself. Label values must be bounded (route templates, channel names,
 *    status codes), never ids, keys or user text.
 *
 * Ownership: the registry owns every family and series; they are freed by
 * gw_metrics_free, never individually. Strings passed in are copied. */
#ifndef GW_METRICS_METRICS_H
#define GW_METRICS_METRICS_H

#include <stddef.h>

#include "openclaw/host.h"
#include "util/buf.h"

#define GW_METRICS_MAX_SERIES 2048 /* per registry, every family included */
#define GW_METRIC_MAX_LABELS 16
#define GW_METRIC_MAX_BUCKETS 64

typedef struct gw_metrics_s gw_metrics_t;
typedef struct oc_metric_s gw_metric_t; /* a family; defined in metrics_int.h */
typedef struct gw_series_s gw_series_t;

/* A new, empty registry (it already holds its own
 * openclaw_metrics_series_dropped_total). NULL when out of memory. */
gw_metrics_t *gw_metrics_new(void);
/* Frees the registry, its families and series. No other thread may use it
 * (or any family or series handle of it) any more. NULL is a no-op. */
void gw_metrics_free(gw_metrics_t *r);

/* Registers a family, or returns the one already registered under `name`
 * when type, label names and buckets are the same (the help text of the first
 * registration stays).
 *
 *  type         OC_METRIC_COUNTER, OC_METRIC_GAUGE or OC_METRIC_HISTOGRAM.
 *  name         the full exported name, e.g. "openclaw_http_requests_total".
 *               [a-zA-Z_][a-zA-Z0-9_]*, snake_case; counters end in _total,
 *               other types do not, nor in _bucket/_count/_sum unless
 *               histograms; no type word (_counter, _gauge...), no
 *               abbreviated or non-base units (_ms, _milliseconds: use
 *               _seconds, _bytes); process_* is reserved. These are the
 *               rules `promtool check metrics` lints, checked up front so a
 *               bad name fails at registration, not on the scrape side.
 *  help         non-empty; any text (escaped and UTF-8-sanitised on output).
 *  label_names  NULL-terminated list, NULL = none; each
 *               [a-zA-Z_][a-zA-Z0-9_]*, snake_case, not starting with "__",
 *               not "le" or "quantile", no duplicates, at most
 *               GW_METRIC_MAX_LABELS.
 *  buckets      histograms only: nbuckets finite, strictly ascending upper
 *               bounds (+Inf is implicit), 1..GW_METRIC_MAX_BUCKETS of them;
 *               NULL = the default latency buckets, 0.0005 .. 10 (seconds),
 *               and nbuckets is ignored. Must be NULL for other types.
 *
 * Returns the family (registry-owned), or NULL with a one-line message in
 * err (when err != NULL and errlen > 0). Call on the loop thread; it takes
 * the registry lock, so it is safe against concurrent renders and updates. */
gw_metric_t *gw_metric_register(gw_metrics_t *r, int type, const char *name, const char *help,
                                const char *const *label_names, const double *buckets,
                                size_t nbuckets, char *err, size_t errlen);

/* Updates by label values. label_values has exactly as many entries as the
 * family has label names (may be NULL when it has none); a NULL entry means
 * "". The series is created on first use. All thread-safe and NULL-safe
 * (m == NULL is a no-op, so a failed registration needs no checks later).
 * An update that does not fit the family type is ignored:
 *  add      counters: v >= 0 (else ignored); gauges: any v.
 *  set      gauges only.
 *  observe  histograms only; NaN is ignored. */
void gw_metric_add(gw_metric_t *m, const char *const *label_values, double v);
void gw_metric_set(gw_metric_t *m, const char *const *label_values, double v);
void gw_metric_observe(gw_metric_t *m, const char *const *label_values, double v);

/* The series of `m` for label_values, created when missing: a stable handle,
 * valid until gw_metrics_free, for hot paths. Thread-safe; lock-free when the
 * series exists. NULL only when m is NULL. When the registry is full, the
 * handle returned is the family's sink: updates through it are dropped and
 * counted in openclaw_metrics_series_dropped_total. */
gw_series_t *gw_metric_series(gw_metric_t *m, const char *const *label_values);

/* Series updates with the same rules as gw_metric_add/set/observe.
 * Thread-safe, lock-free, no allocation; s == NULL is a no-op. */
void gw_series_add(gw_series_t *s, double v);
void gw_series_set(gw_series_t *s, double v);
void gw_series_observe(gw_series_t *s, double v);
/* Current value: counters and gauges their value, histograms their sum;
 * 0 for NULL or a sink. Thread-safe. For tests and status pages. */
double gw_series_value(const gw_series_t *s);

/* Appends the whole page (text format 0.0.4: families sorted by name, their
 * series sorted by labels, then process_* from /proc/self) to out.
 * Families with labels but no series yet are left out. Returns 0, or -ENOMEM
 * with out as it was. Thread-safe (renders are serialised by the registry
 * lock; updates are never blocked). */
int gw_metrics_render(gw_metrics_t *r, gw_buf_t *out);

#endif
