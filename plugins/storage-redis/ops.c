/* ops.c - storage-redis: the sessions and transcripts ops (ABI 1.0) and
 * what every op shares. H only.
 *
 * Each op validates its arguments (OC_EINVAL at once, the callback never
 * runs), copies them as script arguments into one op block (callers'
 * pointers are borrowed for the call only; "0 = now" timestamps are
 * resolved here, at the call) and hands the op to T. The 1.1 ops are in
 * ops_messaging.c and ops_pairing.c, the 1.2 ones in ops_shared.c. */
#include <stdlib.h>
#include <string.h>

#include "rd.h"

#define SESSION_MIN RD_MIN_SIZE(oc_session_t, updated_ms)
#define TURN_MIN RD_MIN_SIZE(oc_turn_t, created_ms)
#define QUERY_MIN RD_MIN_SIZE(oc_session_query_t, key_prefix)

static const char *const roles[] = {"system", "user", "assistant", "tool"};

const char *rd_role_static(const char *role)
{
    if (role == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(role, roles[i]) == 0)
            return roles[i];
    return NULL;
}

int rd_key_ok(const char *key)
{
    return key != NULL && key[0] != '\0' && strnlen(key, RD_KEY_MAX + 1) <= RD_KEY_MAX;
}

int32_t rd_prepare(rd_state_t *st, rd_op_kind_t kind, void *data, rd_fill_fn fill,
                   const void *in, rd_op_t **out)
{
    int32_t rc = rd_accepting(st);
    if (rc != OC_OK)
        return rc;
    rd_op_t *op = rd_op_make(kind, data, fill, in);
    if (op == NULL)
        return OC_ENOMEM;
    *out = op;
    return OC_OK;
}

/* ---- session_put ---------------------------------------------------------- */

typedef struct put_in_s {
    const oc_session_t *s;
    uint64_t now;
} put_in_t;

/* ARGV: key, agent, channel?, meta?, created_ms, updated_ms */
static void fill_put(rd_args_t *a, const void *in)
{
    const put_in_t *p = in;
    rd_arg_str(a, p->s->key);
    rd_arg_str(a, p->s->agent_id);
    rd_arg_opt(a, p->s->channel);
    rd_arg_opt(a, p->s->meta_json);
    rd_arg_u64(a, p->s->created_ms != 0 ? p->s->created_ms : p->now);
    rd_arg_u64(a, p->s->updated_ms != 0 ? p->s->updated_ms : p->now);
}

