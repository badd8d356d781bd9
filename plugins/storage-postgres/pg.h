/* pg.h - storage-postgres: types shared by the plugin's files. Not part of
 * the SDK.
 *
 * Threads: everything here belongs to the home loop (the storage ABI's rule),
 * except pg_resolve_t's work function, which runs getaddrinfo on a thread-pool
 * thread and touches only its own block (see conn_resolve.c).
 *
 * Shape (README.md, "Design"): a pool of libpq connections in pipeline mode,
 * each with a FIFO of ops. An op is one "round": a few prepared statements
 * followed by a Sync, which PostgreSQL runs as one implicit transaction, so
 * every op is all or nothing. An op whose answer needs a second look (a
 * duplicate inbox message, a race lost to another gateway) sends another
 * round; ops routed by session key never do, so a session's ops are applied
 * in call order. */
#ifndef PG_H
#define PG_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <openclaw/plugin.h>

#define PG_NAME "storage-postgres"
#define PG_VERSION "1.2.0"
#define PG_KEY_MAX 512      /* session key bytes, per storage.h */
#define PG_NAME_MAX 255     /* lease names and holders, claim holders */
#define PG_TTL_MAX 86400000u
#define PG_LIST_DEFAULT 100 /* session_list, *_pending limit 0 */
#define PG_TEXT_MAX 768     /* error, health and URL texts */
#define PG_CALLS_MAX 6      /* statements in one round (commit has the most) */
#define PG_RETRIES 4        /* extra rounds an op may take (races, deadlocks) */
#define PG_POOL_MAX 64

/* Smallest struct_size accepted: up to the last member read. */
#define PG_MIN_SIZE(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))

typedef struct pg_state_s pg_state_t;
typedef struct pg_conn_s pg_conn_t;
typedef struct pg_op_s pg_op_t;

/* ---- arena: an op's inputs and results, freed with the op (arena.c) ---- */

typedef struct pg_chunk_s pg_chunk_t;
typedef struct pg_arena_s {
    pg_chunk_t *head;
    int oom; /* an allocation failed: the op cannot be built */
} pg_arena_t;

void *pg_arena_alloc(pg_arena_t *a, size_t n); /* 8-aligned, zeroed; NULL + oom */
void pg_arena_free(pg_arena_t *a);
/* Copies (NULL stays NULL, which binds SQL NULL). */
const char *pg_arena_str(pg_arena_t *a, const char *s);
const char *pg_arena_u64(pg_arena_t *a, uint64_t v);  /* decimal; saturates at INT64_MAX */
/* PostgreSQL array literals in text form: '{"a",NULL,"b\"c"}', '{1,2}'. */
const char *pg_arena_text_array(pg_arena_t *a, const char *const *items, size_t n);
const char *pg_arena_u64_array(pg_arena_t *a, const uint64_t *v, size_t n);

/* ---- the storage.url (url.c) ------------------------------------------ */

#define PG_URL_PARAMS_MAX 24

/* A parsed URL. Strings are malloc'd and owned (pg_url_free). */
typedef struct pg_url_s {
    char *user, *password, *host, *port, *dbname;
    int host_is_name;    /* a DNS name (resolved off the loop), not an address or socket dir */
    char *keys[PG_URL_PARAMS_MAX], *vals[PG_URL_PARAMS_MAX]; /* query params for libpq */
    size_t nparams;
    char *redacted;      /* the URL with every secret written as "***" */
} pg_url_t;

/* Parses `url`; on error returns -1 with a message (naming what is wrong and
 * how to fix it, never the password) in err. No I/O. */
int pg_url_parse(const char *url, pg_url_t *out, char *err, size_t errlen);
void pg_url_free(pg_url_t *u);
/* Replace every occurrence of the password in `text` (a buffer of `size`
 * bytes) with "***", in place, truncating if it must. */
void pg_url_scrub(const pg_url_t *u, char *text, size_t size);

/* ---- configuration (config.c) ----------------------------------------- */

typedef struct pg_config_s {
    pg_url_t url;
    char schema[64];           /* validated identifier */
    uint32_t pool_size;
    uint32_t timeout_ms;       /* per operation, client side */
    uint32_t connect_timeout_ms;
    uint32_t startup_retry_s;
    uint32_t pipeline_depth;   /* rounds in flight per connection */
} pg_config_t;

