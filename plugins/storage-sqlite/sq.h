/* sq.h - storage-sqlite: types shared by the plugin's files. Not part of the SDK.
 *
 * Threads (see README.md, "Threading"):
 *  - sq_state_t, the op queue and every callback belong to the home loop.
 *  - The sqlite connection (sq_db_t) is used by exactly one work item at a
 *    time, on a thread-pool thread. At most one work item is in flight, and
 *    the loop never calls sqlite while one is (the only exceptions are the
 *    shutdown fallbacks documented in lifecycle.c). */
#ifndef SQ_H
#define SQ_H

#include <stddef.h>
#include <stdint.h>

#include <openclaw/plugin.h>
#include <sqlite3.h>

#define SQ_NAME "storage-sqlite"
#define SQ_VERSION "1.2.0"
#define SQ_KEY_MAX 512        /* bytes, per storage.h */
#define SQ_BATCH_MAX 512      /* ops per work item (one transaction) */
#define SQ_LIST_DEFAULT 100   /* session_list, inbox_pending, outbox_pending limit 0 */
#define SQ_TEXT_MAX 512       /* error / health text buffers */

/* Smallest struct_size accepted: up to the last member read. */
#define SQ_SESSION_MIN (offsetof(oc_session_t, updated_ms) + sizeof(uint64_t))
#define SQ_TURN_MIN (offsetof(oc_turn_t, created_ms) + sizeof(uint64_t))
#define SQ_MIN_SIZE(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))

/* ---- ops --------------------------------------------------------------- */

typedef enum {
    SQ_OP_PUT,
    SQ_OP_GET,
    SQ_OP_LIST,
    SQ_OP_DELETE,
    SQ_OP_APPEND,
    SQ_OP_READ,
    SQ_OP_CLEAR,
    /* 1.1 */
    SQ_OP_INBOX_PUT,
    SQ_OP_INBOX_PENDING,
    SQ_OP_COMMIT,
    SQ_OP_OUTBOX_PENDING,
    SQ_OP_OUTBOX_UPDATE,
    SQ_OP_PAIRING_REQUEST,
    SQ_OP_PAIRING_LIST,
    SQ_OP_PAIRING_APPROVE,
    SQ_OP_ALLOW_ADD,
    SQ_OP_ALLOW_CHECK,
    /* 1.2 */
    SQ_OP_LEASE_ACQUIRE,
    SQ_OP_LEASE_RELEASE,
    SQ_OP_INBOX_SESSION_PENDING,
    SQ_OP_OUTBOX_CLAIM,
    SQ_OP_PRUNE,
    SQ_OP__COUNT
} sq_op_kind_t;

/* Inputs below: strings point into the op's arena; a turn's role is static.
 * Timestamps are resolved ("0 = now") when the op is made. */
typedef struct sq_turn_in_s {
    const char *role;
    const char *content;
    const char *meta_json;
    uint64_t created_ms;
} sq_turn_in_t;

/* A session to upsert (session_put, commit). */
typedef struct sq_session_in_s {
    const char *key, *agent_id, *channel, *meta_json;
    uint64_t created_ms, updated_ms;
} sq_session_in_t;

/* An outbox item to insert (commit). */
typedef struct sq_outbox_in_s {
    const char *key; /* idempotency key */
    const char *channel, *account, *peer_id, *text, *in_reply_to, *last_error;
    uint32_t peer_kind, attempts;
    uint64_t created_ms, next_attempt_ms;
} sq_outbox_in_t;

/* One queued operation. Allocated on the loop with its inputs copied into
 * one block (the arena follows the struct); filled by the worker; delivered
 * and freed on the loop. */
