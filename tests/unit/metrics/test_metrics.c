/* Unit tests for core/metrics: registration rules, exact rendering, escaping,
 * concurrent updates, the series limit, and a promtool check of a page. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "metrics/metrics.h"

#define L(...) ((const char *const[]){__VA_ARGS__})

static char err[256];

static gw_metric_t *reg(gw_metrics_t *r, int type, const char *name, const char *help,
                        const char *const *labels, const double *b, size_t nb)
{
    err[0] = '\0';
    return gw_metric_register(r, type, name, help, labels, b, nb, err, sizeof err);
}

static char *render(gw_metrics_t *r)
{
    gw_buf_t b = GW_BUF_INIT;
    cr_assert_eq(gw_metrics_render(r, &b), 0);
    return gw_buf_steal(&b);
}

/* The page up to the process_* metrics (all test names sort before them). */
static char *render_app(gw_metrics_t *r)
{
    char *page = render(r);
    char *p = strstr(page, "# HELP process_");
    cr_assert_not_null(p, "no process metrics in:\n%s", page);
    *p = '\0';
    return page;
}

/* The value on the line starting with `prefix` followed by a space. */
static const char *line_value(const char *page, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = page; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, prefix, n) == 0 && p[n] == ' ')
            return p + n + 1;
    return NULL;
}

static double value_of(const char *page, const char *prefix)
{
    const char *v = line_value(page, prefix);
    cr_assert_not_null(v, "no line %s in:\n%s", prefix, page);
    return strtod(v, NULL);
}

static size_t count_lines(const char *page, const char *prefix)
{
    size_t n = 0, k = strlen(prefix);
    for (const char *p = page; *p; p++)
        if ((p == page || p[-1] == '\n') && strncmp(p, prefix, k) == 0)
            n++;
    return n;
}

/* ---- registration ------------------------------------------------------ */

typedef struct bad_case_s {
    int type;
    const char *name;
    const char *help;
    const char *const *labels;
    const double *buckets;
    size_t nbuckets;
    const char *msg;
} bad_case_t;