/* Reads and validates the storage section; OC_OK or OC_ECONFIG (reported). */
int32_t pg_config_read(pg_state_t *st, oc_config_t *cfg);

/* ---- prepared statements (stmts.c) ------------------------------------ */

typedef enum {
    PG_ST_SESSION_PUT,
    PG_ST_SESSION_GET,
    PG_ST_SESSION_LIST,
    PG_ST_SESSION_LIST_AGENT,
    PG_ST_SESSION_DELETE,
    PG_ST_TURNS_DELETE,
    PG_ST_APPEND,
    PG_ST_APPEND_GUARD,
    PG_ST_READ,
    PG_ST_CLEAR,
    PG_ST_CLEAR_GUARD,
    PG_ST_INBOX_LOCK,
    PG_ST_INBOX_PUT,
    PG_ST_INBOX_FIND,
    PG_ST_INBOX_PENDING,
    PG_ST_INBOX_SESSION_PENDING,
    PG_ST_INBOX_DONE,
    PG_ST_INBOX_DONE_GUARD,
    PG_ST_OUTBOX_INSERT,
    PG_ST_OUTBOX_PENDING,
    PG_ST_OUTBOX_UPDATE,
    PG_ST_OUTBOX_CLAIM,
    PG_ST_PAIRING_LOCK,
    PG_ST_PAIRING_EXPIRE,
    PG_ST_PAIRING_REQUEST,
    PG_ST_PAIRING_LIST,
    PG_ST_PAIRING_LIST_CHANNEL,
    PG_ST_PAIRING_APPROVE,
    PG_ST_ALLOW_ADD,
    PG_ST_ALLOW_CHECK,
    PG_ST_LEASE_ACQUIRE,
    PG_ST_LEASE_RELEASE,
    PG_ST_PRUNE_INBOX,
    PG_ST_PRUNE_OUTBOX,
    PG_ST__COUNT
} pg_stmt_id_t;

typedef struct pg_stmt_s {
    const char *name; /* server-side prepared statement name */
    int nparams;
    const char *sql;
} pg_stmt_t;

extern const pg_stmt_t pg_stmts[PG_ST__COUNT];

/* SQLSTATEs raised by openclaw_guard() (schema v1) inside a round. */
#define PG_GUARD_NO_SESSION "OC404" /* -> OC_ENOENT */
#define PG_GUARD_NOT_PENDING "OC409" /* -> OC_EEXIST */

/* ---- schema and migrations (schema.c) --------------------------------- */

int pg_schema_latest(void);
/* The SQL of migration to version v (1..latest), several statements. */
const char *pg_schema_sql(int v);
const char *pg_schema_what(int v);
/* pg_advisory_xact_lock(PG_LOCK_CLASS, hashtext(...)) namespaces. */
#define PG_LOCK_CLASS 28515 /* "oc" */

/* ---- ops (op.c, ops_*.c) ---------------------------------------------- */

typedef enum {
    PG_OP_PUT,
    PG_OP_GET,
    PG_OP_LIST,
    PG_OP_DELETE,
    PG_OP_APPEND,
    PG_OP_READ,
    PG_OP_CLEAR,
    PG_OP_INBOX_PUT,
    PG_OP_INBOX_PENDING,
    PG_OP_COMMIT,
    PG_OP_OUTBOX_PENDING,
    PG_OP_OUTBOX_UPDATE,
    PG_OP_PAIRING_REQUEST,
    PG_OP_PAIRING_LIST,
    PG_OP_PAIRING_APPROVE,
    PG_OP_ALLOW_ADD,
    PG_OP_ALLOW_CHECK,
    PG_OP_LEASE_ACQUIRE,
    PG_OP_LEASE_RELEASE,
    PG_OP_INBOX_SESSION_PENDING,
    PG_OP_OUTBOX_CLAIM,
    PG_OP_PRUNE,
    PG_OP__COUNT
} pg_op_kind_t;

/* What a kind's finish function decided. */
#define PG_FIN_DONE 0  /* op->status (and results) are final */
#define PG_FIN_AGAIN 1 /* op->calls hold the next round: send it */

/* Interprets op->res (every statement succeeded): sets op->status and the
 * results, or prepares another round. */
typedef int (*pg_finish_fn)(pg_op_t *op);

typedef struct pg_call_s {
    pg_stmt_id_t stmt;
    const char **params; /* pg_stmts[stmt].nparams values in text form; NULL = SQL NULL */
} pg_call_t;

