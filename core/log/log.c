/* log/log.c - levels, line formatting, the file copy, secrets and sinks.
 *
 * The hot path takes no lock: settings are atomics, the secret list is
 * append-only and read with an acquire load, and each finished line goes out
 * with one write(2) (O_APPEND for the file), which is what keeps lines whole
 * across threads. Only sinks (rare: logs.tail, the test host) take a read
 * lock, and only around their call. */
#include "log/log_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int g_level = OC_LOG_INFO;
static atomic_int g_json;
static atomic_int g_colour;
static atomic_int g_to_stderr = 1;

/* The file copy. g_file_fd is a stable descriptor number once created:
 * switching files dup3()s the new file onto it, so a writer that loaded the
 * number just before a switch writes to the old or the new file, never to an
 * unrelated descriptor that reused the number. */
static atomic_int g_file_fd = -1;
static atomic_int g_file_on;
static pthread_mutex_t g_file_mu = PTHREAD_MUTEX_INITIALIZER;

static _Atomic(gw_log_secret_t *) g_secrets;
static pthread_mutex_t g_secret_mu = PTHREAD_MUTEX_INITIALIZER;

static struct {
    gw_log_sink_fn fn;
    void *data;
} g_sinks[GW_LOG_MAX_SINKS];
static atomic_int g_nsinks;
static pthread_rwlock_t g_sink_lock = PTHREAD_RWLOCK_INITIALIZER;

static const char *const level_names[] = {"unknown", "debug", "info", "warn", "error"};
static const char *const level_tags[] = {"?????", "DEBUG", "INFO ", "WARN ", "ERROR"};
static const char *const level_colours[] = {"", "\x1b[90m", "\x1b[32m", "\x1b[33m", "\x1b[31m"};

static int clamp_level(int level)
{
    return level < OC_LOG_DEBUG ? OC_LOG_DEBUG : level > OC_LOG_ERROR ? OC_LOG_ERROR : level;
}

void gw_log_setup(int level, int json)
{
    atomic_store(&g_level, clamp_level(level));
    atomic_store(&g_json, json != 0);
    const char *term = getenv("TERM");
    int colour = isatty(STDERR_FILENO) && getenv("NO_COLOR") == NULL &&
                 !(term != NULL && strcmp(term, "dumb") == 0);
    atomic_store(&g_colour, colour);
}

void gw_log_set_level(int level)
{
    atomic_store(&g_level, clamp_level(level));
}

int gw_log_get_level(void)
{
    return atomic_load(&g_level);
}

void gw_log_set_stderr(int enabled)
{
    atomic_store(&g_to_stderr, enabled != 0);
}

int gw_log_enabled(int level)
{
    return level >= atomic_load_explicit(&g_level, memory_order_relaxed);
}