typedef struct sq_op_s sq_op_t;
struct sq_op_s {
    sq_op_t *next;
    sq_op_kind_t kind;
    int32_t status; /* set by the worker (or the loop when the op never ran) */
    union {
        oc_storage_done_cb done;
        oc_session_cb session;
        oc_session_list_cb list;
        oc_turns_cb turns;
        oc_append_cb append;
        oc_inbox_put_cb inbox_put;
        oc_inbox_list_cb inbox_list;
        oc_outbox_list_cb outbox_list;
        oc_pairing_cb pairing;
        oc_pairing_list_cb pairing_list;
        oc_lease_cb lease;
        oc_outbox_item_cb outbox_item;
    } cb;
    void *data;
    uint64_t t0_ns;  /* monotonic, when the op was called (latency metric) */
    uint64_t now_ms; /* wall clock when the op was called: the "0 = now" value */
    const char *key; /* the session (1.0 ops; commit: where turns go), else NULL */
    union {
        sq_session_in_t put; /* put.key == key */
        struct {
            uint32_t limit;
            const char *agent_id, *prefix;
        } list;
        struct {
            sq_turn_in_t *turns;
            size_t count;
        } append;
        struct {
            uint32_t limit;
        } read;
        struct {
            const char *channel, *account, *message_id, *envelope_json;
            const char *session_key; /* may be NULL */
            uint64_t received_ms;
        } inbox;
        struct { /* inbox_pending, outbox_pending, inbox_session_pending (+ key) */
            uint64_t after_id;
            uint32_t limit;
        } pending;
        struct { /* lease_acquire, lease_release; outbox_claim (holder, ttl_ms, id) */
            const char *name, *holder;
            uint32_t ttl_ms;
            uint64_t id;
        } lease;
        struct {
            uint64_t before_ms;
        } prune;
        struct {
            int clear;
            sq_session_in_t session; /* session.key NULL: no upsert */
            sq_turn_in_t *turns;
            size_t turn_count;
            const uint64_t *inbox_done;
            size_t inbox_done_count;
            sq_outbox_in_t *outbox;
            size_t outbox_count;
            uint32_t flags; /* OC_COMMIT_F_* */
        } commit;
        struct {
            uint64_t id, next_attempt_ms;
            uint32_t state, attempts;
            const char *last_error;
        } outbox_update;
        struct { /* pairing_request (all), list (channel, at_ms), approve (+ code) */
            const char *channel, *account, *sender_id, *code, *meta_json;
            uint64_t expires_ms;
            uint64_t at_ms; /* the caller's now_ms */
            uint32_t max_pending;
        } pairing;
        struct {
            const char *channel, *account, *sender_id;
        } allow;
    } in;
    /* Results. Each row (oc_session_t, oc_turn_t, oc_inbox_item_t...) is one
     * malloc block holding its strings; sq_op_free frees them after the
     * callback returned. */
    struct {
        void *row;    /* session_get, pairing_request/approve, lease, outbox_claim */
        void **rows;  /* lists: a malloc'd array of `count` rows */
        size_t count;
        uint64_t id;  /* transcript_append: last seq; inbox_put: the item's id */
        int32_t flag; /* inbox_put: duplicate; pairing_request: created */
    } out;
};

const char *sq_op_name(sq_op_kind_t kind);
void sq_op_free(sq_op_t *op);
/* Free and forget the op's results (it failed after making some). */
void sq_op_drop_results(sq_op_t *op);
/* Invoke the op's callback with op->status and its results (loop). */
void sq_op_deliver(sq_op_t *op);

/* ---- the connection (worker side) ------------------------------------- */