Test(metrics, registration_errors)
{
    static const double desc[] = {0.1, 0.05};
    static const double dup[] = {1, 1};
    static const double inf[] = {1, INFINITY};
    static const double one[] = {1};
    const char *seventeen[18];
    for (int i = 0; i < 17; i++) {
        static char names[17][8];
        snprintf(names[i], sizeof names[i], "l%d", i);
        seventeen[i] = names[i];
    }
    seventeen[17] = NULL;
    const bad_case_t cases[] = {
        {7, "openclaw_x", "h", NULL, NULL, 0, "invalid metric type 7 for \"openclaw_x\""},
        {OC_METRIC_GAUGE, "", "h", NULL, NULL, 0,
         "invalid metric name \"\": must match [a-zA-Z_][a-zA-Z0-9_]*"},
        {OC_METRIC_GAUGE, NULL, "h", NULL, NULL, 0,
         "invalid metric name \"(null)\": must match [a-zA-Z_][a-zA-Z0-9_]*"},
        {OC_METRIC_GAUGE, "9lives", "h", NULL, NULL, 0,
         "invalid metric name \"9lives\": must match [a-zA-Z_][a-zA-Z0-9_]*"},
        {OC_METRIC_GAUGE, "openclaw-x", "h", NULL, NULL, 0,
         "invalid metric name \"openclaw-x\": must match [a-zA-Z_][a-zA-Z0-9_]*"},
        {OC_METRIC_GAUGE, "openclaw:x", "h", NULL, NULL, 0,
         "invalid metric name \"openclaw:x\": must match [a-zA-Z_][a-zA-Z0-9_]*"},
        {OC_METRIC_GAUGE, "process_open_fds", "h", NULL, NULL, 0,
         "metric name \"process_open_fds\" is reserved (process_* metrics are built in)"},
        {OC_METRIC_GAUGE, "openclaw_queueDepth", "h", NULL, NULL, 0,
         "metric name \"openclaw_queueDepth\" must be snake_case, not camelCase"},
        {OC_METRIC_COUNTER, "openclaw_requests", "h", NULL, NULL, 0,
         "counter name \"openclaw_requests\" must end in _total"},
        {OC_METRIC_GAUGE, "openclaw_requests_total", "h", NULL, NULL, 0,
         "gauge name \"openclaw_requests_total\" must not end in _total (only counters do)"},
        {OC_METRIC_HISTOGRAM, "openclaw_latency_total", "h", NULL, NULL, 0,
         "histogram name \"openclaw_latency_total\" must not end in _total (only counters do)"},
        {OC_METRIC_GAUGE, "openclaw_wait_sum", "h", NULL, NULL, 0,
         "gauge name \"openclaw_wait_sum\" must not end in _sum (reserved for histograms)"},
        {OC_METRIC_GAUGE, "openclaw_queue_count", "h", NULL, NULL, 0,
         "gauge name \"openclaw_queue_count\" must not end in _count (reserved for histograms)"},
        {OC_METRIC_GAUGE, "openclaw_queue_gauge", "h", NULL, NULL, 0,
         "metric name \"openclaw_queue_gauge\" must not contain the type \"gauge\""},
        {OC_METRIC_COUNTER, "openclaw_counter_errors_total", "h", NULL, NULL, 0,
         "metric name \"openclaw_counter_errors_total\" must not contain the type \"counter\""},
        {OC_METRIC_HISTOGRAM, "openclaw_latency_ms", "h", NULL, NULL, 0,
         "metric name \"openclaw_latency_ms\" uses the abbreviated unit \"ms\"; spell out the "
         "base unit (_seconds, _bytes)"},
        {OC_METRIC_HISTOGRAM, "openclaw_latency_milliseconds", "h", NULL, NULL, 0,
         "metric name \"openclaw_latency_milliseconds\" uses the unit \"milliseconds\"; use the "
         "base unit \"seconds\""},
        {OC_METRIC_GAUGE, "openclaw_uptime_hours", "h", NULL, NULL, 0,
         "metric name \"openclaw_uptime_hours\" uses the unit \"hours\"; use the base unit "
         "\"seconds\""},
        {OC_METRIC_GAUGE, "openclaw_x", NULL, NULL, NULL, 0,
         "metric \"openclaw_x\" needs a help text"},
        {OC_METRIC_GAUGE, "openclaw_x", "", NULL, NULL, 0,
         "metric \"openclaw_x\" needs a help text"},
        {OC_METRIC_GAUGE, "openclaw_x", "h", L("ok", "bad-name", NULL), NULL, 0,
         "invalid label name \"bad-name\" for metric \"openclaw_x\": must match "
         "[a-zA-Z_][a-zA-Z0-9_]*"},
        {OC_METRIC_GAUGE, "openclaw_x", "h", L("1st", NULL), NULL, 0,
         "invalid label name \"1st\" for metric \"openclaw_x\": must match "
         "[a-zA-Z_][a-zA-Z0-9_]*"},
        {OC_METRIC_GAUGE, "openclaw_x", "h", L("__name", NULL), NULL, 0,
         "label name \"__name\" for metric \"openclaw_x\" is reserved (starts with __)"},
        {OC_METRIC_HISTOGRAM, "openclaw_x_seconds", "h", L("le", NULL), NULL, 0,
         "label name \"le\" for metric \"openclaw_x_seconds\" is reserved (histogram buckets)"},
        {OC_METRIC_GAUGE, "openclaw_x", "h", L("le", NULL), NULL, 0,
         "label name \"le\" for metric \"openclaw_x\" is reserved (histogram buckets)"},
        {OC_METRIC_GAUGE, "openclaw_x", "h", L("quantile", NULL), NULL, 0,
         "label name \"quantile\" for metric \"openclaw_x\" is reserved (summaries)"},
        {OC_METRIC_GAUGE, "openclaw_x", "h", L("statusCode", NULL), NULL, 0,
         "label name \"statusCode\" for metric \"openclaw_x\" must be snake_case, not camelCase"},
        {OC_METRIC_GAUGE, "openclaw_x", "h", L("a", "b", "a", NULL), NULL, 0,
         "duplicate label name \"a\" for metric \"openclaw_x\""},
        {OC_METRIC_GAUGE, "openclaw_x", "h", seventeen, NULL, 0,
         "metric \"openclaw_x\" has more than 16 labels"},
        {OC_METRIC_GAUGE, "openclaw_x", "h", NULL, one, 1,
         "buckets given for non-histogram metric \"openclaw_x\""},
        {OC_METRIC_HISTOGRAM, "openclaw_x_seconds", "h", NULL, one, 0,
         "histogram \"openclaw_x_seconds\": needs 1 to 64 buckets, got 0"},
        {OC_METRIC_HISTOGRAM, "openclaw_x_seconds", "h", NULL, desc, 2,
         "histogram \"openclaw_x_seconds\": buckets must be strictly ascending (bucket 1: 0.05 "
         "after 0.1)"},
        {OC_METRIC_HISTOGRAM, "openclaw_x_seconds", "h", NULL, dup, 2,
         "histogram \"openclaw_x_seconds\": buckets must be strictly ascending (bucket 1: 1 "
         "after 1)"},
        {OC_METRIC_HISTOGRAM, "openclaw_x_seconds", "h", NULL, inf, 2,
         "histogram \"openclaw_x_seconds\": bucket 1 is not finite (+Inf is implicit)"},
    };
    gw_metrics_t *r = gw_metrics_new();
    cr_assert_not_null(r);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const bad_case_t *c = &cases[i];
        cr_expect_null(reg(r, c->type, c->name, c->help, c->labels, c->buckets, c->nbuckets),
                       "case %zu registered", i);
        cr_expect_str_eq(err, c->msg, "case %zu", i);
    }
    /* Nothing half-registered: the page holds only the registry's own counter. */
    char *page = render_app(r);
    cr_expect_str_eq(page, "# HELP openclaw_metrics_series_dropped_total Metric updates dropped "
                           "because the registry reached its series limit.\n"
                           "# TYPE openclaw_metrics_series_dropped_total counter\n"
                           "openclaw_metrics_series_dropped_total 0\n");
    free(page);
    /* err may be NULL. */
    cr_expect_null(gw_metric_register(r, OC_METRIC_COUNTER, "bad", "h", NULL, NULL, 0, NULL, 0));
    gw_metrics_free(r);
}

