/* rd.h - storage-redis: types shared by the plugin's files. Not part of the SDK.
 *
 * Threads (see README.md, "Threading"):
 *  - H, the home loop: the storage ops (validation, argument copies),
 *    every callback, the lifecycle and health. rd_state_t belongs to H.
 *  - T, the plugin's I/O thread: its own libuv loop, the one hiredis
 *    connection, the timers, reply parsing. rd_io_t belongs to T.
 *  - H and T share only rd_shared_t, under its mutex: the op FIFOs between
 *    them, the startup handshake, the health snapshot.
 * The host ABI gives a plugin no file-descriptor watcher and no loop handle,
 * so the connection cannot live on H itself; T only ever calls the host
 * functions the ABI declares thread-safe (log, post, metric updates). */
#ifndef RD_H
#define RD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openclaw/plugin.h>

#define RD_NAME "storage-redis"
#define RD_VERSION "1.2.0"
#define RD_KEY_MAX 512          /* session keys, per storage.h */
#define RD_LEASE_NAME_MAX 255   /* lease names and holders, per storage.h */
#define RD_LIST_DEFAULT 100     /* list limit 0 */
#define RD_TEXT_MAX 512         /* health and error texts */
#define RD_PRUNE_BATCH 500      /* items per prune step (one script run) */
#define RD_LAYOUT_LATEST 2      /* the key layout this build writes (schema.c) */

/* Smallest struct_size accepted: up to the last member read. */
#define RD_MIN_SIZE(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))

/* ---- URL (url.c, pure) --------------------------------------------------- */

typedef struct rd_url_s {
    char *user;     /* NULL: AUTH with the password alone (or no AUTH) */
    char *password; /* NULL: no AUTH */
    char *host;     /* without brackets */
    int port;
    int db;         /* 0..15 */
    char *display;  /* "redis://user:***@host:port/db": what logs and errors show */
} rd_url_t;

/* Parses `text`. 0 on success; -1 with the reason in err (the password is
 * never part of it). The url's strings are malloc'd: rd_url_free. */
int rd_url_parse(const char *text, rd_url_t *url, char *err, size_t errlen);
void rd_url_free(rd_url_t *url);
/* `text` with any password replaced by "***", into out (always terminated). */
void rd_url_redact(const char *text, char *out, size_t outlen);

/* ---- ops ------------------------------------------------------------------ */

/* The storage ops, then the T-internal commands. The order of the user ops
 * is the order of rd_scripts[] (one Lua script each). */
typedef enum {
    RD_OP_SESSION_PUT,
    RD_OP_SESSION_GET,
    RD_OP_SESSION_LIST,
    RD_OP_SESSION_DELETE,
    RD_OP_TRANSCRIPT_APPEND,
    RD_OP_TRANSCRIPT_READ,
    RD_OP_TRANSCRIPT_CLEAR,
    RD_OP_INBOX_PUT,
    RD_OP_INBOX_PENDING,
    RD_OP_COMMIT,
    RD_OP_OUTBOX_PENDING,
    RD_OP_OUTBOX_UPDATE,
    RD_OP_PAIRING_REQUEST,
    RD_OP_PAIRING_LIST,
    RD_OP_PAIRING_APPROVE,
    RD_OP_ALLOW_ADD,
    RD_OP_ALLOW_CHECK,
    RD_OP_LEASE_ACQUIRE,
    RD_OP_LEASE_RELEASE,
    RD_OP_INBOX_SESSION_PENDING,
    RD_OP_OUTBOX_CLAIM,
    RD_OP_PRUNE,
    RD_OP__USER, /* the count of storage ops */
    /* T-internal: the connection handshake and keep-alive. */
    RD_OP_AUTH = RD_OP__USER,
    RD_OP_SELECT,
    RD_OP_SETNAME,
    RD_OP_LAYOUT,
    RD_OP_LOAD,
    RD_OP_PING,
    RD_OP__COUNT
} rd_op_kind_t;