/* Cached prepared statements, one slot per statement of the plugin. */
typedef enum {
    SQ_STMT_BEGIN,
    SQ_STMT_COMMIT,
    SQ_STMT_ROLLBACK,
    SQ_STMT_SAVEPOINT,
    SQ_STMT_RELEASE,
    SQ_STMT_ROLLBACK_TO,
    SQ_STMT_SESSION_PUT,
    SQ_STMT_SESSION_GET,
    SQ_STMT_SESSION_LIST,
    SQ_STMT_SESSION_LIST_AGENT,
    SQ_STMT_SESSION_DELETE,
    SQ_STMT_SESSION_COUNTERS,
    SQ_STMT_SESSION_APPENDED,
    SQ_STMT_SESSION_CLEARED,
    SQ_STMT_TURN_INSERT,
    SQ_STMT_TURNS_ALL,
    SQ_STMT_TURNS_LAST,
    SQ_STMT_TURNS_DELETE,
    SQ_STMT_INBOX_INSERT,
    SQ_STMT_INBOX_FIND,
    SQ_STMT_INBOX_PENDING,
    SQ_STMT_INBOX_DONE,
    SQ_STMT_OUTBOX_INSERT,
    SQ_STMT_OUTBOX_PENDING,
    SQ_STMT_OUTBOX_UPDATE,
    SQ_STMT_PAIRING_EXPIRE,
    SQ_STMT_PAIRING_FIND,
    SQ_STMT_PAIRING_SEEN,
    SQ_STMT_PAIRING_COUNT,
    SQ_STMT_PAIRING_CODE,
    SQ_STMT_PAIRING_INSERT,
    SQ_STMT_PAIRING_LIST,
    SQ_STMT_PAIRING_LIST_CHANNEL,
    SQ_STMT_PAIRING_BY_CODE,
    SQ_STMT_PAIRING_DELETE,
    SQ_STMT_ALLOW_INSERT,
    SQ_STMT_ALLOW_CHECK,
    SQ_STMT_INBOX_STATE,
    SQ_STMT_INBOX_SESSION_PENDING,
    SQ_STMT_LEASE_GET,
    SQ_STMT_LEASE_PUT,
    SQ_STMT_LEASE_RELEASE,
    SQ_STMT_OUTBOX_GET,
    SQ_STMT_OUTBOX_CLAIM,
    SQ_STMT_PRUNE_INBOX,
    SQ_STMT_PRUNE_OUTBOX,
    SQ_STMT__COUNT
} sq_stmt_id_t;

typedef struct sq_db_config_s {
    const char *path;   /* expanded; ":memory:" allowed */
    int synchronous_full;
    int busy_timeout_ms;
} sq_db_config_t;

typedef struct sq_db_s {
    sqlite3 *db;
    sqlite3_stmt *stmt[SQ_STMT__COUNT];
    int schema_from; /* version found at open (0 = new database) */
    int wal;         /* journal_mode is WAL */
} sq_db_t;

/* db.c. Open (creating parent directories 0700 and the file 0600), set the
 * pragmas, migrate. NULL on failure with the reason in err. */
sq_db_t *sq_db_open(const sq_db_config_t *cfg, char *err, size_t errlen);
void sq_db_close(sq_db_t *d);
/* The cached statement `id`, prepared from `sql` on first use, reset and
 * with no bindings. NULL on failure (sqlite3_errcode tells why). */
sqlite3_stmt *sq_db_stmt(sq_db_t *d, sq_stmt_id_t id, const char *sql);
/* Run a bodyless cached statement (BEGIN, COMMIT, SAVEPOINT...). */
int sq_db_exec_cached(sq_db_t *d, sq_stmt_id_t id, const char *sql);
/* OC_* status for a sqlite result code. */
int32_t sq_status_from_sqlite(int rc);
/* A uint64_t id bound as sqlite's int64, saturating: anything above
 * INT64_MAX matches no row, as it could not have been assigned. */
static inline sqlite3_int64 sq_id64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)v;
}
/* Bind a string that outlives the step (NULL binds NULL). */
int sq_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Step a statement that returns no row: SQLITE_OK or the error. Resets it. */
int sq_step_done(sqlite3_stmt *st);

/* Copying a row's text columns into one block: measure every column with
 * sq_col_size, malloc the struct plus the sum, then sq_col_copy each into
 * the space after the struct. */
