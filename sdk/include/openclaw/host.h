/* openclaw/host.h - the services the gateway gives a plugin.
 *
 * The host passes a `const oc_host_api_t *` to `init`. It is host-owned, const
 * and valid from `init` until `destroy` returns. Plugins link against no
 * gateway symbol: everything they use from the gateway is in this table.
 *
 * ============================================================================
 *  APPEND ONLY. Never reorder, remove or retype a member. New members go at
 *  the end, tagged with the minor that added them, and plugins test for them
 *  with OC_HOST_HAS(host, member) before calling.
 * ============================================================================
 *
 * Threads (see sdk/ABI.md, "Threading model"):
 *  - A plugin has a home loop: the gateway's main loop. Lifecycle calls and
 *    kind operations run there unless the kind's header says otherwise.
 *  - Host functions marked "thread-safe" may be called from any thread.
 *    Every other host function must be called on a gateway loop thread (the
 *    home loop, or a worker loop while the host is running one of the
 *    plugin's operations there) and acts on the loop of the calling thread.
 *  - Objects created on a loop (timers, HTTP calls) belong to that loop: stop
 *    or cancel them on the same loop.
 *
 * Ownership: strings and structs passed to a callback are borrowed for the
 * duration of the call only; copy what you keep. Objects the host creates for
 * the plugin (oc_timer_t, oc_http_call_t, oc_metric_t) are host-owned and are
 * released by their completion callback or by the matching stop/cancel call,
 * never with free(). */
#ifndef OPENCLAW_HOST_H
#define OPENCLAW_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "openclaw/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define OC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define OC_PRINTF(fmt, args)
#endif

/* Opaque host objects. */
typedef struct oc_plugin_s oc_plugin_t;       /* the host's handle to one plugin instance */
typedef struct oc_config_s oc_config_t;       /* a node of the parsed configuration */
typedef struct oc_timer_s oc_timer_t;         /* a timer on one loop */
typedef struct oc_http_call_s oc_http_call_t; /* an HTTP client call in flight */
typedef struct oc_metric_s oc_metric_t;       /* a metric family */
typedef struct oc_storage_s oc_storage_t;     /* see openclaw/storage.h */
typedef struct oc_envelope_s oc_envelope_t;   /* see openclaw/channel.h */
typedef struct oc_http_exchange_s oc_http_exchange_t; /* an inbound HTTP request awaiting its
                                                         response (since 1.1) */
typedef struct oc_lease_watch_s oc_lease_watch_t; /* a watched lease (since 1.2) */
typedef struct oc_io_s oc_io_t;                   /* a watched file descriptor (since 1.2) */

/* Log levels (fixed values; 0 is never valid). */
#define OC_LOG_DEBUG 1
#define OC_LOG_INFO 2
#define OC_LOG_WARN 3
#define OC_LOG_ERROR 4

/* Config node types returned by cfg_type. */
#define OC_CFG_NULL 1
#define OC_CFG_SCALAR 2
#define OC_CFG_MAP 3
#define OC_CFG_LIST 4

/* Metric types. */
#define OC_METRIC_COUNTER 1
#define OC_METRIC_GAUGE 2
#define OC_METRIC_HISTOGRAM 3

typedef void (*oc_timer_cb)(void *data);
typedef void (*oc_post_cb)(void *data);
typedef void (*oc_work_cb)(void *data);                /* runs on a thread-pool thread */
typedef void (*oc_work_done_cb)(void *data, int32_t status); /* runs on the submitting loop */

/* ---- HTTP client ------------------------------------------------------- */

typedef struct oc_http_header_s {
    const char *name;
    const char *value;
} oc_http_header_t;

/* A request. Everything is borrowed: the host copies what it needs before
 * http_request returns. */
typedef struct oc_http_request_s {
    uint32_t struct_size; /* sizeof(oc_http_request_t) as the plugin saw it */
    uint32_t timeout_ms;  /* whole call; 0 = 60000 */
    const char *method;   /* "GET", "POST", ...; NULL = GET, or POST when body is set */
    const char *url;      /* absolute http:// or https:// URL */
    const oc_http_header_t *headers;
    size_t header_count;
    const char *body; /* may be NULL */
    size_t body_len;
    uint32_t connect_timeout_ms; /* 0 = 10000 */
    uint32_t flags;              /* OC_HTTP_F_* */
} oc_http_request_t;

#define OC_HTTP_F_STREAM 0x1u /* deliver the body in pieces through on_data */