/* Script status codes: the first element of every script's reply. */
#define RD_S_OK 0
#define RD_S_ENOENT 1
#define RD_S_EEXIST 2
#define RD_S_ELIMIT 3
#define RD_S_EBUSY 4

/* One operation. Ownership moves with it: H (made by the storage op) until
 * rd_submit, then T until rd_complete, then H again, which calls back and
 * frees it. Internal ops are made, used and freed on T. */
typedef struct rd_op_s rd_op_t;
struct rd_op_s {
    rd_op_t *next, *prev; /* H: the submit/done FIFOs (next); T: in-flight list */
    rd_op_kind_t kind;
    int32_t status;
    union {
        oc_storage_done_cb done;
        oc_session_cb session;
        oc_session_list_cb list;
        oc_turns_cb turns;
        oc_append_cb append;
        oc_inbox_put_cb inbox_put;
        oc_inbox_list_cb inbox_list;
        oc_outbox_list_cb outbox_list;
        oc_outbox_item_cb outbox_item;
        oc_pairing_cb pairing;
        oc_pairing_list_cb pairing_list;
        oc_lease_cb lease;
    } cb;
    void *data;           /* the caller's, handed back to cb; never touched */
    uint64_t t0_ns;       /* monotonic, when called (latency metric) */
    uint64_t deadline_ms; /* monotonic: fails with OC_EUNAVAIL after it (T) */
    /* Script arguments after the key prefix (ARGV[2..]); internal ops:
     * the whole command. In the op's own block; immutable once submitted. */
    size_t argc;
    const char **argv;
    size_t *argvlen;
    int script;  /* RD_OP_LOAD: which script */
    int eval;    /* T: send the script's source (the server lost it) */
    int hs;      /* T: a command of the connection handshake */
    int tracked; /* T: 1 in flight (sent, with a deadline), 2 waiting for a handshake */
    /* Results, built by T, read and freed by H after the callback. Each
     * row is one malloc block holding its strings. */
    struct {
        void *row;   /* get, pairing request/approve, claim, lease */
        void **rows; /* lists: a malloc'd array of `count` rows */
        size_t count;
        uint64_t id;  /* append: last seq; inbox_put: the item's id */
        int32_t flag; /* inbox_put: duplicate; pairing_request: created */
    } out;
};

const char *rd_op_name(rd_op_kind_t kind); /* static; any thread */
/* Free the op and its results (H, or T for internal ops). */
void rd_op_free(rd_op_t *op);
void rd_op_drop_results(rd_op_t *op);
/* Invoke the op's callback with its status and results (H). */
void rd_op_deliver(rd_op_t *op);

/* Arguments are measured, then written into the op's block (args.c). */
typedef struct rd_args_s {
    size_t argc, bytes; /* so far */
    const char **argv;  /* NULL while measuring */
    size_t *lens;
    char *cur;
} rd_args_t;
void rd_arg_mem(rd_args_t *a, const char *p, size_t n);
void rd_arg_str(rd_args_t *a, const char *s); /* s not NULL */
void rd_arg_opt(rd_args_t *a, const char *s); /* "-" for NULL, else "=" s */
void rd_arg_u64(rd_args_t *a, uint64_t v);
void rd_arg_bool(rd_args_t *a, int v);        /* "1" / "0" */
typedef void (*rd_fill_fn)(rd_args_t *a, const void *in);
/* One calloc'd block: the op, its argv and the argument bytes written by
 * fill(in) (called twice: measure, write; `in` is borrowed for the call).
 * NULL when out of memory. Any thread; the caller owns the op. */
rd_op_t *rd_op_make(rd_op_kind_t kind, void *data, rd_fill_fn fill, const void *in);

/* ---- replies (reply.c, rows.c; T) ---------------------------------------- */

typedef struct redisReply redisReply;
/* Turn a script's reply into op->status and op->out. Returns 1 when the op
 * has another step to run (prune), else 0. */
int rd_reply_apply(rd_op_t *op, const redisReply *r);
/* Rows, each one malloc block holding its strings: OC_OK with *out set,
 * OC_EPROTO when the reply has another shape, OC_ENOMEM. */