static int32_t session_put(void *state, const oc_session_t *s, oc_storage_done_cb cb, void *data)
{
    if (s == NULL || cb == NULL || s->struct_size < SESSION_MIN || !rd_key_ok(s->key) ||
        s->agent_id == NULL)
        return OC_EINVAL;
    put_in_t in = {s, rd_wall_ms()};
    rd_op_t *op;
    int32_t rc = rd_prepare(state, RD_OP_SESSION_PUT, data, fill_put, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.done = cb;
    return rd_submit(state, op);
}

/* ---- ops on one key ------------------------------------------------------- */

typedef struct key_in_s {
    const char *key;
    int with_num; /* append num as a second argument */
    uint64_t num;
} key_in_t;

/* ARGV: key [, now | limit] */
static void fill_key(rd_args_t *a, const void *in)
{
    const key_in_t *k = in;
    rd_arg_str(a, k->key);
    if (k->with_num)
        rd_arg_u64(a, k->num);
}

static int32_t key_op(rd_state_t *st, rd_op_kind_t kind, const char *key, int with_num,
                      uint64_t num, void *data, rd_op_t **op)
{
    if (!rd_key_ok(key))
        return OC_EINVAL;
    key_in_t in = {key, with_num, num};
    return rd_prepare(st, kind, data, fill_key, &in, op);
}

static int32_t session_get(void *state, const char *key, oc_session_cb cb, void *data)
{
    rd_op_t *op;
    int32_t rc = cb == NULL ? OC_EINVAL : key_op(state, RD_OP_SESSION_GET, key, 0, 0, data, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.session = cb;
    return rd_submit(state, op);
}

static int32_t session_delete(void *state, const char *key, oc_storage_done_cb cb, void *data)
{
    rd_op_t *op;
    int32_t rc =
        cb == NULL ? OC_EINVAL : key_op(state, RD_OP_SESSION_DELETE, key, 0, 0, data, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.done = cb;
    return rd_submit(state, op);
}

static int32_t transcript_clear(void *state, const char *key, oc_storage_done_cb cb, void *data)
{
    rd_op_t *op;
    int32_t rc = cb == NULL ? OC_EINVAL
                            : key_op(state, RD_OP_TRANSCRIPT_CLEAR, key, 1, rd_wall_ms(), data,
                                     &op);
    if (rc != OC_OK)
        return rc;
    op->cb.done = cb;
    return rd_submit(state, op);
}

static int32_t transcript_read(void *state, const char *key, uint32_t limit, oc_turns_cb cb,
                               void *data)
{
    rd_op_t *op;
    int32_t rc =
        cb == NULL ? OC_EINVAL : key_op(state, RD_OP_TRANSCRIPT_READ, key, 1, limit, data, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.turns = cb;
    return rd_submit(state, op);
}

/* ---- session_list --------------------------------------------------------- */

typedef struct list_in_s {
    const char *agent, *prefix;
    uint32_t limit;
} list_in_t;

/* ARGV: agent?, prefix?, limit */
static void fill_list(rd_args_t *a, const void *in)
{
    const list_in_t *l = in;
    rd_arg_opt(a, l->agent);
    rd_arg_opt(a, l->prefix);
    rd_arg_u64(a, l->limit);
}

/* q may be NULL: every session, newest first, at most 100. */
static int32_t session_list(void *state, const oc_session_query_t *q, oc_session_list_cb cb,
                            void *data)
{
    if (cb == NULL || (q != NULL && q->struct_size < QUERY_MIN))
        return OC_EINVAL;
    list_in_t in = {
        .agent = q != NULL ? q->agent_id : NULL,
        .prefix = q != NULL && q->key_prefix != NULL && q->key_prefix[0] != '\0' ? q->key_prefix
                                                                                 : NULL,
        .limit = q != NULL && q->limit != 0 ? q->limit : RD_LIST_DEFAULT,
    };
    if (in.prefix != NULL && strnlen(in.prefix, RD_KEY_MAX + 1) > RD_KEY_MAX)
        return OC_EINVAL;
    rd_op_t *op;
    int32_t rc = rd_prepare(state, RD_OP_SESSION_LIST, data, fill_list, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.list = cb;
    return rd_submit(state, op);
}

/* ---- transcript_append ---------------------------------------------------- */

typedef struct append_in_s {
    const char *key;
    const oc_turn_t *const *turns;
    size_t count;
    uint64_t now;
} append_in_t;

void rd_fill_turns(rd_args_t *a, const oc_turn_t *const *turns, size_t n, uint64_t now)
{
    for (size_t i = 0; i < n; i++) {
        const oc_turn_t *t = turns[i];
        rd_arg_str(a, rd_role_static(t->role));
        rd_arg_u64(a, t->created_ms != 0 ? t->created_ms : now);
        rd_arg_opt(a, t->meta_json);
        rd_arg_str(a, t->content);
    }
}

int rd_turns_ok(const oc_turn_t *const *turns, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const oc_turn_t *t = turns[i];
        if (t == NULL || t->struct_size < TURN_MIN || rd_role_static(t->role) == NULL ||
            t->content == NULL)
            return 0;
    }
    return 1;
}

/* ARGV: key, now, count, turns... */
static void fill_append(rd_args_t *a, const void *in)
{
    const append_in_t *p = in;
    rd_arg_str(a, p->key);
    rd_arg_u64(a, p->now);
    rd_arg_u64(a, p->count);
    rd_fill_turns(a, p->turns, p->count, p->now);
}

static int32_t transcript_append(void *state, const char *key, const oc_turn_t *const *turns,
                                 size_t count, oc_append_cb cb, void *data)
{
    if (cb == NULL || !rd_key_ok(key) || turns == NULL || count == 0 || count > (1u << 24) ||
        !rd_turns_ok(turns, count))
        return OC_EINVAL;
    append_in_t in = {key, turns, count, rd_wall_ms()};
    rd_op_t *op;
    int32_t rc = rd_prepare(state, RD_OP_TRANSCRIPT_APPEND, data, fill_append, &in, &op);
    if (rc != OC_OK)
        return rc;
    op->cb.append = cb;
    return rd_submit(state, op);
}

const oc_storage_ops_t rd_storage_ops = {
    OC_STORAGE_OPS_INIT,
    .health = rd_storage_health,
    .session_put = session_put,
    .session_get = session_get,
    .session_list = session_list,
    .session_delete = session_delete,
    .transcript_append = transcript_append,
    .transcript_read = transcript_read,
    .transcript_clear = transcript_clear,
    .inbox_put = rd_inbox_put,
    .inbox_pending = rd_inbox_pending,
    .commit = rd_commit,
    .outbox_pending = rd_outbox_pending,
    .outbox_update = rd_outbox_update,
    .pairing_request = rd_pairing_request,
    .pairing_list = rd_pairing_list,
    .pairing_approve = rd_pairing_approve,
    .allow_add = rd_allow_add,
    .allow_check = rd_allow_check,
    .lease_acquire = rd_lease_acquire,
    .lease_release = rd_lease_release,
    .inbox_session_pending = rd_inbox_session_pending,
    .outbox_claim = rd_outbox_claim,
    .prune = rd_prune,
};
