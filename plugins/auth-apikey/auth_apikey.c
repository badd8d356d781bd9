/* auth-apikey - API key / bearer token authentication for the gateway.
 *
 * Accepts `Authorization: Bearer <apiKey|bearerToken>`, `X-API-Key: <apiKey>`
 * and the WebSocket connect token (either secret). Secrets are compared in
 * constant time without leaking their length: both sides go through
 * HMAC-SHA256 under a random per-process key and the 32-byte digests are
 * compared with a branch-free loop. Only the digests of the configured
 * secrets are kept; the plaintext is never copied out of the config.
 *
 * Failed attempts are rate limited per remote address (IPv4 address, IPv6
 * /64 prefix) in a bounded, striped table (see "rate limiter" below).
 *
 * Threads: authenticate runs on any HTTP worker loop concurrently. The
 * configured digests and limits are immutable after init; the rate-limit
 * table is split into stripes, each behind its own mutex. */
#include <openclaw/plugin.h>

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define APIKEY_MIN_LEN 8
#define DIGEST_LEN 32

/* Rate-limit table bounds: at most RL_MAX_ENTRIES addresses in total, split
 * evenly over RL_STRIPES independently locked stripes. */
#define RL_STRIPES 16u
#define RL_MAX_ENTRIES 65536u
#define RL_STRIPE_CAP (RL_MAX_ENTRIES / RL_STRIPES)
#define RL_BUCKETS 1024u /* per stripe, power of two */
#define RL_INITIAL_ALLOC 64u
#define RL_SWEEP_INTERVAL_MS 100u /* at most one full expiry sweep per stripe per interval */
#define RL_NIL UINT32_MAX

/* New lockouts are logged at info at most once per interval (an attacker
 * rotating addresses must not flood the log); the rest go to debug and are
 * counted in the next info line. */
#define LOCKOUT_LOG_INTERVAL_MS 10000u

/* Upper bounds of the rateLimit values (overflow safety, not policy). */
#define RL_MAX_ATTEMPTS_LIMIT 1000000
#define RL_MAX_MS (365LL * 24 * 3600 * 1000) /* one year */

/* ------------------------------------------------------------------------ */

typedef struct rl_entry_s {
    uint8_t key[16];       /* normalised address */
    uint32_t hnext;        /* bucket chain, or free list when unused */
    uint32_t lprev, lnext; /* LRU list: head = most recently touched */
    uint32_t failures;     /* failures in the current window */
    uint64_t window_start; /* ms, start of the current failure window */
    uint64_t locked_until; /* ms, 0 = not locked */
} rl_entry_t;

typedef struct rl_stripe_s {
    pthread_mutex_t mu;
    rl_entry_t *pool; /* pool_alloc slots, grown by doubling up to RL_STRIPE_CAP */
    uint32_t pool_alloc;
    uint32_t pool_used; /* slots ever handed out (high-water mark) */
    uint32_t count;     /* live entries */
    uint32_t free_head; /* recycled slots, chained through hnext */
    uint32_t lru_head, lru_tail;
    uint64_t min_expiry; /* lower bound of every live entry's expiry */
    uint64_t last_sweep; /* ms of the last full sweep (0 = never) */
    uint32_t buckets[RL_BUCKETS];
} rl_stripe_t;

typedef struct apikey_state_s {
    const oc_host_api_t *host;
    oc_plugin_t *self;

    uint8_t mac_key[DIGEST_LEN]; /* HMAC key for secret comparison, per process */
    uint8_t sip_key[16];         /* hash key for the rate-limit table */
    uint8_t api_digest[DIGEST_LEN];
    uint8_t bearer_digest[DIGEST_LEN];
    bool has_api;
    bool has_bearer;

    uint32_t max_attempts;
    uint64_t window_ms;
    uint64_t lockout_ms;
    bool exempt_loopback;

    _Atomic uint64_t lockout_logged_at; /* ms of the last info line about a lockout */
    _Atomic uint32_t lockouts_unlogged; /* lockouts since then logged at debug only */

    rl_stripe_t stripes[RL_STRIPES];
    bool stripes_ready;
} apikey_state_t;