int gw_log_level_parse(const char *name)
{
    if (name == NULL)
        return -EINVAL;
    for (int i = OC_LOG_DEBUG; i <= OC_LOG_ERROR; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return OC_LOG_WARN;
    return -EINVAL;
}

const char *gw_log_level_name(int level)
{
    return level >= OC_LOG_DEBUG && level <= OC_LOG_ERROR ? level_names[level] : "unknown";
}

/* ---- the file copy ---------------------------------------------------- */

int gw_log_open_file(const char *path)
{
    int rc = 0;
    pthread_mutex_lock(&g_file_mu);
    int slot = atomic_load(&g_file_fd);
    if (path == NULL) {
        atomic_store(&g_file_on, 0);
        /* Park the slot on /dev/null so late writers do no harm. */
        int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (slot >= 0 && nul >= 0)
            dup3(nul, slot, O_CLOEXEC);
        if (nul >= 0)
            close(nul);
        goto out;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    if (slot < 0) {
        atomic_store(&g_file_fd, fd);
    } else {
        if (dup3(fd, slot, O_CLOEXEC) < 0)
            rc = -errno;
        close(fd);
    }
    if (rc == 0)
        atomic_store(&g_file_on, 1);
out:
    pthread_mutex_unlock(&g_file_mu);
    return rc;
}

/* ---- secrets ---------------------------------------------------------- */

const gw_log_secret_t *gw_log_secrets_head(void)
{
    return atomic_load_explicit(&g_secrets, memory_order_acquire);
}

int gw_log_add_secret(const char *value)
{
    if (value == NULL)
        return -EINVAL;
    size_t len = strlen(value);
    if (len < 4)
        return -EINVAL;
    int rc = 0;
    pthread_mutex_lock(&g_secret_mu);
    for (const gw_log_secret_t *s = atomic_load(&g_secrets); s != NULL; s = s->next)
        if (s->len == len && memcmp(s->value, value, len) == 0)
            goto out;
    gw_log_secret_t *s = malloc(sizeof(*s) + len + 1);
    if (s == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    s->len = len;
    memcpy(s->value, value, len + 1);
    s->next = atomic_load(&g_secrets);
    /* Release: a reader that sees the new head sees its contents. */
    atomic_store_explicit(&g_secrets, s, memory_order_release);
out:
    pthread_mutex_unlock(&g_secret_mu);
    return rc;
}

/* ---- sinks ------------------------------------------------------------ */

int gw_log_add_sink(gw_log_sink_fn fn, void *data)
{
    int rc = -ENOSPC;
    pthread_rwlock_wrlock(&g_sink_lock);
    int n = atomic_load(&g_nsinks);
    if (n < GW_LOG_MAX_SINKS) {
        g_sinks[n].fn = fn;
        g_sinks[n].data = data;
        atomic_store(&g_nsinks, n + 1);
        rc = 0;
    }
    pthread_rwlock_unlock(&g_sink_lock);
    return rc;
}

int gw_log_remove_sink(gw_log_sink_fn fn, void *data)
{
    int rc = -ENOENT;
    pthread_rwlock_wrlock(&g_sink_lock);
    int n = atomic_load(&g_nsinks);
    for (int i = 0; i < n; i++) {
        if (g_sinks[i].fn == fn && g_sinks[i].data == data) {
            memmove(&g_sinks[i], &g_sinks[i + 1], (size_t)(n - i - 1) * sizeof(g_sinks[0]));
            atomic_store(&g_nsinks, n - 1);
            rc = 0;
            break;
        }
    }
    pthread_rwlock_unlock(&g_sink_lock);
    return rc;
}

/* ---- formatting ------------------------------------------------------- */

static void put_ts(gw_buf_t *b)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    gw_buf_printf(b, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* Length of the valid UTF-8 sequence at p[0..n), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    /* Overlong forms, surrogates, beyond U+10FFFF. */
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* A JSON string literal (quotes included); invalid UTF-8 becomes U+FFFD so
 * that every line parses. */
static void put_json_str(gw_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    gw_buf_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        /* Copy plain ASCII in runs. */
        while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            gw_buf_append(b, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
                esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            } else {
                size_t ul = utf8_len(p + i, n - i);
                if (ul == 0) {
                    gw_buf_puts(b, "\\ufffd");
                    i++;
                } else {
                    gw_buf_append(b, s + i, ul);
                    i += ul;
                }
                continue;
            }
        }
        gw_buf_puts(b, esc);
        i++;
    }
    gw_buf_putc(b, '"');
}

/* The message for a pretty line: control characters escaped so that one
 * call is one line (a message cannot forge another line). */
static void put_pretty_msg(gw_buf_t *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && ((unsigned char)s[run] >= 0x20 || s[run] == '\t') && s[run] != 0x7f)
            run++;
        gw_buf_append(b, s + i, run - i);
        if (run >= n)
            break;
        unsigned char c = (unsigned char)s[run];
        if (c == '\n')
            gw_buf_puts(b, "\\n");
        else if (c == '\r')
            gw_buf_puts(b, "\\r");
        else
            gw_buf_printf(b, "\\x%02x", c);
        i = run + 1;
    }
}