Test(metrics, good_names)
{
    gw_metrics_t *r = gw_metrics_new();
    cr_assert_not_null(r);
    cr_expect_not_null(reg(r, OC_METRIC_COUNTER, "openclaw_http_requests_total", "h",
                           L("route", "status", NULL), NULL, 0),
                       "%s", err);
    cr_expect_not_null(reg(r, OC_METRIC_HISTOGRAM, "openclaw_provider_ttft_seconds", "h",
                           L("provider", NULL), NULL, 0),
                       "%s", err);
    cr_expect_not_null(
        reg(r, OC_METRIC_GAUGE, "openclaw_build_info", "h", L("version", NULL), NULL, 0), "%s",
        err);
    cr_expect_not_null(reg(r, OC_METRIC_COUNTER, "openclaw_provider_tokens_total", "h",
                           L("provider", "model", "kind", NULL), NULL, 0),
                       "%s", err);
    cr_expect_not_null(reg(r, OC_METRIC_GAUGE, "_leading_underscore", "h", L("_x", NULL), NULL, 0),
                       "%s", err);
    cr_expect_not_null(reg(r, OC_METRIC_GAUGE, "openclaw_HTTP_inflight", "h", NULL, NULL, 0), "%s",
                       err);
    gw_metrics_free(r);
}

Test(metrics, reregistration)
{
    static const double b[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                               0.1,    0.25,  0.5,    1,     2.5,  5,     10};
    static const double other[] = {1, 2};
    gw_metrics_t *r = gw_metrics_new();
    gw_metric_t *c = reg(r, OC_METRIC_COUNTER, "openclaw_x_total", "First.", L("a", NULL), NULL, 0);
    cr_assert_not_null(c, "%s", err);
    cr_expect_eq(reg(r, OC_METRIC_COUNTER, "openclaw_x_total", "Second.", L("a", NULL), NULL, 0),
                 c);
    cr_expect_null(reg(r, OC_METRIC_COUNTER, "openclaw_x_total", "h", L("b", NULL), NULL, 0));
    cr_expect_str_eq(err, "metric \"openclaw_x_total\" is already registered with a different "
                          "type, labels or buckets");
    cr_expect_null(reg(r, OC_METRIC_COUNTER, "openclaw_x_total", "h", NULL, NULL, 0));
    cr_expect_null(reg(r, OC_METRIC_COUNTER, "openclaw_x_total", "h", L("a", "b", NULL), NULL, 0));

    gw_metric_t *h = reg(r, OC_METRIC_HISTOGRAM, "openclaw_y_seconds", "h", NULL, NULL, 0);
    cr_assert_not_null(h, "%s", err);
    /* The defaults spelled out are the same buckets. */
    cr_expect_eq(reg(r, OC_METRIC_HISTOGRAM, "openclaw_y_seconds", "h", NULL, b, 14), h);
    cr_expect_null(reg(r, OC_METRIC_HISTOGRAM, "openclaw_y_seconds", "h", NULL, other, 2));
    cr_expect_str_eq(err, "metric \"openclaw_y_seconds\" is already registered with a different "
                          "type, labels or buckets");

    gw_metric_t *g = reg(r, OC_METRIC_GAUGE, "openclaw_z", "h", NULL, NULL, 0);
    cr_assert_not_null(g);
    cr_expect_null(reg(r, OC_METRIC_HISTOGRAM, "openclaw_z", "h", NULL, NULL, 0));
    /* The registry's own counter can be looked up like any other. */
    cr_expect_not_null(
        reg(r, OC_METRIC_COUNTER, "openclaw_metrics_series_dropped_total", "h", NULL, NULL, 0));

    char *page = render_app(r);
    cr_expect(strstr(page, "# HELP openclaw_x_total First.\n") == NULL,
              "no series yet, so no family lines:\n%s", page);
    free(page);
    gw_metric_add(c, L("v"), 1);
    page = render_app(r);
    cr_expect(strstr(page, "# HELP openclaw_x_total First.\n") != NULL, "%s", page);
    free(page);
    gw_metrics_free(r);
}

/* ---- rendering ----------------------------------------------------------- */