/* ---- small helpers ------------------------------------------------------ */

static void wipe(void *p, size_t n)
{
    gnutls_memset(p, 0, n);
}

/* Constant-time equality of two digests. */
static int ct_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    volatile uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= (uint8_t)(a[i] ^ b[i]);
    return ((uint32_t)acc - 1u) >> 31; /* 1 when acc == 0 */
}

static int secret_digest(const apikey_state_t *st, const char *s, size_t len, uint8_t out[DIGEST_LEN])
{
    return gnutls_hmac_fast(GNUTLS_MAC_SHA256, st->mac_key, sizeof st->mac_key, s, len, out) == 0
               ? 0
               : -1;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0u) != 0x80u)
            n++;
    return n;
}

#define RES_HAS(res, member)                                                                   \
    ((res) != NULL &&                                                                          \
     offsetof(oc_auth_result_t, member) + sizeof((res)->member) <= (res)->struct_size)

static void set_reason(oc_auth_result_t *res, const char *fmt, ...) OC_PRINTF(2, 3);
static void set_reason(oc_auth_result_t *res, const char *fmt, ...)
{
    if (!RES_HAS(res, reason))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->reason, sizeof res->reason, fmt, ap);
    va_end(ap);
}

static void set_principal(oc_auth_result_t *res, const char *who)
{
    if (RES_HAS(res, principal))
        snprintf(res->principal, sizeof res->principal, "%s", who);
}

static void set_retry_after(oc_auth_result_t *res, uint32_t s)
{
    if (RES_HAS(res, retry_after_s))
        res->retry_after_s = s;
}

/* ---- SipHash-2-4 (table hashing, keyed against hash flooding) ----------- */

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                               \
    do {                                                                                       \
        v0 += v1;                                                                              \
        v1 = ROTL64(v1, 13);                                                                   \
        v1 ^= v0;                                                                              \
        v0 = ROTL64(v0, 32);                                                                   \
        v2 += v3;                                                                              \
        v3 = ROTL64(v3, 16);                                                                   \
        v3 ^= v2;                                                                              \
        v0 += v3;                                                                              \
        v3 = ROTL64(v3, 21);                                                                   \
        v3 ^= v0;                                                                              \
        v2 += v1;                                                                              \
        v1 = ROTL64(v1, 17);                                                                   \
        v1 ^= v2;                                                                              \
        v2 = ROTL64(v2, 32);                                                                   \
    } while (0)

static uint64_t load64_le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* SipHash-2-4 of exactly 16 bytes. */
static uint64_t siphash16(const uint8_t key[16], const uint8_t in[16])
{
    uint64_t k0 = load64_le(key), k1 = load64_le(key + 8);
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    uint64_t v3 = 0x7465646279746573ULL ^ k1;
    for (int i = 0; i < 2; i++) {
        uint64_t m = load64_le(in + 8 * i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)16 << 56;
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- rate limiter --------------------------------------------------------
 * One entry per address with failures in the current fixed window
 * (window_start .. window_start + windowMs) and, once maxAttempts failures
 * were reached, a lockout until locked_until. An entry is expired (carries
 * no information) when it is not locked and its window is over. A success
 * from an address that is not locked removes its entry.
 *
 * Bound: each stripe holds at most RL_STRIPE_CAP entries. A new address in a
 * full stripe first evicts expired entries (the LRU tail when it is expired,
 * else a full sweep, at most every RL_SWEEP_INTERVAL_MS), then the least
 * recently touched entry. Lookups hash the address with a random SipHash
 * key so chains cannot be flooded. */

/* Normalised key: IPv4 (and IPv4-mapped IPv6) as ::ffff:a.b.c.d; IPv6 as its
 * /64 prefix (one host or subnet usually owns a whole /64, so rotating the
 * interface identifier does not reset the count); anything else as a keyed
 * hash of the text. */
static void addr_key(const apikey_state_t *st, const char *addr, uint8_t key[16])
{
    memset(key, 0, 16);
    struct in_addr a4;
    struct in6_addr a6;
    if (addr != NULL && inet_pton(AF_INET, addr, &a4) == 1) {
        key[10] = 0xff;
        key[11] = 0xff;
        memcpy(key + 12, &a4, 4);
        return;
    }
    if (addr != NULL && inet_pton(AF_INET6, addr, &a6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
            memcpy(key, &a6, 16);
            return;
        }
        memcpy(key, &a6, 8); /* /64 */
        return;
    }
    /* Not an address (unix socket, zone id, missing): hash the text. The
     * result lives in the same 128-bit space; a collision with a real
     * address is as likely as a SHA-256 collision. */
    uint8_t d[DIGEST_LEN];
    const char *s = addr != NULL ? addr : "";
    if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, st->sip_key, sizeof st->sip_key, s, strlen(s), d) ==
        0)
        memcpy(key, d, 16);
    key[0] |= 0x80; /* keep it out of ::/64 and ::ffff:0:0/96 */
}