typedef struct sq_col_s {
    const char *p; /* NULL for SQL NULL */
    size_t n;      /* bytes, without the NUL */
} sq_col_t;
sq_col_t sq_col(sqlite3_stmt *st, int i);
size_t sq_col_size(sq_col_t c);
const char *sq_col_copy(char **cur, sq_col_t c);
/* Rows as one malloc block each (strings inside). NULL on OOM. */
oc_session_t *sq_row_session(sqlite3_stmt *st);
oc_turn_t *sq_row_turn(sqlite3_stmt *st);
/* Steps `st` to the end, turning each row into an object with `row` (NULL =
 * out of memory) collected in a malloc'd array starting at `cap` slots.
 * *items and *count always describe what was built (the caller frees it);
 * returns SQLITE_DONE when every row was read, else the error. Resets st. */
int sq_collect_rows(sqlite3_stmt *st, size_t cap, void *(*row)(sqlite3_stmt *st), void ***items,
                    size_t *count);

/* schema.c. Within one transaction: create or upgrade to the newest
 * schema. Returns SQLITE_OK or an error with the reason in err; *from gets
 * the version found. */
#define SQ_SCHEMA_NEWER (-1) /* returned when the file is newer than we know */
int sq_schema_migrate(sqlite3 *db, int *from, char *err, size_t errlen);
int sq_schema_latest(void);

/* sql_*.c. Each sq_exec_* runs one op inside the batch's transaction:
 * returns SQLITE_OK with op->status set (OC_OK, OC_ENOENT...), or a sqlite
 * error (the batch rolls the op back). */
typedef int (*sq_exec_fn)(sq_db_t *d, sq_op_t *op);
int sq_exec_session_put(sq_db_t *d, sq_op_t *op);
int sq_exec_session_get(sq_db_t *d, sq_op_t *op);
int sq_exec_session_list(sq_db_t *d, sq_op_t *op);
int sq_exec_session_delete(sq_db_t *d, sq_op_t *op);
int sq_exec_transcript_append(sq_db_t *d, sq_op_t *op);
int sq_exec_transcript_read(sq_db_t *d, sq_op_t *op);
int sq_exec_transcript_clear(sq_db_t *d, sq_op_t *op);
int sq_exec_inbox_put(sq_db_t *d, sq_op_t *op);
int sq_exec_inbox_pending(sq_db_t *d, sq_op_t *op);
int sq_exec_commit(sq_db_t *d, sq_op_t *op);
int sq_exec_outbox_pending(sq_db_t *d, sq_op_t *op);
int sq_exec_outbox_update(sq_db_t *d, sq_op_t *op);
int sq_exec_pairing_request(sq_db_t *d, sq_op_t *op);
int sq_exec_pairing_list(sq_db_t *d, sq_op_t *op);
int sq_exec_pairing_approve(sq_db_t *d, sq_op_t *op);
int sq_exec_allow_add(sq_db_t *d, sq_op_t *op);
int sq_exec_allow_check(sq_db_t *d, sq_op_t *op);
int sq_exec_lease_acquire(sq_db_t *d, sq_op_t *op);
int sq_exec_lease_release(sq_db_t *d, sq_op_t *op);
int sq_exec_inbox_session_pending(sq_db_t *d, sq_op_t *op);
int sq_exec_outbox_claim(sq_db_t *d, sq_op_t *op);
int sq_exec_prune(sq_db_t *d, sq_op_t *op);

/* The pieces commit shares with the 1.0 ops. Each returns SQLITE_OK, or
 * SQLITE_NOTFOUND when the session does not exist, or a sqlite error. */
int sq_session_upsert(sq_db_t *d, const sq_session_in_t *s);
/* Drop every turn of `key` (session delete, transcript clear). */
int sq_turns_delete(sq_db_t *d, const char *key);
/* transcript_clear: turns dropped, turn_count 0, updated_ms = now_ms. */
int sq_turns_clear(sq_db_t *d, const char *key, uint64_t now_ms);
/* transcript_append; *last_seq gets the seq of the last turn. */
int sq_turns_append(sq_db_t *d, const char *key, const sq_turn_in_t *turns, size_t count,
                    uint64_t now_ms, uint64_t *last_seq);
