/* metrics/validate.c - registration checks and text escaping.
 *
 * The name rules are those of the exposition format plus what
 * `promtool check metrics` lints (client_golang's promlint), so a family that
 * registers renders a clean page. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "metrics/metrics_int.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static const char *type_word(int type)
{
    switch (type) {
    case OC_METRIC_COUNTER: return "counter";
    case OC_METRIC_GAUGE: return "gauge";
    case OC_METRIC_HISTOGRAM: return "histogram";
    default: return "metric";
    }
}

static int is_alpha_(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* [a-zA-Z_][a-zA-Z0-9_]* */
static int is_ident(const char *s)
{
    if (s == NULL || !is_alpha_(s[0]))
        return 0;
    for (const char *p = s + 1; *p; p++)
        if (!is_alpha_(*p) && !(*p >= '0' && *p <= '9'))
            return 0;
    return 1;
}

/* promlint's camelCase test: a lower-case letter followed by an upper-case one. */
static int is_camel(const char *s)
{
    for (; s[0] && s[1]; s++)
        if (s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'A' && s[1] <= 'Z')
            return 1;
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Contains "_tok_" or ends in "_tok", ignoring case (as promlint does on the
 * lower-cased name). */
static int has_token_ci(const char *name, const char *tok)
{
    size_t k = strlen(tok);
    for (const char *p = strchr(name, '_'); p != NULL; p = strchr(p + 1, '_'))
        if (strncasecmp(p + 1, tok, k) == 0 && (p[1 + k] == '_' || p[1 + k] == '\0'))
            return 1;
    return 0;
}

/* promlint's unit table: unit -> its base unit. */
static const struct {
    const char *unit;
    const char *base;
} units[] = {
    {"amperes", "amperes"},    {"bytes", "bytes"},     {"celsius", "celsius"},
    {"grams", "grams"},        {"joules", "joules"},   {"kelvin", "kelvin"},
    {"meters", "meters"},      {"metres", "metres"},   {"seconds", "seconds"},
    {"volts", "volts"},        {"minutes", "seconds"}, {"hours", "seconds"},
    {"days", "seconds"},       {"weeks", "seconds"},   {"kelvins", "kelvin"},
    {"fahrenheit", "celsius"}, {"rankine", "celsius"}, {"inches", "meters"},
    {"yards", "meters"},       {"miles", "meters"},    {"bits", "bytes"},
    {"calories", "joules"},    {"pounds", "grams"},    {"ounces", "grams"},
};
static const char *const unit_prefixes[] = {
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo",
    "kibi", "mega", "mibi",  "giga",  "gibi",  "tera", "tebi", "peta",  "pebi",
};
static const char *const unit_abbrevs[] = {
    "s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d",
};
static const char *const type_words[] = {"counter", "gauge", "histogram", "summary"};

static int is_unit_prefix(const char *p, size_t n)
{
    for (size_t i = 0; i < sizeof unit_prefixes / sizeof *unit_prefixes; i++)
        if (strlen(unit_prefixes[i]) == n && memcmp(unit_prefixes[i], p, n) == 0)
            return 1;
    return 0;
}

/* A name token that is a known unit other than its base unit ("milliseconds",
 * "kilobytes", "hours"): sets *tok, *toklen and *base, returns 1. promlint
 * reports the first unit it finds in map order; flagging any makes the check
 * deterministic and never weaker. */
static int non_base_unit(const char *name, const char **tok, size_t *toklen, const char **base)
{
    const char *t = name;
    while (*t) {
        size_t n = strcspn(t, "_");
        for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
            size_t k = strlen(units[i].unit);
            if (n < k || memcmp(t + n - k, units[i].unit, k) != 0)
                continue;
            int prefixed = n > k;
            if (prefixed && !is_unit_prefix(t, n - k))
                continue;
            if (prefixed || strcmp(units[i].unit, units[i].base) != 0) {
                *tok = t;
                *toklen = n;
                *base = units[i].base;
                return 1;
            }
        }
        t += n;
        if (*t == '_')
            t++;
    }
    return 0;
}

static int check_name(int type, const char *name, char *err, size_t errlen)
{
    const char *tw = type_word(type);
    if (!is_ident(name))
        return fail(err, errlen, "invalid metric name \"%s\": must match [a-zA-Z_][a-zA-Z0-9_]*",
                    name ? name : "(null)");
    if (strncmp(name, "process_", 8) == 0)
        return fail(err, errlen, "metric name \"%s\" is reserved (process_* metrics are built in)",
                    name);
    if (is_camel(name))
        return fail(err, errlen, "metric name \"%s\" must be snake_case, not camelCase", name);
    if (type == OC_METRIC_COUNTER && !ends_with(name, "_total"))
        return fail(err, errlen, "counter name \"%s\" must end in _total", name);
    if (type != OC_METRIC_COUNTER && ends_with(name, "_total"))
        return fail(err, errlen, "%s name \"%s\" must not end in _total (only counters do)", tw,
                    name);
    if (type != OC_METRIC_HISTOGRAM) {
        static const char *const reserved[] = {"_bucket", "_count", "_sum"};
        for (size_t i = 0; i < 3; i++)
            if (ends_with(name, reserved[i]))
                return fail(err, errlen,
                            "%s name \"%s\" must not end in %s (reserved for histograms)", tw, name,
                            reserved[i]);
    }
    for (size_t i = 0; i < sizeof type_words / sizeof *type_words; i++)
        if (has_token_ci(name, type_words[i]))
            return fail(err, errlen, "metric name \"%s\" must not contain the type \"%s\"", name,
                        type_words[i]);
    for (size_t i = 0; i < sizeof unit_abbrevs / sizeof *unit_abbrevs; i++)
        if (has_token_ci(name, unit_abbrevs[i]))
            return fail(err, errlen,
                        "metric name \"%s\" uses the abbreviated unit \"%s\"; spell out the base "
                        "unit (_seconds, _bytes)",
                        name, unit_abbrevs[i]);
    const char *tok, *base;
    size_t toklen;
    if (non_base_unit(name, &tok, &toklen, &base))
        return fail(err, errlen,
                    "metric name \"%s\" uses the unit \"%.*s\"; use the base unit \"%s\"", name,
                    (int)toklen, tok, base);
    return 0;
}