static uint64_t entry_expiry(const apikey_state_t *st, const rl_entry_t *e)
{
    uint64_t w = e->window_start + st->window_ms;
    return e->locked_until > w ? e->locked_until : w;
}

static bool entry_expired(const apikey_state_t *st, const rl_entry_t *e, uint64_t now)
{
    return now >= entry_expiry(st, e);
}

static void lru_unlink(rl_stripe_t *s, uint32_t i)
{
    rl_entry_t *e = &s->pool[i];
    if (e->lprev != RL_NIL)
        s->pool[e->lprev].lnext = e->lnext;
    else
        s->lru_head = e->lnext;
    if (e->lnext != RL_NIL)
        s->pool[e->lnext].lprev = e->lprev;
    else
        s->lru_tail = e->lprev;
    e->lprev = e->lnext = RL_NIL;
}

static void lru_push_head(rl_stripe_t *s, uint32_t i)
{
    rl_entry_t *e = &s->pool[i];
    e->lprev = RL_NIL;
    e->lnext = s->lru_head;
    if (s->lru_head != RL_NIL)
        s->pool[s->lru_head].lprev = i;
    s->lru_head = i;
    if (s->lru_tail == RL_NIL)
        s->lru_tail = i;
}

static void lru_touch(rl_stripe_t *s, uint32_t i)
{
    if (s->lru_head == i)
        return;
    lru_unlink(s, i);
    lru_push_head(s, i);
}

static uint32_t rl_find(rl_stripe_t *s, uint32_t bucket, const uint8_t key[16])
{
    for (uint32_t i = s->buckets[bucket]; i != RL_NIL; i = s->pool[i].hnext)
        if (memcmp(s->pool[i].key, key, 16) == 0)
            return i;
    return RL_NIL;
}

static void rl_remove(const apikey_state_t *st, rl_stripe_t *s, uint32_t i)
{
    rl_entry_t *e = &s->pool[i];
    uint32_t bucket = (uint32_t)(siphash16(st->sip_key, e->key) >> 32) & (RL_BUCKETS - 1);
    uint32_t *pp = &s->buckets[bucket];
    while (*pp != RL_NIL && *pp != i)
        pp = &s->pool[*pp].hnext;
    if (*pp == i)
        *pp = e->hnext;
    lru_unlink(s, i);
    memset(e, 0, sizeof *e);
    e->hnext = s->free_head;
    e->lprev = e->lnext = RL_NIL;
    s->free_head = i;
    s->count--;
}

