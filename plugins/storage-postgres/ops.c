/* ops.c - storage-postgres: the 1.0 storage operations (sessions and
 * transcripts) and the storage table. Each op validates its arguments
 * (OC_EINVAL at once, the callback never runs), copies what it needs into
 * its arena as statement parameters, and goes to the pool; its finish
 * function reads the round's results. Loop only. */
#include <string.h>

#include "pg.h"

#define SESSION_MIN PG_MIN_SIZE(oc_session_t, updated_ms)
#define TURN_MIN PG_MIN_SIZE(oc_turn_t, created_ms)
#define QUERY_MIN PG_MIN_SIZE(oc_session_query_t, key_prefix)
/* Far above any real append; keeps array sizes from wrapping. */
#define TURNS_MAX ((size_t)1 << 24)

static const char *const roles[] = {"system", "user", "assistant", "tool"};

const char *pg_role_ok(const char *role)
{
    if (role == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(role, roles[i]) == 0)
            return roles[i];
    return NULL;
}

int pg_key_ok(const char *key)
{
    return key != NULL && key[0] != '\0' && strnlen(key, PG_KEY_MAX + 1) <= PG_KEY_MAX;
}

int pg_name_ok(const char *s)
{
    return s != NULL && s[0] != '\0' && strnlen(s, PG_NAME_MAX + 1) <= PG_NAME_MAX;
}

int32_t pg_accepting(const pg_state_t *st)
{
    switch (st->phase) {
    case PG_PHASE_NEW:
        return OC_EAGAIN; /* storage is available from start on */
    case PG_PHASE_FAILED:
        return OC_EUNAVAIL; /* start failed (it said why) */
    case PG_PHASE_STOPPING:
    case PG_PHASE_STOPPED:
        return OC_ECANCELED;
    default:
        return OC_OK;
    }
}

int32_t pg_submit_checked(pg_state_t *st, pg_op_t *op)
{
    if (op->arena.oom) {
        pg_op_free(op);
        return OC_ENOMEM;
    }
    return pg_submit(st, op);
}

/* ---- finish functions -------------------------------------------------- */

static int fin_ok(pg_op_t *op)
{
    op->status = OC_OK;
    return PG_FIN_DONE;
}

/* A command that touched one row (OC_OK) or none (OC_ENOENT). */
static int fin_one_row(pg_op_t *op)
{
    op->status = pg_cmd_rows(op->res[0]) > 0 ? OC_OK : OC_ENOENT;
    return PG_FIN_DONE;
}

/* A count(*) of the session rows a CTE touched. */
static int fin_count(pg_op_t *op)
{
    op->status = pg_u64(op->res[0], 0, 0) > 0 ? OC_OK : OC_ENOENT;
    return PG_FIN_DONE;
}

static int fin_get(pg_op_t *op)
{
    if (PQntuples(op->res[0]) == 0) {
        op->status = OC_ENOENT;
        return PG_FIN_DONE;
    }
    op->out.row = pg_row_session(op, op->res[0], 0);
    op->status = op->out.row != NULL ? OC_OK : OC_ENOMEM;
    return PG_FIN_DONE;
}

static void *row_session(pg_op_t *op, const PGresult *r, int i)
{
    return pg_row_session(op, r, i);
}

static void *row_turn(pg_op_t *op, const PGresult *r, int i)
{
    return pg_row_turn(op, r, i);
}

static int fin_list(pg_op_t *op)
{
    op->status = pg_rows(op, op->res[0], row_session);
    return PG_FIN_DONE;
}

static int fin_append(pg_op_t *op)
{
    if (PQntuples(op->res[0]) == 0) {
        op->status = OC_ENOENT;
        return PG_FIN_DONE;
    }
    op->out.id = pg_u64(op->res[0], 0, 0);
    op->status = OC_OK;
    return PG_FIN_DONE;
}

static int fin_read(pg_op_t *op)
{
    const PGresult *r = op->res[0];
    if (PQntuples(r) == 0) {
        op->status = OC_ENOENT;
        return PG_FIN_DONE;
    }
    if (PQntuples(r) == 1 && pg_val(r, 0, 0) == NULL) { /* the session, no turns */
        op->status = OC_OK;
        return PG_FIN_DONE;
    }
    op->status = pg_rows(op, r, row_turn);
    return PG_FIN_DONE;
}