int32_t rd_row_session(const redisReply *r, void **out);
int32_t rd_row_turn(const redisReply *r, void **out);
int32_t rd_row_inbox(const redisReply *r, void **out);
int32_t rd_row_outbox(const redisReply *r, void **out);
int32_t rd_row_pairing(const redisReply *r, void **out);
/* A decimal integer element (string or integer reply). 0 on success. */
int rd_reply_u64(const redisReply *r, uint64_t *out);

/* ---- scripts (scripts_*.c, schema.c) -------------------------------------- */

extern const char *const rd_scripts[RD_OP__USER]; /* by op kind */
extern const char rd_layout_script[];

/* ---- the I/O thread (io.c, conn.c, adapter.c; T) ------------------------ */

typedef enum {
    RD_START_PENDING,
    RD_START_READY,
    RD_START_FAILED
} rd_start_t;

/* What H and T share, under mu. */
typedef struct rd_shared_s {
    pthread_mutex_t mu;
    pthread_cond_t cond;   /* startup result */
    rd_op_t *submit_head, *submit_tail; /* H -> T, in call order */
    rd_op_t *done_head, *done_tail;     /* T -> H */
    int post_pending;      /* a deliver post is on its way to H */
    int stop;              /* H asked T to finish */
    int closed;            /* T closed its wake-up handle: never wake it again */
    rd_start_t start;
    int32_t health_status;
    char health[RD_TEXT_MAX];
    char start_error[RD_TEXT_MAX];
} rd_shared_t;

typedef struct rd_io_s rd_io_t;
typedef struct rd_state_s rd_state_t;

/* Configuration, immutable after init; read by both threads. */
typedef struct rd_config_s {
    rd_url_t url;
    char *prefix;
    uint64_t timeout_ms;
    uint64_t connect_timeout_ms;
    uint64_t startup_retry_ms;
} rd_config_t;

/* io.c. Start T (it connects at once); 0 or an OC_* error. */
int32_t rd_io_start(rd_state_t *st);
/* Wake T: new ops or a stop request are in the shared block. Thread-safe;
 * a no-op once T closed its handle (it is ending). */
void rd_io_wake(rd_state_t *st);
/* Wait for T to end (H; T has ended or is ending). */
void rd_io_join(rd_state_t *st);

/* ---- the plugin instance (H) --------------------------------------------- */

typedef enum {
    RD_PHASE_NEW,     /* after init */
    RD_PHASE_READY,   /* start connected */
    RD_PHASE_FAILED,  /* start gave up: ops fail with OC_EUNAVAIL */
    RD_PHASE_CLOSED   /* stop finished */
} rd_phase_t;

typedef struct rd_metrics_s {
    oc_metric_t *ops_total;  /* storage_ops_total{op,status} */
    oc_metric_t *op_seconds; /* storage_op_seconds{op} */
    oc_metric_t *connected;  /* storage_redis_connected */
    oc_metric_t *reconnects; /* storage_redis_reconnects_total */
} rd_metrics_t;

struct rd_state_s {
    const oc_host_api_t *host;
    oc_plugin_t *self;
    rd_config_t cfg;
    rd_shared_t sh;
    rd_io_t *io;        /* T's state: created by rd_io_start, freed by rd_io_join */
    pthread_t thread;
    int thread_live;    /* started and not joined */
    rd_phase_t phase;
    int stopping;
    oc_stop_done_cb stop_done;
    void *stop_data;
    char health[RD_TEXT_MAX]; /* H's copy of the shared text, for health() */
    rd_metrics_t metrics;
};

/* deliver.c (H). */
int32_t rd_submit(rd_state_t *st, rd_op_t *op); /* OC_PENDING, or an error (op freed) */
int32_t rd_accepting(const rd_state_t *st);      /* OC_OK or the status to return */
void rd_deliver_post(rd_state_t *st);            /* T: H has ops to deliver */
void rd_io_exited_post(rd_state_t *st);          /* T: its last act */
/* T: hand a finished op back to H. */
void rd_complete(rd_state_t *st, rd_op_t *op);
/* Health, under the mutex (T writes, H reads). */
void rd_set_health(rd_state_t *st, int32_t status, const char *fmt, ...) OC_PRINTF(3, 4);