/* Evict expired entries from a full stripe, or else the oldest one. */
static void rl_make_room(const apikey_state_t *st, rl_stripe_t *s, uint64_t now)
{
    if (s->lru_tail != RL_NIL && entry_expired(st, &s->pool[s->lru_tail], now)) {
        rl_remove(st, s, s->lru_tail);
        return;
    }
    if (now >= s->min_expiry && (s->last_sweep == 0 || now - s->last_sweep >= RL_SWEEP_INTERVAL_MS)) {
        s->last_sweep = now;
        uint64_t min = UINT64_MAX;
        uint32_t i = s->lru_head;
        while (i != RL_NIL) {
            uint32_t next = s->pool[i].lnext;
            if (entry_expired(st, &s->pool[i], now)) {
                rl_remove(st, s, i);
            } else {
                uint64_t x = entry_expiry(st, &s->pool[i]);
                if (x < min)
                    min = x;
            }
            i = next;
        }
        s->min_expiry = min;
        if (s->count < RL_STRIPE_CAP)
            return;
    }
    if (s->lru_tail != RL_NIL)
        rl_remove(st, s, s->lru_tail);
}

/* A slot for a new entry, or RL_NIL when memory ran out. */
static uint32_t rl_alloc_slot(const apikey_state_t *st, rl_stripe_t *s, uint64_t now)
{
    if (s->count >= RL_STRIPE_CAP)
        rl_make_room(st, s, now);
    if (s->free_head != RL_NIL) {
        uint32_t i = s->free_head;
        s->free_head = s->pool[i].hnext;
        return i;
    }
    if (s->pool_used == s->pool_alloc) {
        uint32_t n = s->pool_alloc ? s->pool_alloc * 2 : RL_INITIAL_ALLOC;
        if (n > RL_STRIPE_CAP)
            n = RL_STRIPE_CAP;
        if (n <= s->pool_alloc)
            return RL_NIL; /* cannot happen: count < cap implies a free slot */
        rl_entry_t *p = realloc(s->pool, (size_t)n * sizeof *p);
        if (p == NULL) {
            if (s->lru_tail == RL_NIL)
                return RL_NIL;
            rl_remove(st, s, s->lru_tail); /* reuse the oldest instead */
            uint32_t i = s->free_head;
            s->free_head = s->pool[i].hnext;
            return i;
        }
        s->pool = p;
        s->pool_alloc = n;
    }
    return s->pool_used++;
}

typedef struct rl_ctx_s {
    rl_stripe_t *stripe;
    uint32_t bucket;
    uint8_t key[16];
} rl_ctx_t;

static void rl_locate(apikey_state_t *st, const char *addr, rl_ctx_t *c)
{
    addr_key(st, addr, c->key);
    uint64_t h = siphash16(st->sip_key, c->key);
    c->stripe = &st->stripes[h % RL_STRIPES];
    c->bucket = (uint32_t)(h >> 32) & (RL_BUCKETS - 1);
}

static uint32_t ceil_seconds(uint64_t ms)
{
    uint64_t s = (ms + 999) / 1000;
    if (s < 1)
        s = 1;
    if (s > UINT32_MAX)
        s = UINT32_MAX;
    return (uint32_t)s;
}

/* Outcome of one attempt under the stripe lock. */
enum rl_verdict { RL_ALLOW, RL_DENY, RL_LOCKED, RL_NOW_LOCKED };

/* Checks the lockout and records the attempt, atomically per address.
 * *retry_ms is set with RL_LOCKED / RL_NOW_LOCKED. The clock is read under
 * the lock so that times recorded for one address never go backwards. */