static int check_labels(const char *name, const char *const *label_names, size_t *nlabels,
                        char *err, size_t errlen)
{
    size_t n = 0;
    for (; label_names != NULL && label_names[n] != NULL; n++) {
        const char *l = label_names[n];
        if (n == GW_METRIC_MAX_LABELS)
            return fail(err, errlen, "metric \"%s\" has more than %d labels", name,
                        GW_METRIC_MAX_LABELS);
        if (!is_ident(l))
            return fail(err, errlen,
                        "invalid label name \"%s\" for metric \"%s\": must match "
                        "[a-zA-Z_][a-zA-Z0-9_]*",
                        l, name);
        if (l[0] == '_' && l[1] == '_')
            return fail(err, errlen,
                        "label name \"%s\" for metric \"%s\" is reserved (starts with __)", l,
                        name);
        if (strcmp(l, "le") == 0)
            return fail(err, errlen,
                        "label name \"le\" for metric \"%s\" is reserved (histogram buckets)",
                        name);
        if (strcmp(l, "quantile") == 0)
            return fail(err, errlen,
                        "label name \"quantile\" for metric \"%s\" is reserved (summaries)", name);
        if (is_camel(l))
            return fail(err, errlen,
                        "label name \"%s\" for metric \"%s\" must be snake_case, not camelCase", l,
                        name);
        for (size_t j = 0; j < n; j++)
            if (strcmp(label_names[j], l) == 0)
                return fail(err, errlen, "duplicate label name \"%s\" for metric \"%s\"", l, name);
    }
    *nlabels = n;
    return 0;
}

static int check_buckets(int type, const char *name, const double *buckets, size_t nbuckets,
                         char *err, size_t errlen)
{
    if (type != OC_METRIC_HISTOGRAM) {
        if (buckets != NULL)
            return fail(err, errlen, "buckets given for non-histogram metric \"%s\"", name);
        return 0;
    }
    if (buckets == NULL)
        return 0;
    if (nbuckets == 0 || nbuckets > GW_METRIC_MAX_BUCKETS)
        return fail(err, errlen, "histogram \"%s\": needs 1 to %d buckets, got %zu", name,
                    GW_METRIC_MAX_BUCKETS, nbuckets);
    for (size_t i = 0; i < nbuckets; i++) {
        if (!isfinite(buckets[i]))
            return fail(err, errlen,
                        "histogram \"%s\": bucket %zu is not finite (+Inf is implicit)", name, i);
        if (i > 0 && !(buckets[i] > buckets[i - 1]))
            return fail(err, errlen,
                        "histogram \"%s\": buckets must be strictly ascending (bucket %zu: %g "
                        "after %g)",
                        name, i, buckets[i], buckets[i - 1]);
    }
    return 0;
}

int gw_metrics_check(int type, const char *name, const char *help, const char *const *label_names,
                     size_t *nlabels, const double *buckets, size_t nbuckets, char *err,
                     size_t errlen)
{
    if (type != OC_METRIC_COUNTER && type != OC_METRIC_GAUGE && type != OC_METRIC_HISTOGRAM)
        return fail(err, errlen, "invalid metric type %d for \"%s\"", type, name ? name : "(null)");
    int rc = check_name(type, name, err, errlen);
    if (rc == 0 && (help == NULL || help[0] == '\0'))
        rc = fail(err, errlen, "metric \"%s\" needs a help text", name);
    if (rc == 0)
        rc = check_labels(name, label_names, nlabels, err, errlen);
    if (rc == 0)
        rc = check_buckets(type, name, buckets, nbuckets, err, errlen);
    return rc;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 when invalid.
 * Same acceptance as Go's utf8.ValidString, which Prometheus' parser uses. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* > U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return len;
}

int gw_metrics_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    while (len > 0) {
        size_t k = utf8_seq(p, len);
        if (k == 0)
            return 0;
        p += k;
        len -= k;
    }
    return 1;
}

int gw_metrics_escape(gw_buf_t *out, const char *s, int flags)
{
    int text = (flags & GW_ESC_TEXT) != 0, quote = (flags & GW_ESC_QUOTE) != 0;
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    while (len > 0) {
        /* Copy the longest run that needs nothing done in one append. */
        size_t run = 0;
        while (run < len) {
            unsigned char c = p[run];
            if ((text && (c == '\\' || c == '\n')) || (quote && c == '"'))
                break;
            size_t k = utf8_seq(p + run, len - run);
            if (k == 0)
                break;
            run += k;
        }
        if (run > 0 && gw_buf_append(out, p, run) != 0)
            return -ENOMEM;
        p += run;
        len -= run;
        if (len == 0)
            break;
        const char *rep;
        if (text && *p == '\\')
            rep = "\\\\";
        else if (text && *p == '\n')
            rep = "\\n";
        else if (quote && *p == '"')
            rep = "\\\"";
        else
            rep = "\xEF\xBF\xBD"; /* an invalid byte: U+FFFD */
        if (gw_buf_puts(out, rep) != 0)
            return -ENOMEM;
        p++;
        len--;
    }
    return 0;
}