/* metrics.c. */
void rd_metrics_register(rd_state_t *st); /* H, in start */
void rd_metrics_op(rd_state_t *st, const rd_op_t *op, uint64_t end_ns);
void rd_metrics_connected(rd_state_t *st, int up); /* T */

/* config.c (H, init). */
int32_t rd_config_read(rd_state_t *st, oc_config_t *cfg);
void rd_config_free(rd_config_t *c);

/* ops*.c: the storage table and its parts. */
extern const oc_storage_ops_t rd_storage_ops;
int rd_key_ok(const char *key);
const char *rd_role_static(const char *role);
/* Whether every turn is one storage.h accepts. */
int rd_turns_ok(const oc_turn_t *const *turns, size_t n);
/* Each turn as four arguments: role, created_ms (0 = now), meta?, content
 * (transcript_append and commit). */
void rd_fill_turns(rd_args_t *a, const oc_turn_t *const *turns, size_t n, uint64_t now);
int32_t rd_storage_health(void *state, const char **text);
/* Checks the instance takes ops, then makes the op (not yet submitted: the
 * caller sets its callback, then rd_submit). OC_OK, or the error to return. */
int32_t rd_prepare(rd_state_t *st, rd_op_kind_t kind, void *data, rd_fill_fn fill,
                   const void *in, rd_op_t **out);

int32_t rd_inbox_put(void *state, const oc_inbox_item_t *item, oc_inbox_put_cb cb, void *data);
int32_t rd_inbox_pending(void *state, uint64_t after_id, uint32_t limit, oc_inbox_list_cb cb,
                         void *data);
int32_t rd_commit(void *state, const oc_commit_t *c, oc_storage_done_cb cb, void *data);
int32_t rd_outbox_pending(void *state, uint64_t after_id, uint32_t limit, oc_outbox_list_cb cb,
                          void *data);
int32_t rd_outbox_update(void *state, uint64_t id, uint32_t new_state, uint32_t attempts,
                         uint64_t next_attempt_ms, const char *last_error,
                         oc_storage_done_cb cb, void *data);
int32_t rd_pairing_request(void *state, const oc_pairing_t *req, uint32_t max_pending,
                           uint64_t now_ms, oc_pairing_cb cb, void *data);
int32_t rd_pairing_list(void *state, const char *channel, uint64_t now_ms, oc_pairing_list_cb cb,
                        void *data);
int32_t rd_pairing_approve(void *state, const char *channel, const char *code, uint64_t now_ms,
                           oc_pairing_cb cb, void *data);
int32_t rd_allow_add(void *state, const char *channel, const char *account,
                     const char *sender_id, oc_storage_done_cb cb, void *data);
int32_t rd_allow_check(void *state, const char *channel, const char *account,
                       const char *sender_id, oc_storage_done_cb cb, void *data);
int32_t rd_lease_acquire(void *state, const char *name, const char *holder, uint32_t ttl_ms,
                         oc_lease_cb cb, void *data);
int32_t rd_lease_release(void *state, const char *name, const char *holder,
                         oc_storage_done_cb cb, void *data);
int32_t rd_inbox_session_pending(void *state, const char *session_key, uint64_t after_id,
                                 uint32_t limit, oc_inbox_list_cb cb, void *data);
int32_t rd_outbox_claim(void *state, uint64_t id, const char *holder, uint32_t ttl_ms,
                        oc_outbox_item_cb cb, void *data);
int32_t rd_prune(void *state, uint64_t before_ms, oc_storage_done_cb cb, void *data);

/* util. Thread-safe. */
uint64_t rd_mono_ns(void);
uint64_t rd_mono_ms(void);
uint64_t rd_wall_ms(void);

#endif