struct pg_op_s {
    pg_op_t *next; /* in one list at a time: a connection's queue or flight, or "soon" */
    pg_op_kind_t kind;
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
    void *data;
    pg_finish_fn finish;
    const char *key;   /* routing and ordering key (a session), or NULL: any connection */
    uint64_t t0_ns;    /* monotonic, at the call (latency metric) */
    uint64_t now_ms;   /* wall clock at the call: the "0 = now" value */
    uint64_t call_ms;  /* monotonic ms at the call: timeout while waiting for a connection */
    uint64_t sent_ms;  /* monotonic ms when its round was sent */
    int attempts;      /* rounds sent beyond the first */
    const pg_conn_t *conn; /* set for finish: the connection it ran on */
    const char *why;   /* static: why it failed without reaching the server */
    pg_call_t calls[PG_CALLS_MAX];
    int ncalls;
    PGresult *res[PG_CALLS_MAX]; /* the round's results, kept until delivery (rows
                                    point into them) */
    int nres;
    struct { /* what finish functions need beyond the results */
        int step;           /* inbox_put: 0 = the insert was sent, 1 = the lookup */
        const char **saved; /* inbox_put: the insert's parameters */
        const char *holder; /* lease_acquire, outbox_claim: the caller */
    } in;
    struct {
        void *row;    /* session_get, pairing_request/approve, lease, outbox item */
        void **rows;  /* lists: `count` rows */
        size_t count;
        uint64_t id;  /* transcript_append: last seq; inbox_put: the item's id */
        int32_t flag; /* inbox_put: duplicate; pairing_request: created */
    } out;
    pg_arena_t arena; /* the op's inputs and its result rows' structs */
};

/* A new op with its callback slot empty; NULL when out of memory. */
pg_op_t *pg_op_new(pg_op_kind_t kind, void *data, pg_finish_fn finish);
/* Append a statement to the op's round; params are taken as given (arena
 * copies). Returns the params array to fill, NULL on OOM. */
const char **pg_op_call(pg_op_t *op, pg_stmt_id_t stmt);
void pg_op_free(pg_op_t *op);
/* Forget the round's results (before another round). */
void pg_op_clear_results(pg_op_t *op);
/* After a round's Sync on connection c: the generic part (errors,
 * retries), then the kind's finish. */
int pg_op_finish(pg_state_t *st, pg_op_t *op, const pg_conn_t *c);
/* In finish: whether another round now keeps the op's ordering promise
 * (walks the rounds in flight: ask only when about to retry). */
int pg_op_retry_ok(const pg_op_t *op);
/* Call the op's callback with its status and results (borrowed). */
void pg_op_deliver(pg_op_t *op);
const char *pg_op_name(pg_op_kind_t kind);
/* The OC_* status for a SQLSTATE. */
int32_t pg_status_from_sqlstate(const char *sqlstate);

/* Result helpers (rows.c): cells of text results; NULL for SQL NULL. */
const char *pg_val(const PGresult *r, int row, int col);
uint64_t pg_u64(const PGresult *r, int row, int col);
int64_t pg_i64(const PGresult *r, int row, int col);
/* A command's row count ("UPDATE 3" -> 3). */
uint64_t pg_cmd_rows(const PGresult *r);
/* Rows as ABI structs in the op's arena, strings borrowed from `r`. Columns
 * as the statements in stmts.c list them, from column `col`. */
oc_session_t *pg_row_session(pg_op_t *op, const PGresult *r, int row);
oc_turn_t *pg_row_turn(pg_op_t *op, const PGresult *r, int row);
oc_inbox_item_t *pg_row_inbox(pg_op_t *op, const PGresult *r, int row);
oc_outbox_item_t *pg_row_outbox(pg_op_t *op, const PGresult *r, int row, int col);
oc_pairing_t *pg_row_pairing(pg_op_t *op, const PGresult *r, int row, int col);
/* Every row of r through `fn` into op->out.rows / count. OC_OK or OC_ENOMEM. */
int32_t pg_rows(pg_op_t *op, const PGresult *r, void *(*fn)(pg_op_t *, const PGresult *, int));

/* ---- validation and op builders shared by the ops files (ops.c) ------- */