int sq_inbox_mark_done(sq_db_t *d, uint64_t id);
/* The state of inbox item `id` into *state (0 when there is none). */
int sq_inbox_state(sq_db_t *d, uint64_t id, uint32_t *state);
/* An outbox row (columns of sql_outbox.c's OUTBOX_COLS) as one malloc block. */
void *sq_row_outbox(sqlite3_stmt *st);
void *sq_row_inbox(sqlite3_stmt *st);
/* Inserts unless the idempotency key exists (then nothing changes). */
int sq_outbox_insert(sq_db_t *d, const sq_outbox_in_t *o);

/* batch.c (worker). Run ops[0..n) in one transaction, one savepoint per
 * multi-statement write (rolled back unless the op succeeded, so an op that
 * reports an error leaves nothing). Sets every op's status. Returns SQLITE_OK, or the
 * error that failed the whole transaction (err says which). */
int sq_batch_run(sq_db_t *d, sq_op_t *ops, char *err, size_t errlen);

/* ---- the plugin instance (loop side) ---------------------------------- */

typedef enum {
    SQ_PHASE_NEW,     /* after init */
    SQ_PHASE_OPENING, /* start submitted the open */
    SQ_PHASE_READY,
    SQ_PHASE_FAILED,  /* the open failed: ops fail with OC_EUNAVAIL */
    SQ_PHASE_CLOSED   /* stop finished */
} sq_phase_t;

typedef enum { SQ_JOB_OPEN, SQ_JOB_BATCH, SQ_JOB_CLOSE } sq_job_type_t;

/* The one work item in flight. Written by the worker, read by the done
 * callback; work_submit orders the two. */
typedef struct sq_job_s {
    sq_job_type_t type;
    int ran;          /* the work function ran (else the host canceled it) */
    sq_db_t *db;      /* OPEN: result; BATCH/CLOSE: the connection */
    sq_op_t *ops;     /* BATCH: the ops, in call order */
    size_t count;
    int rc;           /* sqlite result of the batch / open */
    char err[SQ_TEXT_MAX];
} sq_job_t;

typedef struct sq_metrics_s {
    oc_metric_t *ops_total;  /* storage_ops_total{op,status} */
    oc_metric_t *op_seconds; /* storage_op_seconds{op} */
    oc_metric_t *batch_ops;  /* storage_sqlite_batch_ops */
    oc_metric_t *queue;      /* storage_sqlite_queue_depth */
} sq_metrics_t;

typedef struct sq_state_s {
    const oc_host_api_t *host;
    oc_plugin_t *self;
    char *path;
    sq_db_config_t cfg; /* immutable after init; read by workers */

    sq_phase_t phase;
    int stopping;
    oc_stop_done_cb stop_done;
    void *stop_data;

    sq_op_t *head, *tail; /* FIFO of ops not yet submitted */
    size_t queued;
    int in_flight; /* a work item is in flight, or callbacks are being delivered */
    sq_job_t job;
    sq_db_t *db; /* the open connection (used only through jobs) */

    int32_t health_status;
    char health[SQ_TEXT_MAX];
    int degraded; /* the last transaction failed (disk full, I/O error...) */
    sq_metrics_t metrics;
} sq_state_t;

/* queue.c (loop). */
int32_t sq_queue_push(sq_state_t *st, sq_op_t *op); /* OC_PENDING, or an error (op not taken) */
int32_t sq_queue_open(sq_state_t *st);               /* start: submit the open */
void sq_queue_pump(sq_state_t *st);                  /* submit what can be; finish stop */
void sq_queue_drop(sq_state_t *st);                  /* destroy: free queued ops, no callbacks */