typedef struct oc_http_response_s {
    uint32_t struct_size;
    int32_t status; /* OC_OK when an HTTP response arrived (any code), else an OC_E* */
    int32_t http_status;       /* 0 when no response */
    uint32_t reserved0;
    const char *error;         /* human text when status != OC_OK, else NULL */
    const oc_http_header_t *headers; /* names lower-case */
    size_t header_count;
    const char *body; /* whole body (not with OC_HTTP_F_STREAM); NUL-terminated */
    size_t body_len;
    uint64_t total_ms; /* time from request to completion */
} oc_http_response_t;

/* on_data: a piece of a streamed body (OC_HTTP_F_STREAM), borrowed for the
 * call; return OC_OK to go on or OC_ECANCELED to abort the call.
 * on_done: exactly once per call that http_request returned, unless
 * http_cancel was called first; the call is freed after it returns. */
typedef struct oc_http_callbacks_s {
    uint32_t struct_size;
    uint32_t reserved0;
    int32_t (*on_data)(void *data, const oc_http_response_t *head, const char *chunk, size_t len);
    void (*on_done)(void *data, const oc_http_response_t *res);
} oc_http_callbacks_t;

/* ---- inbound HTTP routes (since 1.1) ----------------------------------- */

/* An inbound request on a route a plugin registered. Everything is borrowed
 * for the call to the handler; the body is complete (the server read it,
 * bounded by server.limits.maxBodyBytes, before the handler runs). */
typedef struct oc_http_server_request_s {
    uint32_t struct_size;
    int32_t remote_is_loopback;
    const char *method;  /* "POST", ... */
    const char *path;    /* without the query, e.g. "/channels/webhook/inbound" */
    const char *query;   /* after '?', or NULL */
    const oc_http_header_t *headers; /* names lower-case, in arrival order */
    size_t header_count;
    const char *body;    /* NUL-terminated (the NUL is not counted) */
    size_t body_len;
    const char *remote_addr;
} oc_http_server_request_t;

/* Runs on the plugin's home loop. The handler must answer every exchange
 * exactly once with http_respond, now or later (on the home loop). */
typedef void (*oc_http_handler_cb)(void *data, oc_http_exchange_t *ex,
                                   const oc_http_server_request_t *req);

/* ---- inbound messages (since 1.1) -------------------------------------- */

/* The result of inbound_submit. Borrowed for the callback. */
typedef struct oc_inbound_ack_s {
    uint32_t struct_size;
    int32_t duplicate;   /* 1: this (channel, account, message id) was accepted before */
    uint64_t id;         /* the gateway's inbox id */
    const char *error;   /* why, when status != OC_OK; NULL otherwise */
} oc_inbound_ack_t;

/* status: OC_OK once the message is durably stored (acknowledge the platform
 * now); OC_EINVAL (a required envelope field is missing; ack->error says
 * which); OC_EUNAVAIL (storage is down: do NOT acknowledge, let the platform
 * retry); OC_ECANCELED (the gateway is stopping). Runs on the home loop. */
typedef void (*oc_inbound_cb)(void *data, int32_t status, const oc_inbound_ack_t *ack);

/* ---- leases (since 1.2) ------------------------------------------------ */

/* held: 1 when this gateway now holds the lease (start the single-poller
 * work), 0 when it lost it (stop that work now: another gateway may take
 * over once the lease expires). Runs on the home loop. */
typedef void (*oc_lease_watch_cb)(void *data, int32_t held);

/* ---- file descriptors (since 1.2) -------------------------------------- */

/* Readiness events of io_start / io_update. */
#define OC_IO_READ 0x1u  /* readable (also: the peer closed, or an error is pending) */
#define OC_IO_WRITE 0x2u /* writable */

/* events: the ready subset of what the watch asks for. status: OC_OK, or
 * OC_EIO when polling the descriptor failed (events then holds everything
 * the watch asks for, so the plugin's own read or write reports the cause).
 * Runs on the loop that started the watch; may call io_update or io_stop. */
typedef void (*oc_io_cb)(void *data, int32_t status, uint32_t events);

/* ---- the host table ---------------------------------------------------- */