int pg_key_ok(const char *key);
int pg_name_ok(const char *s); /* 1..PG_NAME_MAX bytes */
const char *pg_role_ok(const char *role); /* the role, or NULL when not one */
/* Whether new ops are taken: OC_OK or the status to return at once. */
int32_t pg_accepting(const pg_state_t *st);
/* Every turn valid (a known role, content); the turns' columns as the
 * array parameters of PG_ST_APPEND(_GUARD) into p[0..6]: 0, or -1 when the
 * arena ran out. Shared by transcript_append and commit. */
int pg_turns_ok(const oc_turn_t *const *turns, size_t count);
int pg_turn_arrays(pg_op_t *op, const char **p, const char *key, const oc_turn_t *const *turns,
                   size_t count);
/* Hand an op to the pool: OC_PENDING, or an error (the op is freed). */
int32_t pg_submit(pg_state_t *st, pg_op_t *op);
/* An op built with an arena that ran out of memory: free it, OC_ENOMEM. */
int32_t pg_submit_checked(pg_state_t *st, pg_op_t *op);

extern const oc_storage_ops_t pg_storage_ops;
int32_t pg_storage_health(void *state, const char **text); /* plugin.c; no I/O */
/* 1.1 and 1.2 operations (ops_messaging.c, ops_pairing.c, ops_cluster.c). */
int32_t pg_inbox_put(void *state, const oc_inbox_item_t *item, oc_inbox_put_cb cb, void *data);
int32_t pg_inbox_pending(void *state, uint64_t after_id, uint32_t limit, oc_inbox_list_cb cb,
                         void *data);
int32_t pg_commit(void *state, const oc_commit_t *c, oc_storage_done_cb cb, void *data);
int32_t pg_outbox_pending(void *state, uint64_t after_id, uint32_t limit, oc_outbox_list_cb cb,
                          void *data);
int32_t pg_outbox_update(void *state, uint64_t id, uint32_t new_state, uint32_t attempts,
                         uint64_t next_attempt_ms, const char *last_error,
                         oc_storage_done_cb cb, void *data);
int32_t pg_pairing_request(void *state, const oc_pairing_t *req, uint32_t max_pending,
                           uint64_t now_ms, oc_pairing_cb cb, void *data);
int32_t pg_pairing_list(void *state, const char *channel, uint64_t now_ms, oc_pairing_list_cb cb,
                        void *data);
int32_t pg_pairing_approve(void *state, const char *channel, const char *code, uint64_t now_ms,
                           oc_pairing_cb cb, void *data);
int32_t pg_allow_add(void *state, const char *channel, const char *account,
                     const char *sender_id, oc_storage_done_cb cb, void *data);
int32_t pg_allow_check(void *state, const char *channel, const char *account,
                       const char *sender_id, oc_storage_done_cb cb, void *data);
int32_t pg_lease_acquire(void *state, const char *name, const char *holder, uint32_t ttl_ms,
                         oc_lease_cb cb, void *data);
int32_t pg_lease_release(void *state, const char *name, const char *holder,
                         oc_storage_done_cb cb, void *data);
int32_t pg_inbox_session_pending(void *state, const char *session_key, uint64_t after_id,
                                 uint32_t limit, oc_inbox_list_cb cb, void *data);
int32_t pg_outbox_claim(void *state, uint64_t id, const char *holder, uint32_t ttl_ms,
                        oc_outbox_item_cb cb, void *data);
int32_t pg_prune(void *state, uint64_t before_ms, oc_storage_done_cb cb, void *data);
/* The routing key of outbox item `id` (claims and updates stay in order). */
const char *pg_outbox_route_key(pg_op_t *op, uint64_t id);

/* ---- connections (conn.c, conn_setup.c, conn_resolve.c) -------------- */

typedef enum {
    PG_CONN_DOWN,       /* no connection: idle, or waiting for the backoff timer */
    PG_CONN_RESOLVING,  /* getaddrinfo on the thread pool */
    PG_CONN_CONNECTING, /* PQconnectPoll */
    PG_CONN_SETUP,      /* migrations (the first connection) and PREPAREs */
    PG_CONN_READY,
    PG_CONN_CLOSED      /* stop closed it for good */
} pg_conn_state_t;

typedef struct pg_resolve_s pg_resolve_t;

