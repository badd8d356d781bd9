/* config/get.c - typed getters and their messages. */
#include "config/get.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- messages ----------------------------------------------------------- */

static void report(gw_diag_t *d, const gw_cfg_node_t *node, int at_key, const char *fmt,
                   va_list ap)
{
    if (d == NULL)
        return;
    gw_buf_t msg = GW_BUF_INIT;
    if (node && node->path && node->path[0])
        gw_buf_printf(&msg, "%s: ", node->path);
    gw_buf_vprintf(&msg, fmt, ap);
    const char *text = msg.data ? msg.data : "";
    if (node == NULL)
        gw_diag_add(d, NULL, 0, 0, "%s", text);
    else if (node->origin)
        gw_diag_add(d, node->origin, 0, 0, "%s", text);
    else if (at_key && node->key_line > 0)
        gw_diag_add(d, node->file, node->key_line, node->key_col, "%s", text);
    else
        gw_diag_add(d, node->file, node->line, node->col, "%s", text);
    gw_buf_free(&msg);
}

void gw_cfg_errorv(gw_diag_t *d, const gw_cfg_node_t *node, const char *fmt, va_list ap)
{
    report(d, node, 0, fmt, ap);
}

void gw_cfg_error(gw_diag_t *d, const gw_cfg_node_t *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(d, node, 0, fmt, ap);
    va_end(ap);
}

void gw_cfg_error_at_key(gw_diag_t *d, const gw_cfg_node_t *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(d, node, 1, fmt, ap);
    va_end(ap);
}

void gw_cfg_missing(gw_diag_t *d, const gw_cfg_node_t *map, const char *key, const char *hint)
{
    if (hint)
        gw_cfg_error_at_key(d, map, "missing required key '%s' (%s)", key, hint);
    else
        gw_cfg_error_at_key(d, map, "missing required key '%s'", key);
}

/* What a value is, for "got ...": "a map", or the scalar quoted (shortened,
 * and never shown for secrets). Static storage when not a scalar. */
static const char *got(const gw_cfg_node_t *n, char *tmp, size_t len)
{
    if (n->type != OC_CFG_SCALAR)
        return gw_cfg_type_name(n);
    if (gw_cfg_is_secret(n))
        return "a value that is not shown (secret)";
    const char *s = n->scalar;
    if (strlen(s) > 60)
        snprintf(tmp, len, "\"%.57s...\"", s);
    else
        snprintf(tmp, len, "\"%s\"", s);
    return tmp;
}

/* ---- scalar parsing ----------------------------------------------------- */

/* 0 = parsed, -EINVAL = not a decimal integer, -ERANGE = does not fit. */
static int parse_i64(const char *s, int64_t *v)
{
    const char *p = s;
    int neg = *p == '-';
    if (neg)
        p++;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    uint64_t acc = 0;
    int range = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned dgt = (unsigned)(*p - '0');
        if (acc > (UINT64_MAX - dgt) / 10)
            range = 1;
        else
            acc = acc * 10 + dgt;
    }
    if (*p != '\0')
        return -EINVAL;
    if (range || acc > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return -ERANGE;
    *v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return 0;
}

static int parse_bool(const char *s, int *v)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *v = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *v = 0;
            return 0;
        }
    }
    return -EINVAL;
}

static void int_range_text(char *buf, size_t len, int64_t min, int64_t max)
{
    if (min == INT64_MIN && max == INT64_MAX)
        snprintf(buf, len, "an integer");
    else if (max == INT64_MAX)
        snprintf(buf, len, "an integer of at least %" PRId64, min);
    else if (min == INT64_MIN)
        snprintf(buf, len, "an integer of at most %" PRId64, max);
    else
        snprintf(buf, len, "an integer from %" PRId64 " to %" PRId64, min, max);
}

/* ---- node checks -------------------------------------------------------- */

int gw_cfg_node_str(gw_cfg_node_t *node, const char **out, gw_diag_t *d)
{
    if (node == NULL || node->type == OC_CFG_NULL)
        return -ENOENT;
    if (node->type != OC_CFG_SCALAR) {
        gw_cfg_error(d, node, "expected a string, got %s (write one value on the same line, "
                     "quoted if it contains ': ' or ' #')", gw_cfg_type_name(node));
        return -EINVAL;
    }
    *out = node->scalar;
    return 0;
}

