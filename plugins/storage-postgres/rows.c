/* rows.c - storage-postgres: result cells and rows. Results are in text
 * form; the ABI structs built here live in the op's arena and borrow their
 * strings from the PGresult, which the op keeps until its callback
 * returned. Column orders are those of stmts.c. Loop only. */
#include <stdlib.h>
#include <string.h>

#include "pg.h"

const char *pg_val(const PGresult *r, int row, int col)
{
    if (row >= PQntuples(r) || col >= PQnfields(r) || PQgetisnull(r, row, col))
        return NULL;
    return PQgetvalue(r, row, col);
}

int64_t pg_i64(const PGresult *r, int row, int col)
{
    const char *v = pg_val(r, row, col);
    return v != NULL ? strtoll(v, NULL, 10) : 0;
}

uint64_t pg_u64(const PGresult *r, int row, int col)
{
    int64_t v = pg_i64(r, row, col);
    return v > 0 ? (uint64_t)v : 0;
}

uint64_t pg_cmd_rows(const PGresult *r)
{
    const char *n = PQcmdTuples((PGresult *)r);
    return n != NULL && n[0] != '\0' ? strtoull(n, NULL, 10) : 0;
}

/* Columns: key, agent_id, channel, meta_json, created_ms, updated_ms, turn_count. */
oc_session_t *pg_row_session(pg_op_t *op, const PGresult *r, int row)
{
    oc_session_t *s = pg_arena_alloc(&op->arena, sizeof *s);
    if (s == NULL)
        return NULL;
    s->struct_size = sizeof *s;
    s->key = pg_val(r, row, 0);
    s->agent_id = pg_val(r, row, 1);
    s->channel = pg_val(r, row, 2);
    s->meta_json = pg_val(r, row, 3);
    s->created_ms = pg_u64(r, row, 4);
    s->updated_ms = pg_u64(r, row, 5);
    s->turn_count = pg_u64(r, row, 6);
    return s;
}

/* Columns: seq, role, content, meta_json, created_ms. */
oc_turn_t *pg_row_turn(pg_op_t *op, const PGresult *r, int row)
{
    oc_turn_t *t = pg_arena_alloc(&op->arena, sizeof *t);
    if (t == NULL)
        return NULL;
    t->struct_size = sizeof *t;
    t->seq = pg_u64(r, row, 0);
    t->role = pg_val(r, row, 1);
    t->content = pg_val(r, row, 2);
    if (t->content == NULL) /* NOT NULL column; keep the ABI promise anyway */
        t->content = "";
    t->meta_json = pg_val(r, row, 3);
    t->created_ms = pg_u64(r, row, 4);
    return t;
}

/* Columns: id, state, channel, account, message_id, envelope_json,
 * received_ms, session_key. */
oc_inbox_item_t *pg_row_inbox(pg_op_t *op, const PGresult *r, int row)
{
    oc_inbox_item_t *it = pg_arena_alloc(&op->arena, sizeof *it);
    if (it == NULL)
        return NULL;
    it->struct_size = sizeof *it;
    it->id = pg_u64(r, row, 0);
    it->state = (uint32_t)pg_u64(r, row, 1);
    it->channel = pg_val(r, row, 2);
    it->account = pg_val(r, row, 3);
    it->message_id = pg_val(r, row, 4);
    it->envelope_json = pg_val(r, row, 5);
    it->received_ms = pg_u64(r, row, 6);
    it->session_key = pg_val(r, row, 7);
    return it;
}

/* Columns from `col`: id, state, idempotency_key, channel, account,
 * peer_kind, attempts, peer_id, text, in_reply_to, last_error, created_ms,
 * next_attempt_ms. */
oc_outbox_item_t *pg_row_outbox(pg_op_t *op, const PGresult *r, int row, int col)
{
    oc_outbox_item_t *o = pg_arena_alloc(&op->arena, sizeof *o);
    if (o == NULL)
        return NULL;
    o->struct_size = sizeof *o;
    o->id = pg_u64(r, row, col + 0);
    o->state = (uint32_t)pg_u64(r, row, col + 1);
    o->idempotency_key = pg_val(r, row, col + 2);
    o->channel = pg_val(r, row, col + 3);
    o->account = pg_val(r, row, col + 4);
    o->peer_kind = (uint32_t)pg_u64(r, row, col + 5);
    o->attempts = (uint32_t)pg_u64(r, row, col + 6);
    o->peer_id = pg_val(r, row, col + 7);
    o->text = pg_val(r, row, col + 8);
    o->in_reply_to = pg_val(r, row, col + 9);
    o->last_error = pg_val(r, row, col + 10);
    o->created_ms = pg_u64(r, row, col + 11);
    o->next_attempt_ms = pg_u64(r, row, col + 12);
    return o;
}

/* Columns from `col`: channel, account, sender_id, code, meta_json,
 * created_ms, last_seen_ms, expires_ms. */
oc_pairing_t *pg_row_pairing(pg_op_t *op, const PGresult *r, int row, int col)
{
    oc_pairing_t *p = pg_arena_alloc(&op->arena, sizeof *p);
    if (p == NULL)
        return NULL;
    p->struct_size = sizeof *p;
    p->channel = pg_val(r, row, col + 0);
    p->account = pg_val(r, row, col + 1);
    p->sender_id = pg_val(r, row, col + 2);
    p->code = pg_val(r, row, col + 3);
    p->meta_json = pg_val(r, row, col + 4);
    p->created_ms = pg_u64(r, row, col + 5);
    p->last_seen_ms = pg_u64(r, row, col + 6);
    p->expires_ms = pg_u64(r, row, col + 7);
    return p;
}

int32_t pg_rows(pg_op_t *op, const PGresult *r, void *(*fn)(pg_op_t *, const PGresult *, int))
{
    int n = PQntuples(r);
    op->out.rows = NULL;
    op->out.count = 0;
    if (n == 0)
        return OC_OK;
    void **rows = pg_arena_alloc(&op->arena, (size_t)n * sizeof *rows);
    if (rows == NULL)
        return OC_ENOMEM;
    for (int i = 0; i < n; i++) {
        rows[i] = fn(op, r, i);
        if (rows[i] == NULL)
            return OC_ENOMEM;
    }
    op->out.rows = rows;
    op->out.count = (size_t)n;
    return OC_OK;
}