/* Steps of the setup (conn_setup.c). */
typedef enum {
    PG_SETUP_BEGIN,
    PG_SETUP_NO_TIMEOUT,
    PG_SETUP_LOCK,
    PG_SETUP_PROBE,
    PG_SETUP_CREATE_SCHEMA,
    PG_SETUP_VERSION,
    PG_SETUP_MIGRATE,
    PG_SETUP_RECORD,
    PG_SETUP_COMMIT,
    PG_SETUP_PREPARE,
    PG_SETUP_DONE
} pg_setup_step_t;

struct pg_conn_s {
    pg_state_t *st;
    int index;
    pg_conn_state_t state;
    PGconn *pq;
    oc_io_t *io;
    int fd;
    uint32_t events;       /* what io asks for */
    oc_timer_t *timer;     /* the backoff wait, or the connect/setup deadline */
    /* The same timer while start drives connection 0 itself (startup.c). */
    void (*sync_cb)(void *data);
    uint64_t sync_due_ms;  /* monotonic; 0 = not armed */
    pg_resolve_t *resolve; /* in flight (owned by its work item once abandoned) */
    int failures;          /* attempts failed since the last READY */
    uint32_t backoff_ms;
    /* setup */
    pg_setup_step_t step;
    int migrate_from, migrate_v; /* schema version found; the migration running */
    int schema_exists, table_exists;
    int prepare_left;      /* PREPARE results still expected */
    int settings_left;     /* session settings results expected before them */
    int setup_failed;      /* a setup statement failed; wait for the end of its results */
    int setup_permanent;
    char setup_err[PG_TEXT_MAX];
    /* ops */
    pg_op_t *q_head, *q_tail; /* accepted, not sent */
    size_t queued;
    pg_op_t *f_head, *f_tail; /* rounds in flight, in send order */
    size_t inflight;
    int await_null;       /* the head's statement result arrived; its NULL is next */
    int processing;       /* inside the result loop: no pump, no re-entry */
    int close_pending;    /* stop asked to close it while processing */
    uint64_t progress_ms; /* monotonic: the last round completed, or READY */
};

/* conn.c */
void pg_conn_init(pg_conn_t *c, pg_state_t *st, int index);
void pg_conn_connect(pg_conn_t *c);                 /* start an attempt now */
void pg_conn_enqueue(pg_conn_t *c, pg_op_t *op);    /* take an accepted op */
void pg_conn_pump(pg_conn_t *c);                    /* send what fits */
/* Push libpq's output; watch for writability while some is left. 0 when the
 * connection failed (it is DOWN then). */
int pg_conn_flush(pg_conn_t *c);
/* Drop the connection: fail its ops with `status`, then the pool decides.
 * `transient` 0: a permanent error (wrong password...). `fmt` is the reason. */
void pg_conn_fail(pg_conn_t *c, int transient, int32_t status, const char *fmt, ...)
    OC_PRINTF(4, 5);
void pg_conn_close(pg_conn_t *c);                   /* stop: close for good */
/* Fail the ops waiting in the queue (never sent) with `status`. */
void pg_conn_fail_queued(pg_conn_t *c, int32_t status, const char *why);
void pg_conn_arm_attempt(pg_conn_t *c);             /* connectTimeoutMs from now */
void pg_conn_retry_later(pg_conn_t *c, uint32_t delay_ms); /* DOWN: connect then */
/* The connection's one timer (attempt deadline or backoff), on the host
 * loop, or on startup.c's driver while start runs. */
void pg_conn_timer_stop(pg_conn_t *c);
int pg_conn_timer_armed(const pg_conn_t *c);
/* Readiness of the connection's socket (OC_IO_*): the host's io callback,
 * or startup.c's poll. */
void pg_conn_on_io(pg_conn_t *c, uint32_t events);
void pg_conn_watch(pg_conn_t *c, int fd, uint32_t events, int fresh);
void pg_conn_unwatch(pg_conn_t *c);
/* Whether another round for `op` (at the flight's tail) keeps the ordering
 * promise: no later round of the same key is in flight. */
int pg_conn_retry_ok(const pg_conn_t *c, const pg_op_t *op);
/* Fail queued ops whose connection wait exceeded timeoutMs; break the
 * connection when its oldest round got no answer within timeoutMs. */
void pg_conn_sweep(pg_conn_t *c, uint64_t now_ms);
/* conn_setup.c: after CONNECTION_OK, and on input while in SETUP. */
void pg_setup_begin(pg_conn_t *c);
void pg_setup_input(pg_conn_t *c);
/* conn_resolve.c: look up the URL's host off the loop, then connect. */
int pg_resolve_start(pg_conn_t *c);
void pg_resolve_abandon(pg_conn_t *c);
/* conn_connect.c: PQconnectStartParams with the URL and the settings
 * (hostaddr: the resolved addresses, comma-separated, or NULL), then
 * PQconnectPoll on every readiness event. */