/* metrics.c (loop). */
void sq_metrics_register(sq_state_t *st);
void sq_metrics_op(sq_state_t *st, const sq_op_t *op, uint64_t end_ns);
void sq_metrics_batch(sq_state_t *st, size_t count);

/* ops.c: what every op shares (validation, op blocks, delivery, the
 * storage table); ops_messaging.c and ops_pairing.c: the 1.1 ops. */
extern const oc_storage_ops_t sq_storage_ops;
int sq_key_ok(const char *key);
/* The static copy of a valid role, NULL when it is not one. */
const char *sq_role_static(const char *role);
/* Whether the instance takes new ops: OC_OK or the status to return. */
int32_t sq_accepting(const sq_state_t *st);
/* Bytes to copy `s` into an arena (0 for NULL); the copy itself. */
size_t sq_str_size(const char *s);
const char *sq_arena_str(char **cur, const char *s);
/* One calloc'd block: the op, `pre` bytes (8-aligned; arrays), then
 * `strings` bytes; *cur points at the strings. NULL when out of memory. */
sq_op_t *sq_op_new(sq_op_kind_t kind, void *data, size_t pre, size_t strings, char **cur);
/* Queue the op: OC_PENDING, or an error (the op is freed). */
int32_t sq_submit(sq_state_t *st, sq_op_t *op);

int32_t sq_inbox_put(void *state, const oc_inbox_item_t *item, oc_inbox_put_cb cb, void *data);
int32_t sq_inbox_pending(void *state, uint64_t after_id, uint32_t limit, oc_inbox_list_cb cb,
                         void *data);
int32_t sq_commit(void *state, const oc_commit_t *c, oc_storage_done_cb cb, void *data);
int32_t sq_outbox_pending(void *state, uint64_t after_id, uint32_t limit, oc_outbox_list_cb cb,
                          void *data);
int32_t sq_outbox_update(void *state, uint64_t id, uint32_t new_state, uint32_t attempts,
                         uint64_t next_attempt_ms, const char *last_error,
                         oc_storage_done_cb cb, void *data);
int32_t sq_pairing_request(void *state, const oc_pairing_t *req, uint32_t max_pending,
                           uint64_t now_ms, oc_pairing_cb cb, void *data);
int32_t sq_pairing_list(void *state, const char *channel, uint64_t now_ms, oc_pairing_list_cb cb,
                        void *data);
int32_t sq_pairing_approve(void *state, const char *channel, const char *code, uint64_t now_ms,
                           oc_pairing_cb cb, void *data);
int32_t sq_allow_add(void *state, const char *channel, const char *account,
                     const char *sender_id, oc_storage_done_cb cb, void *data);
int32_t sq_allow_check(void *state, const char *channel, const char *account,
                       const char *sender_id, oc_storage_done_cb cb, void *data);
/* ops_shared.c: the 1.2 ops. */
int32_t sq_lease_acquire(void *state, const char *name, const char *holder, uint32_t ttl_ms,
                         oc_lease_cb cb, void *data);
int32_t sq_lease_release(void *state, const char *name, const char *holder,
                         oc_storage_done_cb cb, void *data);
int32_t sq_inbox_session_pending(void *state, const char *session_key, uint64_t after_id,
                                 uint32_t limit, oc_inbox_list_cb cb, void *data);
int32_t sq_outbox_claim(void *state, uint64_t id, const char *holder, uint32_t ttl_ms,
                        oc_outbox_item_cb cb, void *data);
int32_t sq_prune(void *state, uint64_t before_ms, oc_storage_done_cb cb, void *data);

/* plugin.c */
int32_t sq_storage_health(void *state, const char **text);

/* util */
uint64_t sq_mono_ns(void);
uint64_t sq_wall_ms(void);
void sq_set_health(sq_state_t *st, int32_t status, const char *fmt, ...) OC_PRINTF(3, 4);

#endif
