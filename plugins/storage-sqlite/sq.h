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
#define SQ_VERSION "1.0.0"
#define SQ_KEY_MAX 512        /* bytes, per storage.h */
#define SQ_BATCH_MAX 512      /* ops per work item (one transaction) */
#define SQ_LIST_DEFAULT 100   /* session_list limit 0 */
#define SQ_TEXT_MAX 512       /* error / health text buffers */

/* ---- ops --------------------------------------------------------------- */

typedef enum {
    SQ_OP_PUT,
    SQ_OP_GET,
    SQ_OP_LIST,
    SQ_OP_DELETE,
    SQ_OP_APPEND,
    SQ_OP_READ,
    SQ_OP_CLEAR,
    SQ_OP__COUNT
} sq_op_kind_t;

/* A turn to append: strings point into the op's arena; role is static. */
typedef struct sq_turn_in_s {
    const char *role;
    const char *content;
    const char *meta_json;
    uint64_t created_ms;
} sq_turn_in_t;

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
    } cb;
    void *data;
    uint64_t t0_ns;  /* monotonic, when the op was called (latency metric) */
    uint64_t now_ms; /* wall clock when the op was called: the "0 = now" value */
    const char *key; /* NULL for list */
    union {
        struct {
            const char *agent_id, *channel, *meta_json;
            uint64_t created_ms, updated_ms;
        } put;
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
    } in;
    /* Results. Each oc_session_t / oc_turn_t is one malloc block holding its
     * strings (sq_row_*), freed by sq_op_free after the callback returned. */
    union {
        oc_session_t *session;
        struct {
            oc_session_t **items;
            size_t count;
        } list;
        struct {
            oc_turn_t **items;
            size_t count;
        } turns;
        uint64_t last_seq;
    } out;
};

const char *sq_op_name(sq_op_kind_t kind);
void sq_op_free(sq_op_t *op);
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

/* sql_sessions.c / sql_transcript.c. Each runs one op inside the batch's
 * transaction: returns SQLITE_OK with op->status set (OC_OK, OC_ENOENT), or
 * a sqlite error (the batch rolls the op back). */
typedef int (*sq_exec_fn)(sq_db_t *d, sq_op_t *op);
int sq_exec_session_put(sq_db_t *d, sq_op_t *op);
int sq_exec_session_get(sq_db_t *d, sq_op_t *op);
int sq_exec_session_list(sq_db_t *d, sq_op_t *op);
int sq_exec_session_delete(sq_db_t *d, sq_op_t *op);
int sq_exec_transcript_append(sq_db_t *d, sq_op_t *op);
int sq_exec_transcript_read(sq_db_t *d, sq_op_t *op);
int sq_exec_transcript_clear(sq_db_t *d, sq_op_t *op);
/* Deletes every turn of op->key (session delete and transcript clear both
 * end with it); sets op->status OC_OK on success. */
int sq_delete_turns(sq_db_t *d, sq_op_t *op);

/* batch.c (worker). Run ops[0..n) in one transaction, one savepoint per
 * multi-statement write. Sets every op's status. Returns SQLITE_OK, or the
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

/* ops.c (the storage table), plugin.c (health) */
extern const oc_storage_ops_t sq_storage_ops;
int32_t sq_storage_health(void *state, const char **text);

/* util */
uint64_t sq_mono_ns(void);
uint64_t sq_wall_ms(void);
void sq_set_health(sq_state_t *st, int32_t status, const char *fmt, ...) OC_PRINTF(3, 4);

#endif