Test(metrics, render_exact)
{
    static const double lb[] = {0.1, 0.5, 1};
    static const double wb[] = {1, 2.5};
    gw_metrics_t *r = gw_metrics_new();
    gw_metric_t *req = reg(r, OC_METRIC_COUNTER, "openclaw_http_requests_total",
                           "HTTP requests served.", L("route", "status", NULL), NULL, 0);
    gw_metric_t *rel =
        reg(r, OC_METRIC_COUNTER, "openclaw_reloads_total", "Config reloads.", NULL, NULL, 0);
    gw_metric_t *q = reg(r, OC_METRIC_GAUGE, "openclaw_queue_depth", "Messages waiting.",
                         L("channel", NULL), NULL, 0);
    gw_metric_t *lat = reg(r, OC_METRIC_HISTOGRAM, "openclaw_http_request_duration_seconds",
                           "Request latency.", L("route", NULL), lb, 3);
    gw_metric_t *wait =
        reg(r, OC_METRIC_HISTOGRAM, "openclaw_queue_wait_seconds", "Queue wait.", NULL, wb, 2);
    cr_assert_not_null(
        reg(r, OC_METRIC_GAUGE, "openclaw_sessions_active", "Open sessions.", NULL, NULL, 0));
    cr_assert_not_null(reg(r, OC_METRIC_COUNTER, "openclaw_auth_failures_total", "Never used.",
                           L("reason", NULL), NULL, 0));
    cr_assert(req && rel && q && lat && wait, "%s", err);

    gw_metric_add(req, L("/v1/models", "200"), 1);
    gw_metric_add(req, L("/health", "200"), 2);
    gw_series_add(gw_metric_series(req, L("/health", "200")), 1);
    gw_metric_add(rel, NULL, 0.5);
    gw_metric_set(q, L("telegram"), 3);
    gw_metric_add(q, L("telegram"), -1);
    gw_metric_set(q, L("slack"), 0.1);
    gw_metric_observe(lat, L("/health"), 0.0625);
    gw_metric_observe(lat, L("/health"), 0.125);
    gw_metric_observe(lat, L("/health"), 0.75);
    gw_metric_observe(lat, L("/health"), 3);
    gw_metric_observe(wait, NULL, 1); /* le is inclusive */

    char *page = render_app(r);
    cr_expect_str_eq(
        page, "# HELP openclaw_http_request_duration_seconds Request latency.\n"
              "# TYPE openclaw_http_request_duration_seconds histogram\n"
              "openclaw_http_request_duration_seconds_bucket{route=\"/health\",le=\"0.1\"} 1\n"
              "openclaw_http_request_duration_seconds_bucket{route=\"/health\",le=\"0.5\"} 2\n"
              "openclaw_http_request_duration_seconds_bucket{route=\"/health\",le=\"1\"} 3\n"
              "openclaw_http_request_duration_seconds_bucket{route=\"/health\",le=\"+Inf\"} 4\n"
              "openclaw_http_request_duration_seconds_sum{route=\"/health\"} 3.9375\n"
              "openclaw_http_request_duration_seconds_count{route=\"/health\"} 4\n"
              "# HELP openclaw_http_requests_total HTTP requests served.\n"
              "# TYPE openclaw_http_requests_total counter\n"
              "openclaw_http_requests_total{route=\"/health\",status=\"200\"} 3\n"
              "openclaw_http_requests_total{route=\"/v1/models\",status=\"200\"} 1\n"
              "# HELP openclaw_metrics_series_dropped_total Metric updates dropped because the "
              "registry reached its series limit.\n"
              "# TYPE openclaw_metrics_series_dropped_total counter\n"
              "openclaw_metrics_series_dropped_total 0\n"
              "# HELP openclaw_queue_depth Messages waiting.\n"
              "# TYPE openclaw_queue_depth gauge\n"
              "openclaw_queue_depth{channel=\"slack\"} 0.1\n"
              "openclaw_queue_depth{channel=\"telegram\"} 2\n"
              "# HELP openclaw_queue_wait_seconds Queue wait.\n"
              "# TYPE openclaw_queue_wait_seconds histogram\n"
              "openclaw_queue_wait_seconds_bucket{le=\"1\"} 1\n"
              "openclaw_queue_wait_seconds_bucket{le=\"2.5\"} 1\n"
              "openclaw_queue_wait_seconds_bucket{le=\"+Inf\"} 1\n"
              "openclaw_queue_wait_seconds_sum 1\n"
              "openclaw_queue_wait_seconds_count 1\n"
              "# HELP openclaw_reloads_total Config reloads.\n"
              "# TYPE openclaw_reloads_total counter\n"
              "openclaw_reloads_total 0.5\n"
              "# HELP openclaw_sessions_active Open sessions.\n"
              "# TYPE openclaw_sessions_active gauge\n"
              "openclaw_sessions_active 0\n");
    free(page);

    /* Rendering appends, and a second render gives the same page. */
    gw_buf_t b = GW_BUF_INIT;
    gw_buf_puts(&b, "prefix\n");
    cr_assert_eq(gw_metrics_render(r, &b), 0);
    cr_expect(strncmp(b.data, "prefix\n# HELP openclaw_http_request_duration_seconds ", 53) == 0);
    gw_buf_free(&b);
    gw_metrics_free(r);
}

