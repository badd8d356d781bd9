/* db.c - storage-sqlite: the connection (worker side only).
 *
 * Opening creates missing parent directories (0700) and the file (0600; the
 * -wal and -shm files inherit its mode), sets busy_timeout, WAL and the
 * configured synchronous level, then migrates the schema. Statements are
 * prepared once per connection and cached by id. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sq.h"

int32_t sq_status_from_sqlite(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return OC_OK;
    case SQLITE_NOMEM:
        return OC_ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return OC_EBUSY;
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
        return OC_EINVAL;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISUSE:
    case SQLITE_INTERNAL:
        return OC_EINTERNAL;
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return OC_EUNAVAIL;
    default: /* IOERR, FULL, CORRUPT, READONLY, PROTOCOL... */
        return OC_EIO;
    }
}

/* mkdir -p of the directory part of `path`, new directories 0700. */
static int sq_mkdirs(const char *path, char *err, size_t errlen)
{
    char *dir = strdup(path);
    if (dir == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) { /* "x.db" or "/x.db" */
        free(dir);
        return 0;
    }
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        int last = *p == '\0';
        if (*p == '/' || last) {
            char saved = *p;
            *p = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
                free(dir);
                return -1;
            }
            *p = saved;
        }
        if (last)
            break;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s is not a directory", dir);
        free(dir);
        return -1;
    }
    free(dir);
    return 0;
}