/* ---- the operations ---------------------------------------------------- */

static int32_t session_put(void *state, const oc_session_t *s, oc_storage_done_cb cb, void *data)
{
    pg_state_t *st = state;
    if (s == NULL || cb == NULL || s->struct_size < SESSION_MIN || !pg_key_ok(s->key) ||
        s->agent_id == NULL)
        return OC_EINVAL;
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    pg_op_t *op = pg_op_new(PG_OP_PUT, data, fin_ok);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.done = cb;
    const char **p = pg_op_call(op, PG_ST_SESSION_PUT);
    if (p != NULL) {
        pg_arena_t *a = &op->arena;
        op->key = p[0] = pg_arena_str(a, s->key);
        p[1] = pg_arena_str(a, s->agent_id);
        p[2] = pg_arena_str(a, s->channel);
        p[3] = pg_arena_str(a, s->meta_json);
        p[4] = pg_arena_u64(a, s->created_ms != 0 ? s->created_ms : op->now_ms);
        p[5] = pg_arena_u64(a, s->updated_ms != 0 ? s->updated_ms : op->now_ms);
    }
    return pg_submit_checked(st, op);
}

/* An op on one session key; the caller adds its statements. */
static int32_t key_op(pg_state_t *st, pg_op_kind_t kind, pg_finish_fn fin, const char *key,
                      void *data, pg_op_t **out)
{
    if (!pg_key_ok(key))
        return OC_EINVAL;
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    pg_op_t *op = pg_op_new(kind, data, fin);
    if (op == NULL)
        return OC_ENOMEM;
    op->key = pg_arena_str(&op->arena, key);
    *out = op;
    return OC_OK;
}