Test(metrics, default_buckets)
{
    gw_metrics_t *r = gw_metrics_new();
    gw_metric_t *h = reg(r, OC_METRIC_HISTOGRAM, "openclaw_x_seconds", "h", NULL, NULL, 0);
    cr_assert_not_null(h, "%s", err);
    gw_metric_observe(h, NULL, 0.00048828125); /* 2^-11: sums exactly */
    gw_metric_observe(h, NULL, 11);
    char *page = render_app(r);
    const char *les[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
                         "0.1",    "0.25",  "0.5",    "1",     "2.5",  "5",     "10"};
    for (size_t i = 0; i < 14; i++) {
        char pfx[96];
        snprintf(pfx, sizeof pfx, "openclaw_x_seconds_bucket{le=\"%s\"}", les[i]);
        cr_expect_eq(value_of(page, pfx), 1, "%s", pfx);
    }
    cr_expect_eq(value_of(page, "openclaw_x_seconds_bucket{le=\"+Inf\"}"), 2);
    cr_expect_eq(count_lines(page, "openclaw_x_seconds_bucket{"), 15);
    cr_expect_str_eq(line_value(page, "openclaw_x_seconds_sum"), "11.00048828125\n"
                                                                 "openclaw_x_seconds_count 2\n");
    free(page);
    gw_metrics_free(r);
}