int gw_cfg_node_int(gw_cfg_node_t *node, int64_t min, int64_t max, int64_t *out, gw_diag_t *d)
{
    char what[96], tmp[80];
    if (node == NULL || node->type == OC_CFG_NULL)
        return -ENOENT;
    int_range_text(what, sizeof(what), min, max);
    if (node->type != OC_CFG_SCALAR) {
        gw_cfg_error(d, node, "expected %s, got %s (write a whole number)", what,
                     gw_cfg_type_name(node));
        return -EINVAL;
    }
    int64_t v = 0;
    int rc = parse_i64(node->scalar, &v);
    if (rc == -EINVAL) {
        gw_cfg_error(d, node, "expected %s, got %s (write a whole number in digits, without "
                     "units or a decimal point)", what, got(node, tmp, sizeof(tmp)));
        return -EINVAL;
    }
    if (rc == -ERANGE || v < min || v > max) {
        gw_cfg_error(d, node, "expected %s, got %s (out of range)", what,
                     gw_cfg_is_secret(node) ? got(node, tmp, sizeof(tmp)) : node->scalar);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

/* ---- getters ------------------------------------------------------------ */

/* The value of key in map for a getter: NULL when missing or null. */
static gw_cfg_node_t *value(gw_cfg_node_t *map, const char *key)
{
    gw_cfg_node_t *v = gw_cfg_child(map, key);
    return v && v->type != OC_CFG_NULL ? v : NULL;
}

int gw_cfg_get_str(gw_cfg_node_t *map, const char *key, const char *def, const char **out,
                   gw_diag_t *d)
{
    *out = def;
    gw_cfg_node_t *v = value(map, key);
    if (v == NULL)
        return -ENOENT;
    return gw_cfg_node_str(v, out, d);
}

int gw_cfg_get_int(gw_cfg_node_t *map, const char *key, int64_t def, int64_t min, int64_t max,
                   int64_t *out, gw_diag_t *d)
{
    *out = def;
    gw_cfg_node_t *v = value(map, key);
    if (v == NULL)
        return -ENOENT;
    return gw_cfg_node_int(v, min, max, out, d);
}

int gw_cfg_get_bool(gw_cfg_node_t *map, const char *key, int def, int *out, gw_diag_t *d)
{
    char tmp[80];
    *out = def;
    gw_cfg_node_t *v = value(map, key);
    if (v == NULL)
        return -ENOENT;
    int b = 0;
    if (v->type != OC_CFG_SCALAR || parse_bool(v->scalar, &b) != 0) {
        gw_cfg_error(d, v, "expected true or false, got %s (yes/no and on/off work too)",
                     got(v, tmp, sizeof(tmp)));
        return -EINVAL;
    }
    *out = b;
    return 0;
}

int gw_cfg_get_enum(gw_cfg_node_t *map, const char *key, const char *const *allowed,
                    const char *def, const char **out, gw_diag_t *d)
{
    char tmp[80];
    *out = def;
    gw_cfg_node_t *v = value(map, key);
    if (v == NULL)
        return -ENOENT;
    size_t n = 0;
    if (v->type == OC_CFG_SCALAR) {
        for (; allowed[n]; n++)
            if (strcasecmp(allowed[n], v->scalar) == 0) {
                *out = allowed[n];
                return 0;
            }
    } else {
        while (allowed[n])
            n++;
    }
    gw_buf_t list = GW_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        gw_buf_printf(&list, "%s%s", i ? ", " : "", allowed[i]);
    const char *sug = v->type == OC_CFG_SCALAR ? gw_cfg_suggest(v->scalar, allowed, n) : NULL;
    if (sug)
        gw_cfg_error(d, v, "expected one of %s, got %s (did you mean '%s'?)",
                     list.data ? list.data : "", got(v, tmp, sizeof(tmp)), sug);
    else
        gw_cfg_error(d, v, "expected one of %s, got %s (use one of those values)",
                     list.data ? list.data : "", got(v, tmp, sizeof(tmp)));
    gw_buf_free(&list);
    return -EINVAL;
}

#define LIST_HINT "write [a, b] or one '- item' per line"

int gw_cfg_get_list(gw_cfg_node_t *map, const char *key, gw_cfg_node_t **out, gw_diag_t *d)
{
    char tmp[80];
    *out = NULL;
    gw_cfg_node_t *v = value(map, key);
    if (v == NULL)
        return -ENOENT;
    if (v->type != OC_CFG_LIST) {
        gw_cfg_error(d, v, "expected a list, got %s (" LIST_HINT ")", got(v, tmp, sizeof(tmp)));
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int gw_cfg_get_map(gw_cfg_node_t *map, const char *key, gw_cfg_node_t **out, gw_diag_t *d)
{
    char tmp[80];
    *out = NULL;
    gw_cfg_node_t *v = value(map, key);
    if (v == NULL)
        return -ENOENT;
    if (v->type != OC_CFG_MAP) {
        gw_cfg_error(d, v, "expected a map, got %s (write the keys indented under '%s:', or "
                     "{key: value})", got(v, tmp, sizeof(tmp)), key);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int gw_cfg_get_str_list(gw_cfg_node_t *map, const char *key, const char ***out, size_t *count,
                        gw_diag_t *d)
{
    char tmp[80];
    *out = NULL;
    *count = 0;
    gw_cfg_node_t *v = value(map, key);
    if (v == NULL)
        return -ENOENT;
    if (v->type != OC_CFG_LIST) {
        gw_cfg_error(d, v, "expected a list of strings, got %s (" LIST_HINT ")",
                     got(v, tmp, sizeof(tmp)));
        return -EINVAL;
    }
    int rc = 0;
    for (size_t i = 0; i < v->len; i++) {
        gw_cfg_node_t *it = v->items[i];
        if (it->type != OC_CFG_SCALAR) {
            gw_cfg_error(d, it, "expected a string, got %s (one plain value per item)",
                         gw_cfg_type_name(it));
            rc = -EINVAL;
        }
    }
    if (rc != 0)
        return rc;
    const char **arr = calloc(v->len + 1, sizeof(*arr));
    if (arr == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < v->len; i++)
        arr[i] = v->items[i]->scalar;
    *out = arr;
    *count = v->len;
    return 0;
}

/* ---- suggestions and unknown keys -------------------------------------- */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Optimal string alignment distance, case-insensitive; capped inputs. */
static size_t distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63)
        return 64;
    size_t dp[64][64];
    for (size_t i = 0; i <= n; i++)
        dp[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        dp[0][j] = j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            size_t best = dp[i - 1][j] + 1;
            if (dp[i][j - 1] + 1 < best)
                best = dp[i][j - 1] + 1;
            if (dp[i - 1][j - 1] + cost < best)
                best = dp[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]) && dp[i - 2][j - 2] + 1 < best)
                best = dp[i - 2][j - 2] + 1;
            dp[i][j] = best;
        }
    }
    return dp[n][m];
}

const char *gw_cfg_suggest(const char *word, const char *const *cands, size_t n)
{
    size_t len = strlen(word);
    size_t limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        if (cands[i] == NULL || strcmp(cands[i], word) == 0)
            continue;
        size_t dd = distance(word, cands[i]);
        if (dd < best_d) {
            best_d = dd;
            best = cands[i];
        }
    }
    return best;
}