static void format_line(gw_buf_t *b, int level, const char *component, const char *msg,
                        size_t len, int json, int colour)
{
    if (json) {
        gw_buf_puts(b, "{\"ts\":\"");
        put_ts(b);
        gw_buf_puts(b, "\",\"level\":\"");
        gw_buf_puts(b, level_names[level]);
        gw_buf_putc(b, '"');
        if (component != NULL) {
            gw_buf_puts(b, ",\"component\":");
            put_json_str(b, component, strlen(component));
        }
        gw_buf_puts(b, ",\"msg\":");
        put_json_str(b, msg, len);
        gw_buf_puts(b, "}\n");
        return;
    }
    put_ts(b);
    gw_buf_putc(b, ' ');
    if (colour)
        gw_buf_puts(b, level_colours[level]);
    gw_buf_puts(b, level_tags[level]);
    if (colour)
        gw_buf_puts(b, "\x1b[0m");
    gw_buf_putc(b, ' ');
    if (component != NULL && component[0] != '\0') {
        gw_buf_putc(b, '[');
        put_pretty_msg(b, component, strlen(component));
        gw_buf_puts(b, "] ");
    }
    put_pretty_msg(b, msg, len);
    gw_buf_putc(b, '\n');
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* nowhere to report a failing log */
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Cut an over-long message on a UTF-8 boundary. */
static void truncate_msg(gw_buf_t *m)
{
    if (m->len <= GW_LOG_MAX_MSG)
        return;
    size_t cut = GW_LOG_MAX_MSG;
    while (cut > 0 && ((unsigned char)m->data[cut] & 0xc0) == 0x80)
        cut--;
    m->len = cut;
    m->data[cut] = '\0';
    gw_buf_puts(m, "...(truncated)");
}

void gw_logv(int level, const char *component, const char *fmt, va_list ap)
{
    level = clamp_level(level);
    if (!gw_log_enabled(level))
        return;

    char local[1024];
    char *heap = NULL;
    const char *raw = local;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(local, sizeof(local), fmt, ap);
    if (n < 0) {
        raw = "(bad log format)";
        n = (int)strlen(raw);
    } else if ((size_t)n >= sizeof(local)) {
        raw = heap = malloc((size_t)n + 1);
        if (heap != NULL)
            vsnprintf(heap, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);

    /* Never write the unredacted text, even when memory runs out. */
    gw_buf_t msg = GW_BUF_INIT;
    int ok = raw != NULL && gw_redact(raw, (size_t)n, &msg) >= 0;
    free(heap);
    if (!ok) {
        gw_buf_free(&msg);
        gw_buf_puts(&msg, "(log line dropped: out of memory)");
    }
    truncate_msg(&msg);
    if (msg.data == NULL)
        return;

    int json = atomic_load_explicit(&g_json, memory_order_relaxed);
    int colour = atomic_load_explicit(&g_colour, memory_order_relaxed) && !json;
    gw_buf_t line = GW_BUF_INIT;
    format_line(&line, level, component, msg.data, msg.len, json, 0);

    if (atomic_load_explicit(&g_file_on, memory_order_acquire)) {
        int fd = atomic_load(&g_file_fd);
        if (fd >= 0 && line.data != NULL)
            write_all(fd, line.data, line.len);
    }
    if (atomic_load_explicit(&g_to_stderr, memory_order_relaxed)) {
        if (colour) {
            gw_buf_reset(&line);
            format_line(&line, level, component, msg.data, msg.len, json, 1);
        }
        if (line.data != NULL)
            write_all(STDERR_FILENO, line.data, line.len);
    }
    gw_buf_free(&line);

    if (atomic_load_explicit(&g_nsinks, memory_order_relaxed) > 0) {
        pthread_rwlock_rdlock(&g_sink_lock);
        int ns = atomic_load(&g_nsinks);
        for (int i = 0; i < ns; i++)
            g_sinks[i].fn(g_sinks[i].data, level, component, msg.data);
        pthread_rwlock_unlock(&g_sink_lock);
    }
    gw_buf_free(&msg);
}

void gw_log(int level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gw_logv(level, component, fmt, ap);
    va_end(ap);
}

void gw_log_shutdown(void)
{
    pthread_mutex_lock(&g_file_mu);
    int fd = atomic_exchange(&g_file_fd, -1);
    atomic_store(&g_file_on, 0);
    if (fd >= 0)
        close(fd);
    pthread_mutex_unlock(&g_file_mu);

    pthread_rwlock_wrlock(&g_sink_lock);
    atomic_store(&g_nsinks, 0);
    pthread_rwlock_unlock(&g_sink_lock);

    pthread_mutex_lock(&g_secret_mu);
    gw_log_secret_t *s = atomic_exchange(&g_secrets, NULL);
    pthread_mutex_unlock(&g_secret_mu);
    while (s != NULL) {
        gw_log_secret_t *next = (gw_log_secret_t *)s->next;
        free(s);
        s = next;
    }
}