static int32_t session_get(void *state, const char *key, oc_session_cb cb, void *data)
{
    pg_op_t *op;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = key_op(state, PG_OP_GET, fin_get, key, data, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.session = cb;
    const char **p = pg_op_call(op, PG_ST_SESSION_GET);
    if (p != NULL)
        p[0] = op->key;
    return pg_submit_checked(state, op);
}

/* The session row, then its turns with a fresh snapshot (one taken after
 * any append that held the row): no orphan turn survives. */
static int32_t session_delete(void *state, const char *key, oc_storage_done_cb cb, void *data)
{
    pg_op_t *op;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = key_op(state, PG_OP_DELETE, fin_one_row, key, data, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.done = cb;
    const char **p = pg_op_call(op, PG_ST_SESSION_DELETE);
    if (p != NULL)
        p[0] = op->key;
    if ((p = pg_op_call(op, PG_ST_TURNS_DELETE)) != NULL)
        p[0] = op->key;
    return pg_submit_checked(state, op);
}

static int32_t transcript_clear(void *state, const char *key, oc_storage_done_cb cb, void *data)
{
    pg_op_t *op;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = key_op(state, PG_OP_CLEAR, fin_count, key, data, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.done = cb;
    const char **p = pg_op_call(op, PG_ST_CLEAR);
    if (p != NULL) {
        p[0] = op->key;
        p[1] = pg_arena_u64(&op->arena, op->now_ms);
    }
    if ((p = pg_op_call(op, PG_ST_TURNS_DELETE)) != NULL)
        p[0] = op->key;
    return pg_submit_checked(state, op);
}

static int32_t transcript_read(void *state, const char *key, uint32_t limit, oc_turns_cb cb,
                               void *data)
{
    pg_op_t *op;
    if (cb == NULL)
        return OC_EINVAL;
    int32_t rc = key_op(state, PG_OP_READ, fin_read, key, data, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.turns = cb;
    const char **p = pg_op_call(op, PG_ST_READ);
    if (p != NULL) {
        p[0] = op->key;
        p[1] = limit != 0 ? pg_arena_u64(&op->arena, limit) : NULL; /* NULL: all */
    }
    return pg_submit_checked(state, op);
}

/* q may be NULL: every session, newest first, at most 100. */
static int32_t session_list(void *state, const oc_session_query_t *q, oc_session_list_cb cb,
                            void *data)
{
    pg_state_t *st = state;
    if (cb == NULL || (q != NULL && q->struct_size < QUERY_MIN))
        return OC_EINVAL;
    const char *agent = q != NULL ? q->agent_id : NULL;
    const char *prefix =
        q != NULL && q->key_prefix != NULL && q->key_prefix[0] != '\0' ? q->key_prefix : NULL;
    if (prefix != NULL && strnlen(prefix, PG_KEY_MAX + 1) > PG_KEY_MAX)
        return OC_EINVAL;
    int32_t rc = pg_accepting(st);
    if (rc != OC_OK)
        return rc;
    pg_op_t *op = pg_op_new(PG_OP_LIST, data, fin_list);
    if (op == NULL)
        return OC_ENOMEM;
    op->cb.list = cb;
    pg_arena_t *a = &op->arena;
    const char *limit = pg_arena_u64(a, q != NULL && q->limit != 0 ? q->limit : PG_LIST_DEFAULT);
    const char **p = pg_op_call(op, agent != NULL ? PG_ST_SESSION_LIST_AGENT : PG_ST_SESSION_LIST);
    if (p != NULL && agent != NULL) {
        p[0] = pg_arena_str(a, agent);
        p[1] = pg_arena_str(a, prefix);
        p[2] = limit;
    } else if (p != NULL) {
        p[0] = pg_arena_str(a, prefix);
        p[1] = limit;
    }
    return pg_submit_checked(st, op);
}

int pg_turn_arrays(pg_op_t *op, const char **p, const char *key, const oc_turn_t *const *turns,
                   size_t count)
{
    pg_arena_t *a = &op->arena;
    const char **role = pg_arena_alloc(a, count * sizeof *role);
    const char **content = pg_arena_alloc(a, count * sizeof *content);
    const char **meta = pg_arena_alloc(a, count * sizeof *meta);
    uint64_t *created = pg_arena_alloc(a, count * sizeof *created);
    if (role == NULL || content == NULL || meta == NULL || created == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        role[i] = pg_role_ok(turns[i]->role);
        content[i] = turns[i]->content;
        meta[i] = turns[i]->meta_json;
        created[i] = turns[i]->created_ms != 0 ? turns[i]->created_ms : op->now_ms;
    }
    p[0] = key;
    p[1] = pg_arena_u64(a, count);
    p[2] = pg_arena_u64(a, op->now_ms);
    p[3] = pg_arena_text_array(a, role, count);
    p[4] = pg_arena_text_array(a, content, count);
    p[5] = pg_arena_text_array(a, meta, count);
    p[6] = pg_arena_u64_array(a, created, count);
    return a->oom ? -1 : 0;
}

int pg_turns_ok(const oc_turn_t *const *turns, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const oc_turn_t *t = turns[i];
        if (t == NULL || t->struct_size < TURN_MIN || pg_role_ok(t->role) == NULL ||
            t->content == NULL)
            return 0;
    }
    return 1;
}

static int32_t transcript_append(void *state, const char *key, const oc_turn_t *const *turns,
                                 size_t count, oc_append_cb cb, void *data)
{
    pg_op_t *op;
    if (cb == NULL || turns == NULL || count == 0 || count > TURNS_MAX ||
        !pg_turns_ok(turns, count))
        return OC_EINVAL;
    int32_t rc = key_op(state, PG_OP_APPEND, fin_append, key, data, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.append = cb;
    const char **p = pg_op_call(op, PG_ST_APPEND);
    if (p != NULL)
        pg_turn_arrays(op, p, op->key, turns, count);
    return pg_submit_checked(state, op);
}

const oc_storage_ops_t pg_storage_ops = {
    OC_STORAGE_OPS_INIT,
    .health = pg_storage_health,
    .session_put = session_put,
    .session_get = session_get,
    .session_list = session_list,
    .session_delete = session_delete,
    .transcript_append = transcript_append,
    .transcript_read = transcript_read,
    .transcript_clear = transcript_clear,
    .inbox_put = pg_inbox_put,
    .inbox_pending = pg_inbox_pending,
    .commit = pg_commit,
    .outbox_pending = pg_outbox_pending,
    .outbox_update = pg_outbox_update,
    .pairing_request = pg_pairing_request,
    .pairing_list = pg_pairing_list,
    .pairing_approve = pg_pairing_approve,
    .allow_add = pg_allow_add,
    .allow_check = pg_allow_check,
    .lease_acquire = pg_lease_acquire,
    .lease_release = pg_lease_release,
    .inbox_session_pending = pg_inbox_session_pending,
    .outbox_claim = pg_outbox_claim,
    .prune = pg_prune,
};