void gw_cfg_report_unknown_key(gw_cfg_node_t *map, size_t i, const char *const *cands, size_t n,
                               gw_diag_t *d)
{
    const gw_cfg_node_t *v = map->items[i];
    const char *key = map->keys[i];
    char in[160];
    if (map->path && map->path[0])
        snprintf(in, sizeof(in), "in %s", map->path);
    else
        snprintf(in, sizeof(in), "at the top level");
    const char *sug = gw_cfg_suggest(key, cands, n);
    gw_buf_t msg = GW_BUF_INIT;
    if (sug) {
        gw_buf_printf(&msg, "unknown key '%s' %s (did you mean '%s'?)", key, in, sug);
    } else if (n > 0 && n <= 16) {
        gw_buf_printf(&msg, "unknown key '%s' %s (remove it; known keys here: ", key, in);
        for (size_t k = 0, first = 1; k < n; k++) {
            if (cands[k] == NULL)
                continue;
            gw_buf_printf(&msg, "%s%s", first ? "" : ", ", cands[k]);
            first = 0;
        }
        gw_buf_putc(&msg, ')');
    } else {
        gw_buf_printf(&msg, "unknown key '%s' %s (remove it)", key, in);
    }
    if (d && msg.data) {
        if (v->origin)
            gw_diag_add(d, v->origin, 0, 0, "%s", msg.data);
        else
            gw_diag_add(d, v->file, v->key_line, v->key_col, "%s", msg.data);
    }
    gw_buf_free(&msg);
}

size_t gw_cfg_report_unused(gw_cfg_node_t *node, gw_diag_t *d)
{
    size_t count = 0;
    if (node == NULL)
        return 0;
    if (node->type == OC_CFG_LIST) {
        for (size_t i = 0; i < node->len; i++)
            count += gw_cfg_report_unused(node->items[i], d);
        return count;
    }
    if (node->type != OC_CFG_MAP)
        return 0;
    for (size_t i = 0; i < node->len; i++) {
        if (node->items[i]->used) {
            count += gw_cfg_report_unused(node->items[i], d);
            continue;
        }
        gw_cfg_report_unknown_key(node, i, (const char *const *)node->known, node->known_len, d);
        count++;
    }
    return count;
}

size_t gw_cfg_report_unknown_keys(gw_cfg_node_t *map, const char *const *allowed, gw_diag_t *d)
{
    size_t n = 0, count = 0;
    if (map == NULL || map->type != OC_CFG_MAP)
        return 0;
    while (allowed[n])
        n++;
    for (size_t i = 0; i < map->len; i++) {
        size_t k = 0;
        while (k < n && strcmp(allowed[k], map->keys[i]) != 0)
            k++;
        if (k == n) {
            gw_cfg_report_unknown_key(map, i, allowed, n, d);
            count++;
        }
    }
    return count;
}