Test(metrics, number_format)
{
    gw_metrics_t *r = gw_metrics_new();
    gw_metric_t *g = reg(r, OC_METRIC_GAUGE, "openclaw_v", "h", L("k", NULL), NULL, 0);
    cr_assert_not_null(g, "%s", err);
    static const struct {
        const char *k;
        double v;
        const char *want;
    } cases[] = {
        {"a", 1e-05, "1e-05"},
        {"b", 123456789012.0, "123456789012"},
        {"c", 0.1 + 0.2, "0.30000000000000004"},
        {"d", -2.5, "-2.5"},
        {"e", NAN, "NaN"},
        {"f", INFINITY, "+Inf"},
        {"g", -INFINITY, "-Inf"},
        {"h", 1e300, "1e+300"},
        {"i", -7, "-7"},
        {"j", 1.5e-300, "1.5e-300"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        gw_metric_set(g, L(cases[i].k), cases[i].v);
    char *page = render_app(r);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char want[128];
        snprintf(want, sizeof want, "openclaw_v{k=\"%s\"} %s\n", cases[i].k, cases[i].want);
        cr_expect(strstr(page, want) != NULL, "missing %s in:\n%s", want, page);
    }
    free(page);
    gw_metrics_free(r);
}

Test(metrics, escaping)
{
    gw_metrics_t *r = gw_metrics_new();
    gw_metric_t *c = reg(r, OC_METRIC_COUNTER, "openclaw_esc_total",
                         "Back\\slash, \"quotes\" and\nnewline.", L("v", NULL), NULL, 0);
    cr_assert_not_null(c, "%s", err);
    gw_metric_add(c, L("a\\b"), 1);
    gw_metric_add(c, L("say \"hi\""), 2);
    gw_metric_add(c, L("line1\nline2"), 3);
    gw_metric_add(c, L("bad\xff"), 4);
    gw_metric_add(c, L("bad\xEF\xBF\xBD"), 1); /* what bad\xff renders as: the same series */
    gw_metric_add(c, L(NULL), 5);              /* NULL is "" */
    gw_metric_add(c, L(""), 1);
    gw_metric_add(c, L("h\xc3\xa9llo"), 6); /* valid UTF-8 is kept */
    char *page = render_app(r);
    cr_expect_str_eq(page, "# HELP openclaw_esc_total Back\\\\slash, \"quotes\" and\\nnewline.\n"
                           "# TYPE openclaw_esc_total counter\n"
                           "openclaw_esc_total{v=\"\"} 6\n"
                           "openclaw_esc_total{v=\"a\\\\b\"} 1\n"
                           "openclaw_esc_total{v=\"bad\xEF\xBF\xBD\"} 5\n"
                           "openclaw_esc_total{v=\"h\xc3\xa9llo\"} 6\n"
                           "openclaw_esc_total{v=\"line1\\nline2\"} 3\n"
                           "openclaw_esc_total{v=\"say \\\"hi\\\"\"} 2\n"
                           "# HELP openclaw_metrics_series_dropped_total Metric updates dropped "
                           "because the registry reached its series limit.\n"
                           "# TYPE openclaw_metrics_series_dropped_total counter\n"
                           "openclaw_metrics_series_dropped_total 0\n");
    free(page);
    gw_metrics_free(r);
}

Test(metrics, type_rules_and_null_safety)
{
    gw_metrics_t *r = gw_metrics_new();
    gw_metric_t *c = reg(r, OC_METRIC_COUNTER, "openclaw_c_total", "h", NULL, NULL, 0);
    gw_metric_t *g = reg(r, OC_METRIC_GAUGE, "openclaw_g", "h", L("k", NULL), NULL, 0);
    gw_metric_t *h =
        reg(r, OC_METRIC_HISTOGRAM, "openclaw_hist_seconds", "h", L("k", NULL), NULL, 0);
    cr_assert(c && g && h, "%s", err);
    gw_series_t *cs = gw_metric_series(c, NULL);
    gw_metric_add(c, NULL, 2);
    gw_metric_add(c, NULL, -1);
    gw_metric_add(c, NULL, NAN);
    gw_metric_add(c, NULL, INFINITY);
    gw_metric_set(c, NULL, 100);
    gw_metric_observe(c, NULL, 1);
    gw_series_set(cs, 100);
    gw_series_observe(cs, 100);
    gw_series_add(cs, -5);
    gw_series_add(cs, 0.25);
    cr_expect_eq(gw_series_value(cs), 2.25);
    /* Misuse creates no series. */
    gw_metric_observe(g, L("x"), 1);
    gw_metric_add(h, L("y"), 1);
    gw_metric_set(h, L("y"), 1);
    gw_metric_observe(h, L("z"), NAN);
    char *page = render_app(r);
    cr_expect(strstr(page, "openclaw_g") == NULL, "%s", page);
    cr_expect(strstr(page, "openclaw_hist_seconds") == NULL, "%s", page);
    free(page);
    gw_metric_add(g, L("x"), -3);
    cr_expect_eq(gw_series_value(gw_metric_series(g, L("x"))), -3);
    /* NULL everywhere is a no-op. */
    gw_metric_add(NULL, NULL, 1);
    gw_metric_set(NULL, NULL, 1);
    gw_metric_observe(NULL, NULL, 1);
    cr_expect_null(gw_metric_series(NULL, NULL));
    gw_series_add(NULL, 1);
    gw_series_set(NULL, 1);
    gw_series_observe(NULL, 1);
    cr_expect_eq(gw_series_value(NULL), 0);
    gw_metrics_free(NULL);
    cr_expect_null(
        gw_metric_register(NULL, OC_METRIC_GAUGE, "x", "h", NULL, NULL, 0, err, sizeof err));
    cr_expect_str_eq(err, "no metrics registry");
    gw_metrics_free(r);
}

Test(metrics, stable_handles_across_growth)
{
    gw_metrics_t *r = gw_metrics_new();
    gw_metric_t *c =
        reg(r, OC_METRIC_COUNTER, "openclaw_many_total", "h", L("a", "b", NULL), NULL, 0);
    cr_assert_not_null(c, "%s", err);
    enum { N = 1500 };
    static gw_series_t *handles[N];
    char a[16], b[16];
    for (int i = 0; i < N; i++) {
        snprintf(a, sizeof a, "%d", i / 10);
        snprintf(b, sizeof b, "%d", i % 10);
        handles[i] = gw_metric_series(c, L(a, b));
        cr_assert_not_null(handles[i]);
        gw_series_add(handles[i], i);
    }
    for (int i = 0; i < N; i++) {
        snprintf(a, sizeof a, "%d", i / 10);
        snprintf(b, sizeof b, "%d", i % 10);
        cr_assert_eq(gw_metric_series(c, L(a, b)), handles[i], "series %d moved", i);
        cr_assert_eq(gw_series_value(handles[i]), i);
    }
    /* ("1", "23") and ("12", "3") are different series. */
    cr_expect_neq(gw_metric_series(c, L("1", "23")), gw_metric_series(c, L("12", "3")));
    char *page = render_app(r);
    cr_expect_eq(count_lines(page, "openclaw_many_total{"), N + 1);
    free(page);
    gw_metrics_free(r);
}

/* ---- concurrency ---------------------------------------------------------- */

#define THREADS 4
#define ITERS 100000
#define SPREAD 500

typedef struct conc_s {
    gw_metrics_t *r;
    gw_metric_t *hot, *frac, *gauge, *hist, *spread;
    pthread_barrier_t start;
    atomic_int running;
} conc_t;

static void *worker(void *arg)
{
    conc_t *c = arg;
    pthread_barrier_wait(&c->start);
    gw_series_t *hot = gw_metric_series(c->hot, L("hot"));
    for (int i = 0; i < ITERS; i++) {
        char v[16];
        snprintf(v, sizeof v, "s%d", i % SPREAD);
        gw_series_add(hot, 1);
        gw_metric_add(c->frac, NULL, 0.5);
        gw_metric_add(c->gauge, NULL, (i & 1) ? -1 : 2);
        gw_metric_observe(c->hist, L("x"), 0.25);
        gw_metric_add(c->spread, L(v), 1);
    }
    atomic_fetch_sub(&c->running, 1);
    return NULL;
}

/* Renders while the workers run: a render must not disturb them. */
static void *renderer(void *arg)
{
    conc_t *c = arg;
    pthread_barrier_wait(&c->start);
    gw_buf_t b = GW_BUF_INIT;
    int renders = 0;
    while (atomic_load(&c->running) > 0 || renders == 0) {
        gw_buf_reset(&b);
        if (gw_metrics_render(c->r, &b) != 0)
            break;
        renders++;
    }
    gw_buf_free(&b);
    return NULL;
}

Test(metrics, concurrent_updates_are_exact)
{
    gw_metrics_t *r = gw_metrics_new();
    conc_t c;
    c.r = r;
    c.hot = reg(r, OC_METRIC_COUNTER, "openclaw_hot_total", "h", L("k", NULL), NULL, 0);
    c.frac = reg(r, OC_METRIC_COUNTER, "openclaw_frac_total", "h", NULL, NULL, 0);
    c.gauge = reg(r, OC_METRIC_GAUGE, "openclaw_level", "h", NULL, NULL, 0);
    c.hist = reg(r, OC_METRIC_HISTOGRAM, "openclaw_lat_seconds", "h", L("k", NULL), NULL, 0);
    c.spread = reg(r, OC_METRIC_COUNTER, "openclaw_spread_total", "h", L("v", NULL), NULL, 0);
    cr_assert(c.hot && c.frac && c.gauge && c.hist && c.spread, "%s", err);
    pthread_barrier_init(&c.start, NULL, THREADS + 1);
    atomic_init(&c.running, THREADS);
    pthread_t t[THREADS + 1];
    for (int i = 0; i < THREADS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, worker, &c), 0);
    cr_assert_eq(pthread_create(&t[THREADS], NULL, renderer, &c), 0);
    for (int i = 0; i <= THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&c.start);

    const double n = (double)THREADS * ITERS;
    cr_expect_eq(gw_series_value(gw_metric_series(c.hot, L("hot"))), n);
    cr_expect_eq(gw_series_value(gw_metric_series(c.frac, NULL)), n * 0.5);
    cr_expect_eq(gw_series_value(gw_metric_series(c.gauge, NULL)), n / 2);
    cr_expect_eq(gw_series_value(gw_metric_series(c.hist, L("x"))), n * 0.25);

    char *page = render_app(r);
    cr_expect_eq(value_of(page, "openclaw_hot_total{k=\"hot\"}"), n);
    cr_expect_eq(value_of(page, "openclaw_frac_total"), n * 0.5);
    cr_expect_eq(value_of(page, "openclaw_level"), n / 2);
    cr_expect_eq(value_of(page, "openclaw_lat_seconds_count{k=\"x\"}"), n);
    cr_expect_eq(value_of(page, "openclaw_lat_seconds_sum{k=\"x\"}"), n * 0.25);
    cr_expect_eq(value_of(page, "openclaw_lat_seconds_bucket{k=\"x\",le=\"0.25\"}"), n);
    cr_expect_eq(value_of(page, "openclaw_lat_seconds_bucket{k=\"x\",le=\"0.1\"}"), 0);
    /* Created concurrently by every thread, yet exactly once each. */
    cr_expect_eq(count_lines(page, "openclaw_spread_total{"), SPREAD);
    for (int i = 0; i < SPREAD; i++) {
        char pfx[64];
        snprintf(pfx, sizeof pfx, "openclaw_spread_total{v=\"s%d\"}", i);
        cr_expect_eq(value_of(page, pfx), n / SPREAD, "%s", pfx);
    }
    cr_expect_eq(value_of(page, "openclaw_metrics_series_dropped_total"), 0);
    free(page);
    gw_metrics_free(r);
}