typedef struct oc_host_api_s {
    uint32_t struct_size; /* sizeof the host's table; see OC_HOST_HAS */
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *host_version; /* gateway version, e.g. "0.1.0" */

    /* -- core (since 1.0) -- */

    /* Name of an OC_* code. Thread-safe. Never NULL. */
    const char *(*strerror)(int32_t code);
    /* Memory that crosses the boundary. Thread-safe. */
    void *(*alloc)(size_t size);
    void *(*calloc)(size_t n, size_t size);
    void *(*realloc)(void *p, size_t size);
    void (*free)(void *p);

    /* -- logging (since 1.0) -- */

    /* Thread-safe. The host prefixes the plugin name and redacts secrets
     * (keys, tokens, passwords, Authorization values) it recognises. */
    void (*log)(oc_plugin_t *self, int32_t level, const char *fmt, ...) OC_PRINTF(3, 4);
    /* Thread-safe. Non-zero when `level` would be written. */
    int32_t (*log_enabled)(oc_plugin_t *self, int32_t level);

    /* -- configuration (since 1.0) --
     * Nodes are host-owned and valid until the next successful reload or
     * destroy. Every getter takes a map node and a key; it marks the key as
     * used (keys no plugin or core section uses are reported as unknown) and
     * reports a wrong type or out-of-range value itself, with
     * file:line:column, returning OC_ECONFIG. A missing key yields `def` and
     * OC_ENOENT (not an error unless the plugin says so). Strings are
     * borrowed, already ${VAR}-expanded. */
    oc_config_t *(*cfg_root)(oc_plugin_t *self); /* the plugin's section; may be NULL */
    oc_config_t *(*cfg_child)(oc_plugin_t *self, oc_config_t *map, const char *key);
    int32_t (*cfg_type)(const oc_config_t *node);
    int32_t (*cfg_str)(oc_plugin_t *self, oc_config_t *map, const char *key, const char *def,
                       const char **out);
    int32_t (*cfg_int)(oc_plugin_t *self, oc_config_t *map, const char *key, int64_t def,
                       int64_t min, int64_t max, int64_t *out);
    int32_t (*cfg_bool)(oc_plugin_t *self, oc_config_t *map, const char *key, int32_t def,
                        int32_t *out);
    /* Lists and maps: number of items, item i, and (maps) the key of item i. */
    size_t (*cfg_len)(const oc_config_t *node);
    oc_config_t *(*cfg_at)(oc_plugin_t *self, oc_config_t *node, size_t i);
    const char *(*cfg_key_at)(const oc_config_t *map, size_t i);
    /* Scalar text of a node (lists of strings); NULL when not a scalar. */
    const char *(*cfg_scalar)(const oc_config_t *node);
    /* Report an error at `node` (or the plugin's section when NULL) with its
     * file:line:column and dotted path. Makes init/reload fail. */
    void (*cfg_error)(oc_plugin_t *self, const oc_config_t *node, const char *fmt, ...)
        OC_PRINTF(3, 4);

    /* -- event loop (since 1.0) -- */

    /* Monotonic milliseconds. Thread-safe. */
    uint64_t (*now_ms)(void);
    /* Start a timer on the calling thread's loop: `cb` fires after timeout_ms
     * and then every repeat_ms (0 = once). A one-shot timer is released after
     * its callback returns; a repeating one by timer_stop. */
    oc_timer_t *(*timer_start)(oc_plugin_t *self, uint64_t timeout_ms, uint64_t repeat_ms,
                               oc_timer_cb cb, void *data);
    /* Stop and release. After it returns the callback never runs. Calling it
     * on a one-shot timer whose callback already ran is an error. */
    void (*timer_stop)(oc_timer_t *timer);
    /* THE thread-safe way in: run cb(data) on the plugin's home loop soon.
     * Returns OC_ECANCELED once the gateway is shutting down (cb never runs). */
    int32_t (*post)(oc_plugin_t *self, oc_post_cb cb, void *data);
    /* Run work(data) on a thread-pool thread, then done(data, status) on the
     * calling loop (status OC_ECANCELED when the gateway stopped first).
     * This is where blocking calls (sqlite, file I/O) belong. */
    int32_t (*work_submit)(oc_plugin_t *self, oc_work_cb work, oc_work_done_cb done, void *data);

    /* -- HTTP client (since 1.0): libcurl multi on the calling loop, with
     * connection reuse. Returns NULL (and logs why) on a bad request. -- */
    oc_http_call_t *(*http_request)(oc_plugin_t *self, const oc_http_request_t *req,
                                    const oc_http_callbacks_t *cbs, void *data);
    /* Cancel: on_done will not be called. Only before on_done ran. */
    void (*http_cancel)(oc_http_call_t *call);

    /* -- metrics (since 1.0) --
     * Families are registered during init or start; names must match
     * [a-z_][a-z0-9_]* and are exported as openclaw_<name>; counters must
     * end in _total. label_names is a NULL-terminated list (NULL = none);
     * buckets (histograms only) ascending, NULL = defaults. The host owns
     * the family until the gateway exits. Registration is loop-only; the
     * update functions are thread-safe. Label values must be bounded (never
     * ids, keys or user text). */
    oc_metric_t *(*metric_new)(oc_plugin_t *self, int32_t type, const char *name, const char *help,
                               const char *const *label_names, const double *buckets,
                               size_t bucket_count);
    void (*metric_add)(oc_metric_t *m, const char *const *label_values, double v);
    void (*metric_set)(oc_metric_t *m, const char *const *label_values, double v);
    void (*metric_observe)(oc_metric_t *m, const char *const *label_values, double v);

    /* -- storage (since 1.0) --
     * The gateway's active storage (see openclaw/storage.h), available from
     * start on; NULL before, or when the plugin is itself the storage. */
    const oc_storage_t *(*storage)(oc_plugin_t *self);

    /* -- inbound HTTP (since 1.1) --
     * Register a handler for requests whose path is `path` exactly, or
     * starts with it when it ends in '/'. Channel plugins only, during init;
     * the path must start with "/channels/<channel name>/" (e.g.
     * "/channels/webhook/inbound"). Gateway auth is not applied: the channel
     * checks its own signatures. OC_EINVAL (logged) for a bad or taken path. */
    int32_t (*http_route)(oc_plugin_t *self, const char *path, oc_http_handler_cb cb,
                          void *data);
    /* Answer an exchange, exactly once, on the home loop. headers may be
     * NULL; body is copied. The exchange is released by this call. If the
     * client went away meanwhile the answer is dropped silently. */
    void (*http_respond)(oc_http_exchange_t *ex, int32_t status, const char *content_type,
                         const oc_http_header_t *headers, size_t header_count,
                         const char *body, size_t body_len);

    /* -- inbound messages (since 1.1) --
     * Hand an inbound message to the gateway (channel plugins, home loop).
     * The envelope is copied. The gateway deduplicates it on (channel,
     * account, message_id), stores it durably, then calls cb; after that the
     * message is the gateway's: policy, routing, the agent run and the reply
     * (through the channel's send) follow, and survive a crash. Returns
     * OC_PENDING (cb will run), or an error now (cb never runs). */
    int32_t (*inbound_submit)(oc_plugin_t *self, const oc_envelope_t *env, oc_inbound_cb cb,
                              void *data);

    /* -- leases (since 1.2) --
     * Single-poller work (Telegram long polling, a periodic sync) must run
     * on exactly one of the gateways that share a store. lease_watch keeps
     * trying to hold the lease "<plugin name>:<name>" (name 1..128 bytes of
     * [A-Za-z0-9._:-]) in the storage, renews it every ttl_ms / 3, and
     * calls cb(data, 1) when this gateway got it and cb(data, 0) when it lost
     * it (a renewal failed, or did not succeed before the lease could have
     * expired). ttl_ms 0 = 15000, else 1000..600000. From start on, home
     * loop; *out is host-owned until lease_unwatch (which releases the
     * lease when held; cb does not run afterwards). OC_EINVAL for a bad
     * name or ttl, OC_ENOTSUP when the storage has no leases. */
    int32_t (*lease_watch)(oc_plugin_t *self, const char *name, uint32_t ttl_ms,
                           oc_lease_watch_cb cb, void *data, oc_lease_watch_t **out);
    void (*lease_unwatch)(oc_lease_watch_t *w);

    /* -- file descriptors (since 1.2) --
     * For client libraries with a non-blocking socket API (libpq, hiredis)
     * on a gateway loop: watch a socket the plugin owns on the calling
     * thread's loop. cb runs whenever one of `events` (OC_IO_*) is ready,
     * level-triggered: again on every loop turn while it stays ready.
     * io_update changes the events (0 pauses the watch). io_stop releases
     * the watch at once: cb never runs after it returns, and the descriptor
     * stays open (close it after io_stop, never before; a library that
     * replaced its socket needs a new watch). One watch per descriptor.
     * Loop only, on the loop that started the watch. io_start returns NULL
     * (and logs why) for a bad descriptor, events or callback. */
    oc_io_t *(*io_start)(oc_plugin_t *self, int fd, uint32_t events, oc_io_cb cb, void *data);
    int32_t (*io_update)(oc_io_t *io, uint32_t events); /* OC_OK or OC_EINVAL */
    void (*io_stop)(oc_io_t *io);
} oc_host_api_t;

/* True when the host's table has `member` and it is set. */
#define OC_HOST_HAS(host, member)                                                              \
    ((host) != NULL &&                                                                         \
     offsetof(oc_host_api_t, member) + sizeof(((oc_host_api_t *)0)->member) <=                 \
         (host)->struct_size &&                                                                \
     (host)->member != NULL)

#ifdef __cplusplus
}
#endif
#endif
