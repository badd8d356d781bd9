/* metrics/render.c - the Prometheus text exposition format 0.0.4, and the
 * process_* metrics read from /proc/self at render time. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "metrics/metrics_int.h"

/* printf/strtod follow LC_NUMERIC; the format wants '.', whatever locale the
 * process set. uselocale() switches only the calling thread. */
static locale_t c_numeric;
static pthread_once_t c_numeric_once = PTHREAD_ONCE_INIT;

static void c_numeric_init(void)
{
    c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

int gw_metrics_fmt_double(char *dst, size_t cap, double v)
{
    if (isnan(v))
        return snprintf(dst, cap, "NaN");
    if (isinf(v))
        return snprintf(dst, cap, v > 0 ? "+Inf" : "-Inf");
    /* Integral values (counts, bytes) print as integers, not 1e+06. */
    if (fabs(v) < GW_METRICS_EXACT_INT_MAX && v == trunc(v))
        return snprintf(dst, cap, "%" PRId64, (int64_t)v);
    pthread_once(&c_numeric_once, c_numeric_init);
    locale_t prev = c_numeric != (locale_t)0 ? uselocale(c_numeric) : (locale_t)0;
    /* The shortest of 15..17 significant digits that reads back exactly:
     * 0.1 stays "0.1", not "0.10000000000000001". */
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(dst, cap, "%.*g", prec, v);
        if (strtod(dst, NULL) == v)
            break;
    }
    if (prev != (locale_t)0)
        uselocale(prev);
    return n;
}

static int cmp_series(const void *a, const void *b)
{
    const gw_series_t *x = *(const gw_series_t *const *)a;
    const gw_series_t *y = *(const gw_series_t *const *)b;
    return strcmp(x->labels, y->labels);
}

static const char *type_name(int type)
{
    switch (type) {
    case OC_METRIC_COUNTER: return "counter";
    case OC_METRIC_GAUGE: return "gauge";
    default: return "histogram";
    }
}

static int render_histogram(const gw_metric_t *m, gw_series_t *s, gw_buf_t *out)
{
    const char *sep = s->labels[0] ? "," : "";
    char num[32];
    uint64_t cum = 0;
    /* Counts are read bucket by bucket while updates go on; _count is the
     * same cumulative total as +Inf, so the two always agree. */
    for (size_t i = 0; i <= m->nbounds; i++) {
        cum += atomic_load_explicit(&s->counts[i], memory_order_relaxed);
        if (gw_buf_printf(out, "%s_bucket{%s%sle=\"%s\"} %" PRIu64 "\n", m->name, s->labels, sep,
                          i < m->nbounds ? m->le[i] : "+Inf", cum) != 0)
            return -ENOMEM;
    }
    gw_metrics_fmt_double(num, sizeof num, gw_series_value(s));
    const char *lo = s->labels[0] ? "{" : "", *hi = s->labels[0] ? "}" : "";
    if (gw_buf_printf(out, "%s_sum%s%s%s %s\n", m->name, lo, s->labels, hi, num) != 0 ||
        gw_buf_printf(out, "%s_count%s%s%s %" PRIu64 "\n", m->name, lo, s->labels, hi, cum) != 0)
        return -ENOMEM;
    return 0;
}

/* arr, cap: scratch space for the series pointers, reused across families. */
static int render_family(const gw_metric_t *m, gw_buf_t *out, gw_series_t ***arr, size_t *cap)
{
    size_t n = 0;
    for (gw_series_t *s = atomic_load_explicit(&m->head, memory_order_acquire); s != NULL;
         s = s->next) {
        if (n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 64;
            gw_series_t **a = realloc(*arr, ncap * sizeof *a);
            if (a == NULL)
                return -ENOMEM;
            *arr = a;
            *cap = ncap;
        }
        (*arr)[n++] = s;
    }
    if (n == 0)
        return 0;
    if (n > 1)
        qsort(*arr, n, sizeof **arr, cmp_series);
    if (gw_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
                      type_name(m->type)) != 0)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        gw_series_t *s = (*arr)[i];
        if (m->type == OC_METRIC_HISTOGRAM) {
            if (render_histogram(m, s, out) != 0)
                return -ENOMEM;
            continue;
        }
        char num[32];
        gw_metrics_fmt_double(num, sizeof num, gw_series_value(s));
        int rc = s->labels[0] ? gw_buf_printf(out, "%s{%s} %s\n", m->name, s->labels, num)
                              : gw_buf_printf(out, "%s %s\n", m->name, num);
        if (rc != 0)
            return -ENOMEM;
    }
    return 0;
}