/* ---- the series limit ----------------------------------------------------- */

Test(metrics, series_limit_drops_and_counts)
{
    gw_metrics_t *r = gw_metrics_new();
    gw_metric_t *c = reg(r, OC_METRIC_COUNTER, "openclaw_ids_total", "h", L("id", NULL), NULL, 0);
    gw_metric_t *h =
        reg(r, OC_METRIC_HISTOGRAM, "openclaw_lat_seconds", "h", L("k", NULL), NULL, 0);
    cr_assert(c && h, "%s", err);
    /* The registry's own counter is one series: room for MAX - 1 more. */
    const int room = GW_METRICS_MAX_SERIES - 1, tries = 3000;
    char v[16];
    for (int i = 0; i < tries; i++) {
        snprintf(v, sizeof v, "%d", i);
        gw_metric_add(c, L(v), 1);
    }
    gw_metric_add(c, L("5"), 1); /* existing series still update */
    gw_metric_observe(h, L("new"), 1);
    gw_series_t *sink = gw_metric_series(c, L("another"));
    cr_assert_not_null(sink);
    gw_series_add(sink, 1);
    gw_series_add(sink, -1); /* invalid for a counter: not even counted */
    cr_expect_eq(gw_series_value(sink), 0);
    /* An unlabelled family still registers and works past the limit. */
    gw_metric_t *g = reg(r, OC_METRIC_GAUGE, "openclaw_late", "h", NULL, NULL, 0);
    cr_assert_not_null(g, "%s", err);
    gw_metric_set(g, NULL, 7);

    char *page = render_app(r);
    cr_expect_eq(count_lines(page, "openclaw_ids_total{"), (size_t)room);
    cr_expect_eq(value_of(page, "openclaw_ids_total{id=\"5\"}"), 2);
    cr_expect_eq(line_value(page, "openclaw_ids_total{id=\"2047\"}"), NULL);
    cr_expect(strstr(page, "openclaw_lat_seconds") == NULL, "%s", page);
    cr_expect_eq(value_of(page, "openclaw_metrics_series_dropped_total"), (tries - room) + 1 + 1);
    cr_expect_eq(value_of(page, "openclaw_late"), 7);
    free(page);
    gw_metrics_free(r);
}

