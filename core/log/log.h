/* log/log.h - the gateway's log: levels, pretty or JSON lines, always redacted.
 *
 * Every line goes to stderr (unless turned off) and, after gw_log_open_file,
 * is also appended to a file (what `openclaw logs` reads). A line is written
 * with a single write(2), so lines from several threads never interleave.
 *
 * Formats (the file gets the same format as stderr, never coloured):
 *   pretty: 2026-11-21T10:00:00.123Z INFO  [component] message
 *           control characters in the message are escaped (\n, \r, \xNN) so
 *           one call is always one line; colour only when stderr is a TTY and
 *           NO_COLOR is unset.
 *   json:   {"ts":"2026-11-21T10:00:00.123Z","level":"info","component":"x","msg":"..."}
 *           one object per line; invalid UTF-8 becomes U+FFFD.
 *
 * Redaction is always on and applies to the formatted message (see
 * gw_redact). Messages longer than GW_LOG_MAX_MSG bytes are cut after
 * redaction and end with "...(truncated)".
 *
 * Threads: everything marked "thread-safe" may be called from any thread at
 * any time; no lock is held while a line is formatted or redacted.
 * gw_log_shutdown is the exception: call it once every other thread has
 * stopped logging. Levels are OC_LOG_DEBUG..OC_LOG_ERROR (openclaw/host.h). */
#ifndef GW_LOG_LOG_H
#define GW_LOG_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "openclaw/host.h"
#include "util/buf.h"

#define GW_LOG_MAX_MSG (16 * 1024)

/* Level and format (json != 0: JSON lines). Also decides colour from
 * isatty(2) and NO_COLOR. Before any call: info, pretty, no colour.
 * Thread-safe (callers normally call it once at start). */
void gw_log_setup(int level, int json);
void gw_log_set_level(int level); /* thread-safe */
int gw_log_get_level(void);       /* thread-safe */
/* Turn the stderr copy on or off (daemon mode, tests); on by default.
 * Thread-safe. */
void gw_log_set_stderr(int enabled);

/* Also append every line to `path` (created 0600, O_APPEND). Calling it again
 * switches files atomically (lines in flight go to one or the other, whole);
 * path NULL stops the file copy. Returns 0 or -errno (the old file, if any,
 * stays in use on failure). Thread-safe. */
int gw_log_open_file(const char *path);

/* Non-zero when a line at `level` would be written. Thread-safe. */
int gw_log_enabled(int level);

/* Log one line. `component` may be NULL (no "[component]" part). Levels out
 * of range are clamped. Thread-safe. */
void gw_log(int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void gw_logv(int level, const char *component, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#define GW_DEBUG(comp, ...) gw_log(OC_LOG_DEBUG, comp, __VA_ARGS__)
#define GW_INFO(comp, ...) gw_log(OC_LOG_INFO, comp, __VA_ARGS__)
#define GW_WARN(comp, ...) gw_log(OC_LOG_WARN, comp, __VA_ARGS__)
#define GW_ERROR(comp, ...) gw_log(OC_LOG_ERROR, comp, __VA_ARGS__)

/* Register a secret value: from now on every occurrence in any line is
 * masked. Values shorter than 4 bytes are ignored (they would mask ordinary
 * text); duplicates are stored once. The value is copied. Registered values
 * live until gw_log_shutdown. Returns 0, -EINVAL (NULL/too short) or -ENOMEM.
 * Thread-safe; readers never block. */
int gw_log_add_secret(const char *value);

/* Sinks: fn(data, level, component, msg) is called for every line that is
 * written, with the redacted message (borrowed for the call), from the
 * logging thread. For `logs.tail` and the test host. fn must not log (it
 * would deadlock against gw_log_remove_sink) and should be quick. After
 * gw_log_remove_sink returns, fn is never called again with that data.
 * Both return 0, -ENOSPC (GW_LOG_MAX_SINKS reached) or -ENOENT.
 * Thread-safe. */
#define GW_LOG_MAX_SINKS 8
typedef void (*gw_log_sink_fn)(void *data, int level, const char *component, const char *msg);
int gw_log_add_sink(gw_log_sink_fn fn, void *data);
int gw_log_remove_sink(gw_log_sink_fn fn, void *data);

/* Redaction (what every log line goes through; also for `config get`).
 * Appends `in[0..len)` to `out` with every secret masked, and returns the
 * number of masked spans (>= 0), or -ENOMEM. Thread-safe.
 *
 * What is masked (spans that overlap or touch are merged first):
 *  - every registered secret (gw_log_add_secret), exact bytes;
 *  - header-like keys authorization, proxy-authorization, cookie, set-cookie:
 *    the value to the end of the line (or the closing quote), keeping a
 *    known auth scheme word (Bearer, Basic, Bot, Token, ...);
 *  - `Bearer <token>` anywhere (case-insensitive);
 *  - key=value, key: value, key => value, "key":"value" (also \"key\":\"v\"
 *    inside escaped JSON) for keys whose name, compared case-insensitively
 *    and ignoring - _ and ., ends in apikey, token, secret, password, passwd
 *    or privatekey: apiKey, api_key, X-API-Key, token, botToken, bearerToken,
 *    access_token, secret, signingSecret, appSecret, client_secret, password,
 *    passwd, ... An unquoted value ends at whitespace or one of " ' , ; & ) ]
 *    } < >; JSON literals null/true/false and nested {...}/[...] are left;
 *  - credentials in URLs: scheme://user:PASSWORD@host -> scheme://user:***@host
 *    (a userinfo of 20+ bytes with no ':' is taken as a token and masked);
 *  - token shapes: sk-... (OpenAI, sk-ant- Anthropic, sk-proj-), Slack
 *    xoxb-/xoxp-/xoxa-/xoxr-/xoxs-/xoxe-/xapp-, Telegram bot tokens
 *    \d{6,}:[A-Za-z0-9_-]{30,}, GitHub ghp_/gho_/ghu_/ghs_/ghr_/github_pat_,
 *    Google AIza..., JWTs (eyJ...x.y).
 *
 * The mask: a span of 18+ bytes keeps its first 4 and last 2 bytes around
 * "***" (sk-abcdefghijklmnop9Z -> sk-a***9Z); shorter spans, password-like
 * values, URL passwords and any span whose kept bytes would belong to a
 * shorter secret become "***". */
int gw_redact(const char *in, size_t len, gw_buf_t *out);
/* gw_redact of a NUL-terminated string into a new string (caller frees);
 * NULL on ENOMEM. Thread-safe. */
char *gw_redact_str(const char *s);

/* "debug", "info", "warn", "error" (case-insensitive; "warning" too) ->
 * OC_LOG_*; -EINVAL otherwise. gw_log_level_name returns the lower-case name,
 * "unknown" when out of range. Thread-safe. */
int gw_log_level_parse(const char *name);
const char *gw_log_level_name(int level);

/* Close the file, drop sinks, free the registered secrets. Logging still
 * works afterwards (stderr only, no secrets). Not thread-safe: call it when
 * no other thread logs. */
void gw_log_shutdown(void);

#endif