int gw_metrics_render(gw_metrics_t *r, gw_buf_t *out)
{
    size_t mark = out->len;
    gw_series_t **arr = NULL;
    size_t cap = 0;
    int rc = 0;
    pthread_mutex_lock(&r->lock);
    /* process_* goes where its names sort, keeping the page in name order. */
    size_t i = 0;
    for (; rc == 0 && i < r->nfams && strcmp(r->fams[i]->name, "process_") < 0; i++)
        rc = render_family(r->fams[i], out, &arr, &cap);
    if (rc == 0)
        rc = gw_metrics_render_process(r, out);
    for (; rc == 0 && i < r->nfams; i++)
        rc = render_family(r->fams[i], out, &arr, &cap);
    pthread_mutex_unlock(&r->lock);
    free(arr);
    if (rc != 0 && out->cap > 0) {
        out->len = mark;
        out->data[mark] = '\0';
    }
    return rc;
}

/* ---- process_* (Linux /proc; each is left out when it cannot be read) ---- */

static int emit(gw_buf_t *out, const char *name, const char *type, const char *help, double v)
{
    char num[32];
    gw_metrics_fmt_double(num, sizeof num, v);
    return gw_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name, help, name, type, name,
                         num);
}

/* The fields of /proc/self/stat we use (man 5 proc numbering). */
typedef struct proc_stat_s {
    unsigned long long utime;     /* 14, clock ticks */
    unsigned long long stime;     /* 15 */
    unsigned long long starttime; /* 22, clock ticks after boot */
    unsigned long long vsize;     /* 23, bytes */
    long long rss;                /* 24, pages */
} proc_stat_t;

static int read_proc_stat(proc_stat_t *ps)
{
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -EIO;
    buf[n] = '\0';
    /* comm (field 2) may hold spaces and ')': the fields start after the last ')'. */
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return -EIO;
    p++;
    int got = 0;
    for (int field = 3; field <= 24; field++) {
        char *end;
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return -EIO;
        if (field == 14 || field == 15 || field == 22 || field == 23 || field == 24) {
            unsigned long long v = strtoull(p, &end, 10);
            if (end == p)
                return -EIO;
            switch (field) {
            case 14: ps->utime = v; break;
            case 15: ps->stime = v; break;
            case 22: ps->starttime = v; break;
            case 23: ps->vsize = v; break;
            default: ps->rss = (long long)v; break;
            }
            got++;
            p = end;
        } else {
            p += strcspn(p, " ");
        }
    }
    return got == 5 ? 0 : -EIO;
}

static int read_boot_time(double *btime)
{
    FILE *f = fopen("/proc/stat", "re");
    if (f == NULL)
        return -errno;
    char *line = NULL;
    size_t cap = 0;
    int rc = -EIO;
    while (getline(&line, &cap, f) > 0) {
        unsigned long long v;
        if (sscanf(line, "btime %llu", &v) == 1) {
            *btime = (double)v;
            rc = 0;
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

static int count_open_fds(double *nfds)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -errno;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    /* Not counting the descriptor opendir itself held. */
    *nfds = (double)(n > 0 ? n - 1 : 0);
    return 0;
}

/* Under r->lock (start_time is cached there). */
int gw_metrics_render_process(gw_metrics_t *r, gw_buf_t *out)
{
    long ticks = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    proc_stat_t ps;
    int have_stat = ticks > 0 && page > 0 && read_proc_stat(&ps) == 0;
    if (have_stat && r->start_time < 0) {
        double btime = 0;
        if (read_boot_time(&btime) == 0)
            r->start_time = btime + (double)ps.starttime / (double)ticks;
    }
    double nfds = 0;
    struct rlimit rl;
    /* Sorted by name, like the families before them. */
    if (have_stat && emit(out, "process_cpu_seconds_total", "counter",
                          "Total user and system CPU time spent in seconds.",
                          (double)(ps.utime + ps.stime) / (double)ticks) != 0)
        return -ENOMEM;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
        emit(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
             rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur) != 0)
        return -ENOMEM;
    if (count_open_fds(&nfds) == 0 &&
        emit(out, "process_open_fds", "gauge", "Number of open file descriptors.", nfds) != 0)
        return -ENOMEM;
    if (have_stat && emit(out, "process_resident_memory_bytes", "gauge",
                          "Resident memory size in bytes.", (double)ps.rss * (double)page) != 0)
        return -ENOMEM;
    if (r->start_time >= 0 &&
        emit(out, "process_start_time_seconds", "gauge",
             "Start time of the process since unix epoch in seconds.", r->start_time) != 0)
        return -ENOMEM;
    if (have_stat && emit(out, "process_virtual_memory_bytes", "gauge",
                          "Virtual memory size in bytes.", (double)ps.vsize) != 0)
        return -ENOMEM;
    return 0;
}