/* ---- process metrics and promtool ---------------------------------------- */

Test(metrics, process_metrics)
{
    gw_metrics_t *r = gw_metrics_new();
    char *page = render(r);
    static const char *const names[][2] = {
        {"process_cpu_seconds_total", "counter"},
        {"process_max_fds", "gauge"},
        {"process_open_fds", "gauge"},
        {"process_resident_memory_bytes", "gauge"},
        {"process_start_time_seconds", "gauge"},
        {"process_virtual_memory_bytes", "gauge"},
    };
    const char *prev = page;
    for (size_t i = 0; i < 6; i++) {
        char type[96];
        snprintf(type, sizeof type, "# TYPE %s %s\n", names[i][0], names[i][1]);
        const char *at = strstr(page, type);
        cr_expect_not_null(at, "missing %s in:\n%s", type, page);
        cr_expect(at >= prev, "%s out of order", names[i][0]);
        prev = at ? at : prev;
    }
    cr_expect(strstr(page, "# HELP process_cpu_seconds_total Total user and system CPU time "
                           "spent in seconds.\n") != NULL);
    cr_expect(strstr(page, "# HELP process_start_time_seconds Start time of the process since "
                           "unix epoch in seconds.\n") != NULL);
    cr_expect_gt(value_of(page, "process_open_fds"), 2);
    cr_expect_geq(value_of(page, "process_max_fds"), value_of(page, "process_open_fds"));
    cr_expect_gt(value_of(page, "process_resident_memory_bytes"), 100000);
    cr_expect_gt(value_of(page, "process_virtual_memory_bytes"),
                 value_of(page, "process_resident_memory_bytes"));
    cr_expect_geq(value_of(page, "process_cpu_seconds_total"), 0);
    double start = value_of(page, "process_start_time_seconds");
    double now = (double)time(NULL);
    cr_expect(start > now - 3600 && start <= now + 1, "start %f now %f", start, now);
    free(page);
    gw_metrics_free(r);
}

static const char *find_promtool(void)
{
    static const char *const paths[] = {"/usr/bin/promtool", "/usr/local/bin/promtool"};
    for (size_t i = 0; i < 2; i++)
        if (access(paths[i], X_OK) == 0)
            return paths[i];
    return NULL;
}

Test(metrics, promtool_check_metrics)
{
    const char *promtool = find_promtool();
    if (promtool == NULL)
        cr_skip("promtool not installed");
    static const double b[] = {0.01, 0.1, 1};
    gw_metrics_t *r = gw_metrics_new();
    gw_metric_t *req = reg(r, OC_METRIC_COUNTER, "openclaw_http_requests_total",
                           "HTTP requests by route \\ status.\nSecond line.",
                           L("route", "method", "status", NULL), NULL, 0);
    gw_metric_t *lat = reg(r, OC_METRIC_HISTOGRAM, "openclaw_http_request_duration_seconds",
                           "Request latency.", L("route", NULL), NULL, 0);
    gw_metric_t *ttft = reg(r, OC_METRIC_HISTOGRAM, "openclaw_provider_ttft_seconds",
                            "Time to first token.", NULL, b, 3);
    gw_metric_t *g =
        reg(r, OC_METRIC_GAUGE, "openclaw_odd_values", "Odd values.", L("kind", NULL), NULL, 0);
    gw_metric_t *info = reg(r, OC_METRIC_GAUGE, "openclaw_build_info", "Build information.",
                            L("version", NULL), NULL, 0);
    cr_assert(req && lat && ttft && g && info, "%s", err);
    gw_metric_add(req, L("/v1/chat/completions", "POST", "200"), 10);
    gw_metric_add(req, L("/health", "GET", "200"), 3);
    gw_metric_add(req, L("say \"x\"\\\n", "GET", "bad\xff\xfe"), 1);
    gw_metric_observe(lat, L("/health"), 0.0003);
    gw_metric_observe(lat, L("/v1/chat/completions"), 1.7);
    gw_metric_observe(ttft, NULL, 0.05);
    gw_metric_set(g, L("nan"), NAN);
    gw_metric_set(g, L("inf"), INFINITY);
    gw_metric_set(g, L("neg"), -1e-9);
    gw_metric_set(info, L("0.1.0"), 1);

    char *page = render(r);
    char path[] = "/tmp/test_metrics_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    size_t len = strlen(page);
    cr_assert_eq(write(fd, page, len), (ssize_t)len);
    close(fd);
    char cmd[256], outpath[64];
    snprintf(outpath, sizeof outpath, "%s.out", path);
    snprintf(cmd, sizeof cmd, "%s check metrics < %s > %s 2>&1", promtool, path, outpath);
    int st = system(cmd);
    char out[4096] = "";
    FILE *f = fopen(outpath, "r");
    if (f != NULL) {
        out[fread(out, 1, sizeof out - 1, f)] = '\0';
        fclose(f);
    }
    unlink(path);
    unlink(outpath);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "promtool failed (%d):\n%s\npage:\n%s", st,
              out, page);
    free(page);
    gw_metrics_free(r);
}