static enum rl_verdict rl_attempt(apikey_state_t *st, const rl_ctx_t *c, bool ok,
                                  uint64_t *retry_ms, uint32_t *failures_out)
{
    rl_stripe_t *s = c->stripe;
    enum rl_verdict v;
    pthread_mutex_lock(&s->mu);
    uint64_t now = st->host->now_ms();
    uint32_t i = rl_find(s, c->bucket, c->key);
    rl_entry_t *e = i != RL_NIL ? &s->pool[i] : NULL;
    if (e != NULL && e->locked_until != 0) {
        if (now < e->locked_until) {
            *retry_ms = e->locked_until - now;
            lru_touch(s, i);
            pthread_mutex_unlock(&s->mu);
            return RL_LOCKED;
        }
        /* The lockout is over: start afresh. */
        e->locked_until = 0;
        e->failures = 0;
        e->window_start = now;
    }
    if (ok) {
        if (e != NULL)
            rl_remove(st, s, i);
        pthread_mutex_unlock(&s->mu);
        return RL_ALLOW;
    }
    if (e == NULL) {
        i = rl_alloc_slot(st, s, now);
        if (i == RL_NIL) { /* out of memory: deny without counting */
            pthread_mutex_unlock(&s->mu);
            *failures_out = 0;
            return RL_DENY;
        }
        e = &s->pool[i];
        memset(e, 0, sizeof *e);
        memcpy(e->key, c->key, 16);
        e->window_start = now;
        e->hnext = s->buckets[c->bucket];
        s->buckets[c->bucket] = i;
        lru_push_head(s, i);
        s->count++;
    } else {
        if (now >= e->window_start && now - e->window_start >= st->window_ms) {
            e->failures = 0;
            e->window_start = now;
        }
        lru_touch(s, i);
    }
    e->failures++;
    *failures_out = e->failures;
    v = RL_DENY;
    if (e->failures >= st->max_attempts) {
        if (st->lockout_ms > 0) {
            e->locked_until = now + st->lockout_ms;
            *retry_ms = st->lockout_ms;
            v = RL_NOW_LOCKED;
        } else {
            /* lockoutMs 0: counting only; start a new window. */
            e->failures = 0;
            e->window_start = now;
        }
    }
    uint64_t x = entry_expiry(st, e);
    if (x < s->min_expiry)
        s->min_expiry = x;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* ---- credentials -------------------------------------------------------- */

typedef struct offered_s {
    const char *p;
    size_t len;
    bool api_ok;    /* may match apiKey */
    bool bearer_ok; /* may match bearerToken */
} offered_t;

/* "Bearer <token>": scheme case-insensitive, any spaces or tabs around. Other
 * schemes are not ours (NULL). An empty token counts as none. */
static const char *parse_bearer(const char *h, size_t *len)
{
    while (is_ows(*h))
        h++;
    if (strncasecmp(h, "bearer", 6) != 0 || !(is_ows(h[6]) || h[6] == '\0'))
        return NULL;
    h += 6;
    while (is_ows(*h))
        h++;
    size_t n = strlen(h);
    while (n > 0 && is_ows(h[n - 1]))
        n--;
    if (n == 0)
        return NULL;
    *len = n;
    return h;
}

static const char *trim(const char *s, size_t *len)
{
    while (is_ows(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_ows(s[n - 1]))
        n--;
    *len = n;
    return n ? s : NULL;
}

static void log_lockout(apikey_state_t *st, const char *addr, uint32_t secs)
{
    const oc_host_api_t *h = st->host;
    uint64_t now = h->now_ms();
    uint64_t last = atomic_load(&st->lockout_logged_at);
    if ((last == 0 || now - last >= LOCKOUT_LOG_INTERVAL_MS) &&
        atomic_compare_exchange_strong(&st->lockout_logged_at, &last, now)) {
        uint32_t quiet = atomic_exchange(&st->lockouts_unlogged, 0);
        if (quiet > 0)
            h->log(st->self, OC_LOG_INFO,
                   "%s locked out for %u s after %u failed authentication attempts (and %u "
                   "other lockouts logged at debug since the last such line)",
                   addr, secs, st->max_attempts, quiet);
        else
            h->log(st->self, OC_LOG_INFO,
                   "%s locked out for %u s after %u failed authentication attempts", addr, secs,
                   st->max_attempts);
        return;
    }
    atomic_fetch_add(&st->lockouts_unlogged, 1);
    if (h->log_enabled(st->self, OC_LOG_DEBUG))
        h->log(st->self, OC_LOG_DEBUG,
               "%s locked out for %u s after %u failed authentication attempts", addr, secs,
               st->max_attempts);
}

static int32_t apikey_authenticate(void *state, const oc_auth_request_t *req, oc_auth_result_t *res)
{
    apikey_state_t *st = state;
    if (st == NULL || req == NULL)
        return OC_EINVAL;

    offered_t off[3];
    size_t n = 0;
    size_t len = 0;
    const char *p;
    if (req->authorization != NULL && (p = parse_bearer(req->authorization, &len)) != NULL)
        off[n++] = (offered_t){p, len, true, true};
    if (req->api_key != NULL && (p = trim(req->api_key, &len)) != NULL)
        off[n++] = (offered_t){p, len, true, false};
    if (req->token != NULL && req->token[0] != '\0')
        off[n++] = (offered_t){req->token, strlen(req->token), true, true};

    /* Nothing we understand offered, or nothing configured to compare with:
     * no opinion. */
    if (n == 0 || (!st->has_api && !st->has_bearer))
        return OC_DECLINED;

    /* Compare every offered value against both secrets, always, in constant
     * time; absent secrets are never matched (their digest slot is random). */
    int api_match = 0, bearer_match = 0;
    for (size_t k = 0; k < n; k++) {
        uint8_t d[DIGEST_LEN];
        if (secret_digest(st, off[k].p, off[k].len, d) != 0) {
            set_reason(res, "internal error computing digest");
            return OC_EINTERNAL;
        }
        int a = ct_eq(d, st->api_digest, DIGEST_LEN) & (int)st->has_api & (int)off[k].api_ok;
        int b = ct_eq(d, st->bearer_digest, DIGEST_LEN) & (int)st->has_bearer &
                (int)off[k].bearer_ok;
        api_match |= a;
        bearer_match |= b;
        wipe(d, sizeof d);
    }
    bool ok = (api_match | bearer_match) != 0;

    bool limited = !(st->exempt_loopback && req->remote_is_loopback);
    const char *addr = req->remote_addr != NULL ? req->remote_addr : "?";
    uint64_t retry_ms = 0;
    uint32_t failures = 0;
    enum rl_verdict v = ok ? RL_ALLOW : RL_DENY;
    if (limited) {
        rl_ctx_t c;
        rl_locate(st, req->remote_addr, &c);
        v = rl_attempt(st, &c, ok, &retry_ms, &failures);
    }

    switch (v) {
    case RL_ALLOW:
        set_principal(res, api_match ? "apiKey" : "bearerToken");
        return OC_OK;
    case RL_NOW_LOCKED:
        /* The failure that reaches maxAttempts is still answered as a
         * denial; the lockout applies from the next attempt on, as in
         * OpenClaw ("the 21st failure in 60 s returns 429"). */
        log_lockout(st, addr, ceil_seconds(retry_ms));
        /* fall through */
    case RL_DENY:
        set_reason(res, "credentials match neither apiKey nor bearerToken");
        if (st->host->log_enabled(st->self, OC_LOG_DEBUG))
            st->host->log(st->self, OC_LOG_DEBUG, "denied %s %s from %s: invalid credentials (%u of %u)",
                          req->method ? req->method : "?", req->path ? req->path : "?", addr,
                          failures, st->max_attempts);
        return OC_EACCES;
    case RL_LOCKED:
    default: {
        uint32_t s = ceil_seconds(retry_ms);
        set_retry_after(res, s);
        set_reason(res, "too many failed authentication attempts; retry in %u s", s);
        if (v == RL_LOCKED && st->host->log_enabled(st->self, OC_LOG_DEBUG))
            st->host->log(st->self, OC_LOG_DEBUG, "denied %s %s from %s: locked out for %u s more",
                          req->method ? req->method : "?", req->path ? req->path : "?", addr, s);
        return OC_ELIMIT;
    }
    }
}

static int32_t apikey_has_credentials(void *state)
{
    const apikey_state_t *st = state;
    return st != NULL && (st->has_api || st->has_bearer);
}

/* ---- lifecycle ---------------------------------------------------------- */

/* Reads one secret. Empty = not set. On success with a value, stores its
 * digest in `digest` and sets *has. */
static int32_t read_secret(apikey_state_t *st, oc_config_t *cfg, const char *key,
                           uint8_t digest[DIGEST_LEN], bool *has)
{
    const oc_host_api_t *h = st->host;
    const char *v = NULL;
    int32_t rc = h->cfg_str(st->self, cfg, key, NULL, &v);
    if (rc == OC_ENOENT || (rc == OC_OK && (v == NULL || v[0] == '\0')))
        return OC_OK;
    if (rc != OC_OK)
        return OC_ECONFIG;

    oc_config_t *node = h->cfg_child(st->self, cfg, key);
    size_t chars = utf8_chars(v);
    size_t blen = strlen(v);
    if (chars < APIKEY_MIN_LEN) {
        h->cfg_error(st->self, node,
                     "too short (%zu characters); use at least %d, e.g. "
                     "`openssl rand -hex 24`",
                     chars, APIKEY_MIN_LEN);
        return OC_ECONFIG;
    }
    for (size_t i = 0; i < blen; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c == 0x7f) {
            h->cfg_error(st->self, node,
                         "contains a control character (a trailing newline from a secret "
                         "file?); no client could send it in a header");
            return OC_ECONFIG;
        }
    }
    if (is_ows(v[0]) || is_ows(v[blen - 1])) {
        h->cfg_error(st->self, node,
                     "starts or ends with whitespace, which clients cannot send in a header; "
                     "remove it");
        return OC_ECONFIG;
    }
    if (secret_digest(st, v, blen, digest) != 0) {
        h->cfg_error(st->self, node, "cannot compute HMAC-SHA256 (GnuTLS)");
        return OC_ECONFIG;
    }
    *has = true;
    return OC_OK;
}

static int32_t read_limits(apikey_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    oc_config_t *rl = h->cfg_child(st->self, cfg, "rateLimit");
    if (rl == NULL || h->cfg_type(rl) == OC_CFG_NULL)
        return OC_OK;
    if (h->cfg_type(rl) != OC_CFG_MAP) {
        h->cfg_error(st->self, rl,
                     "must be a map: {maxAttempts, windowMs, lockoutMs, exemptLoopback}");
        return OC_ECONFIG;
    }
    int32_t bad = 0, rc;
    int64_t v = 0;
#define GOT(rc) ((rc) == OC_OK || (rc) == OC_ENOENT)
    rc = h->cfg_int(st->self, rl, "maxAttempts", st->max_attempts, 1, RL_MAX_ATTEMPTS_LIMIT, &v);
    if (GOT(rc))
        st->max_attempts = (uint32_t)v;
    else
        bad = 1;
    rc = h->cfg_int(st->self, rl, "windowMs", (int64_t)st->window_ms, 1, RL_MAX_MS, &v);
    if (GOT(rc))
        st->window_ms = (uint64_t)v;
    else
        bad = 1;
    rc = h->cfg_int(st->self, rl, "lockoutMs", (int64_t)st->lockout_ms, 0, RL_MAX_MS, &v);
    if (GOT(rc))
        st->lockout_ms = (uint64_t)v;
    else
        bad = 1;
    int32_t b = 0;
    rc = h->cfg_bool(st->self, rl, "exemptLoopback", st->exempt_loopback, &b);
    if (GOT(rc))
        st->exempt_loopback = b != 0;
    else
        bad = 1;
#undef GOT
    return bad ? OC_ECONFIG : OC_OK;
}

static void apikey_destroy(void *state);

static int32_t apikey_init(const oc_host_api_t *host, oc_plugin_t *self, oc_config_t *cfg,
                           void **out)
{
    if (host == NULL || out == NULL)
        return OC_EINVAL;
    *out = NULL;
    apikey_state_t *st = calloc(1, sizeof *st);
    if (st == NULL)
        return OC_ENOMEM;
    st->host = host;
    st->self = self;
    st->max_attempts = 10;
    st->window_ms = 60000;
    st->lockout_ms = 300000;
    st->exempt_loopback = true;

    /* Random keys. Unset secret slots get random digests too, so they can
     * never match whatever is offered (has_* also gates them). */
    if (gnutls_rnd(GNUTLS_RND_KEY, st->mac_key, sizeof st->mac_key) != 0 ||
        gnutls_rnd(GNUTLS_RND_KEY, st->sip_key, sizeof st->sip_key) != 0 ||
        gnutls_rnd(GNUTLS_RND_NONCE, st->api_digest, sizeof st->api_digest) != 0 ||
        gnutls_rnd(GNUTLS_RND_NONCE, st->bearer_digest, sizeof st->bearer_digest) != 0) {
        host->log(self, OC_LOG_ERROR, "cannot get random bytes from GnuTLS");
        free(st);
        return OC_EINTERNAL;
    }

    int32_t rc = OC_OK;
    if (cfg != NULL) {
        int32_t t = host->cfg_type(cfg);
        if (t == OC_CFG_MAP) {
            /* Report every problem, not only the first. */
            if (read_secret(st, cfg, "apiKey", st->api_digest, &st->has_api) != OC_OK)
                rc = OC_ECONFIG;
            if (read_secret(st, cfg, "bearerToken", st->bearer_digest, &st->has_bearer) != OC_OK)
                rc = OC_ECONFIG;
            if (read_limits(st, cfg) != OC_OK)
                rc = OC_ECONFIG;
        } else if (t != OC_CFG_NULL) {
            host->cfg_error(self, cfg, "must be a map (apiKey, bearerToken, rateLimit, ...)");
            rc = OC_ECONFIG;
        }
    }
    if (rc != OC_OK) {
        wipe(st, sizeof *st);
        free(st);
        return rc;
    }

    for (uint32_t i = 0; i < RL_STRIPES; i++) {
        rl_stripe_t *s = &st->stripes[i];
        pthread_mutex_init(&s->mu, NULL);
        s->free_head = s->lru_head = s->lru_tail = RL_NIL;
        s->min_expiry = UINT64_MAX;
        for (uint32_t b = 0; b < RL_BUCKETS; b++)
            s->buckets[b] = RL_NIL;
    }
    st->stripes_ready = true;

    if (host->log_enabled(self, OC_LOG_DEBUG))
        host->log(self, OC_LOG_DEBUG,
                  "apiKey %s, bearerToken %s; rate limit %u failures per %llu ms, lockout %llu "
                  "ms, loopback %s",
                  st->has_api ? "set" : "not set", st->has_bearer ? "set" : "not set",
                  st->max_attempts, (unsigned long long)st->window_ms,
                  (unsigned long long)st->lockout_ms, st->exempt_loopback ? "exempt" : "limited");
    *out = st;
    return OC_OK;
}

static void apikey_destroy(void *state)
{
    apikey_state_t *st = state;
    if (st == NULL)
        return;
    if (st->stripes_ready) {
        for (uint32_t i = 0; i < RL_STRIPES; i++) {
            rl_stripe_t *s = &st->stripes[i];
            pthread_mutex_destroy(&s->mu);
            if (s->pool != NULL)
                wipe(s->pool, (size_t)s->pool_alloc * sizeof *s->pool);
            free(s->pool);
        }
    }
    wipe(st, sizeof *st); /* keys and digests */
    free(st);
}

static const oc_plugin_ops_t apikey_ops = {
    OC_PLUGIN_OPS_INIT,
    .init = apikey_init,
    .destroy = apikey_destroy,
};

static const oc_auth_ops_t apikey_auth_ops = {
    OC_AUTH_OPS_INIT,
    .authenticate = apikey_authenticate,
    .has_credentials = apikey_has_credentials,
};

OC_PLUGIN_DEFINE_FLAGS(OC_KIND_AUTH, "auth-apikey", "1.0.0",
                       "API key / bearer token auth with per-address rate limiting",
                       OC_PLUGIN_F_MULTI_LOOP, &apikey_ops, &apikey_auth_ops)