void pg_connect_start(pg_conn_t *c, const char *hostaddr);
void pg_connect_poll(pg_conn_t *c);

/* ---- the instance (pool.c, plugin.c) ---------------------------------- */

typedef enum {
    PG_PHASE_NEW,      /* after init */
    PG_PHASE_STARTING, /* inside start: connection 0 connects and migrates */
    PG_PHASE_RUNNING,  /* the schema is migrated and prepared */
    PG_PHASE_FAILED,   /* a permanent error inside start: start fails */
    PG_PHASE_STOPPING,
    PG_PHASE_STOPPED
} pg_phase_t;

typedef struct pg_metrics_s {
    oc_metric_t *ops_total;   /* storage_ops_total{op,status} */
    oc_metric_t *op_seconds;  /* storage_op_seconds{op} */
    oc_metric_t *connections; /* storage_postgres_connections */
    oc_metric_t *reconnects;  /* storage_postgres_reconnects_total */
} pg_metrics_t;

struct pg_state_s {
    const oc_host_api_t *host;
    oc_plugin_t *self;
    pg_config_t cfg;
    pg_phase_t phase;
    uint64_t start_deadline_ms; /* monotonic: the startup retry window ends */
    int start_window_over;      /* start gave up waiting (logged) */
    int sync;                   /* start is driving connection 0 itself (startup.c) */
    int migrated;               /* the schema is at pg_schema_latest() */
    int schema_from;            /* the version found at start */
    char server_version[32];

    pg_conn_t conns[PG_POOL_MAX];
    uint32_t rr;                /* round robin for keyless ops */
    int resolves;               /* work items in flight (stop waits for them) */

    pg_op_t *soon_head, *soon_tail; /* failed ops to call back on the next turn */
    oc_timer_t *soon_timer;
    oc_timer_t *sweep_timer;

    int all_up;                 /* every connection READY (for the log transitions) */
    uint64_t down_since_ms;
    int32_t health_status;
    char health[2 * PG_TEXT_MAX];
    char last_error[PG_TEXT_MAX]; /* why the last connection attempt failed */
    uint64_t last_log_ms;         /* rate limit for op failure warnings */

    oc_stop_done_cb stop_done;
    void *stop_data;
    pg_metrics_t metrics;
};

/* startup.c: start's wait for connection 0 (connected, migrated,
 * prepared), bounded by startupRetrySeconds; then the host loop takes over.
 * OC_OK, or OC_EUNAVAIL with the reason logged. */
int32_t pg_startup_run(pg_state_t *st);

/* pool.c */
int32_t pg_pool_start(pg_state_t *st);
void pg_pool_stop(pg_state_t *st);
/* A connection reached READY / went down (conn.c reports). */
void pg_pool_conn_ready(pg_state_t *st, pg_conn_t *c);
void pg_pool_conn_down(pg_state_t *st, pg_conn_t *c, int was_ready, int transient);
/* Call an op back on the next loop turn with `status` (never inside a call). */
void pg_pool_soon(pg_state_t *st, pg_op_t *op, int32_t status);
/* Deliver and free an op now (metrics included). */
void pg_pool_complete(pg_state_t *st, pg_op_t *op);
/* Whether stop can finish; finishes it (st may be gone after). */
void pg_pool_check_stopped(pg_state_t *st);
void pg_pool_health(pg_state_t *st);
/* Log a failed op (rate limited). */
void pg_log_op_error(pg_state_t *st, const pg_op_t *op, const PGresult *r);

/* metrics.c */
void pg_metrics_register(pg_state_t *st);
void pg_metrics_op(pg_state_t *st, const pg_op_t *op, uint64_t end_ns);
void pg_metrics_pool(pg_state_t *st, int reconnect);

/* util (plugin.c) */
uint64_t pg_mono_ns(void);
uint64_t pg_mono_ms(void);
uint64_t pg_wall_ms(void);
/* A libpq message on one line: whitespace runs (newlines, tabs) become
 * one space, trailing space dropped, the password scrubbed. */
void pg_one_line(const pg_state_t *st, char *dst, size_t len, const char *msg);

#endif