/* Create the file 0600 before sqlite does (sqlite would use 0644). */
static int sq_precreate(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

static int sq_pragma(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out != NULL && outlen > 0) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            snprintf(out, outlen, "%s", t != NULL ? (const char *)t : "");
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

sq_db_t *sq_db_open(const sq_db_config_t *cfg, char *err, size_t errlen)
{
    int memory = strcmp(cfg->path, ":memory:") == 0;
    err[0] = '\0';
    if (!memory && (sq_mkdirs(cfg->path, err, errlen) != 0 ||
                    sq_precreate(cfg->path, err, errlen) != 0))
        return NULL;

    sq_db_t *d = calloc(1, sizeof *d);
    if (d == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* NOMUTEX: one job at a time uses the connection (queue.c). */
    int rc = sqlite3_open_v2(cfg->path, &d->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", cfg->path,
                 d->db != NULL ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(d->db, cfg->busy_timeout_ms);

    char mode[32] = "";
    const char *step = "journal_mode=WAL";
    rc = sq_pragma(d->db, "PRAGMA journal_mode=WAL", mode, sizeof mode);
    if (rc == SQLITE_OK) {
        d->wal = strcmp(mode, "wal") == 0;
        step = "synchronous";
        rc = sq_pragma(d->db,
                       cfg->synchronous_full ? "PRAGMA synchronous=FULL"
                                             : "PRAGMA synchronous=NORMAL",
                       NULL, 0);
    }
    if (rc == SQLITE_OK) {
        /* Bound the WAL file left after a checkpoint. */
        step = "journal_size_limit";
        rc = sq_pragma(d->db, "PRAGMA journal_size_limit=67108864", NULL, 0);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s: %s", cfg->path, step, sqlite3_errmsg(d->db));
        goto fail;
    }

    char why[SQ_TEXT_MAX];
    rc = sq_schema_migrate(d->db, &d->schema_from, why, sizeof why);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", cfg->path, why);
        goto fail;
    }
    return d;

fail:
    sqlite3_close(d->db);
    free(d);
    return NULL;
}

void sq_db_close(sq_db_t *d)
{
    if (d == NULL)
        return;
    for (int i = 0; i < SQ_STMT__COUNT; i++)
        sqlite3_finalize(d->stmt[i]);
    sqlite3_close(d->db);
    free(d);
}

sqlite3_stmt *sq_db_stmt(sq_db_t *d, sq_stmt_id_t id, const char *sql)
{
    sqlite3_stmt *st = d->stmt[id];
    if (st == NULL) {
        if (sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
            SQLITE_OK)
            return NULL;
        d->stmt[id] = st;
        return st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

int sq_db_exec_cached(sq_db_t *d, sq_stmt_id_t id, const char *sql)
{
    sqlite3_stmt *st = sq_db_stmt(d, id, sql);
    if (st == NULL)
        return sqlite3_errcode(d->db);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

int sq_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC); /* NULL binds NULL */
}

int sq_step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* ---- rows -------------------------------------------------------------- */

sq_col_t sq_col(sqlite3_stmt *st, int i)
{
    sq_col_t c;
    c.p = (const char *)sqlite3_column_text(st, i); /* text first, then bytes */
    c.n = c.p != NULL ? (size_t)sqlite3_column_bytes(st, i) : 0;
    return c;
}

const char *sq_col_copy(char **cur, sq_col_t c)
{
    if (c.p == NULL)
        return NULL;
    char *d = *cur;
    memcpy(d, c.p, c.n);
    d[c.n] = '\0';
    *cur += c.n + 1;
    return d;
}

size_t sq_col_size(sq_col_t c)
{
    return c.p != NULL ? c.n + 1 : 0;
}

/* Columns: key, agent_id, channel, meta_json, created_ms, updated_ms, turn_count. */
oc_session_t *sq_row_session(sqlite3_stmt *st)
{
    sq_col_t key = sq_col(st, 0), agent = sq_col(st, 1), chan = sq_col(st, 2),
             meta = sq_col(st, 3);
    oc_session_t *s = malloc(sizeof *s + sq_col_size(key) + sq_col_size(agent) +
                             sq_col_size(chan) + sq_col_size(meta));
    if (s == NULL)
        return NULL;
    char *cur = (char *)(s + 1);
    memset(s, 0, sizeof *s);
    s->struct_size = sizeof *s;
    s->key = sq_col_copy(&cur, key);
    s->agent_id = sq_col_copy(&cur, agent);
    s->channel = sq_col_copy(&cur, chan);
    s->meta_json = sq_col_copy(&cur, meta);
    s->created_ms = (uint64_t)sqlite3_column_int64(st, 4);
    s->updated_ms = (uint64_t)sqlite3_column_int64(st, 5);
    s->turn_count = (uint64_t)sqlite3_column_int64(st, 6);
    return s;
}

/* Columns: seq, role, content, meta_json, created_ms. */
oc_turn_t *sq_row_turn(sqlite3_stmt *st)
{
    sq_col_t role = sq_col(st, 1), content = sq_col(st, 2), meta = sq_col(st, 3);
    if (content.p == NULL) /* NOT NULL column; keep the ABI promise anyway */
        content.p = "", content.n = 0;
    oc_turn_t *t =
        malloc(sizeof *t + sq_col_size(role) + sq_col_size(content) + sq_col_size(meta));
    if (t == NULL)
        return NULL;
    char *cur = (char *)(t + 1);
    memset(t, 0, sizeof *t);
    t->struct_size = sizeof *t;
    t->seq = (uint64_t)sqlite3_column_int64(st, 0);
    t->role = sq_col_copy(&cur, role);
    t->content = sq_col_copy(&cur, content);
    t->meta_json = sq_col_copy(&cur, meta);
    t->created_ms = (uint64_t)sqlite3_column_int64(st, 4);
    return t;
}

int sq_collect_rows(sqlite3_stmt *st, size_t cap, void *(*row)(sqlite3_stmt *st), void ***items,
                    size_t *count)
{
    if (cap == 0)
        cap = 4;
    void **out = malloc(cap * sizeof *out);
    size_t n = 0;
    int rc = out != NULL ? SQLITE_OK : SQLITE_NOMEM;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        if (n == cap) {
            void **grown = realloc(out, cap * 2 * sizeof *out);
            if (grown == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            out = grown;
            cap *= 2;
        }
        out[n] = row(st);
        if (out[n] == NULL) {
            rc = SQLITE_NOMEM;
            break;
        }
        n++;
    }
    sqlite3_reset(st);
    *items = out;
    *count = n;
    return rc;
}
