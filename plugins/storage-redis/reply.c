/* reply.c - storage-redis: a script's reply turned into the op's status and
 * results (T). Every script answers {status, ...} (lua.h); an error reply
 * maps to the OC_* status that tells the caller what to do about it. */
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "rd.h"

/* Server errors. Overload and failover states are "unavailable": the
 * gateway answers 503 and retries; permissions are "denied". */
static int32_t error_status(const char *msg)
{
    static const char *const unavailable[] = {"OOM", "BUSY", "LOADING", "READONLY",
                                              "MASTERDOWN", "NOREPLICAS", "TRYAGAIN",
                                              "CLUSTERDOWN"};
    for (size_t i = 0; i < sizeof unavailable / sizeof unavailable[0]; i++) {
        size_t n = strlen(unavailable[i]);
        if (strncmp(msg, unavailable[i], n) == 0 && (msg[n] == ' ' || msg[n] == '\0'))
            return OC_EUNAVAIL;
    }
    if (strncmp(msg, "NOPERM", 6) == 0 || strncmp(msg, "NOAUTH", 6) == 0 ||
        strncmp(msg, "WRONGPASS", 9) == 0 ||
        strstr(msg, "can't access at least one of the keys") != NULL)
        return OC_EACCES;
    return OC_EIO;
}

static int32_t script_status(long long code)
{
    switch (code) {
    case RD_S_OK: return OC_OK;
    case RD_S_ENOENT: return OC_ENOENT;
    case RD_S_EEXIST: return OC_EEXIST;
    case RD_S_ELIMIT: return OC_ELIMIT;
    case RD_S_EBUSY: return OC_EBUSY;
    default: return OC_EPROTO;
    }
}

typedef int32_t (*row_fn)(const redisReply *r, void **out);

/* Elements [first, n) as rows. */
static int32_t rows(rd_op_t *op, const redisReply *r, size_t first, row_fn fn)
{
    size_t n = r->elements > first ? r->elements - first : 0;
    if (n == 0)
        return OC_OK;
    op->out.rows = calloc(n, sizeof *op->out.rows);
    if (op->out.rows == NULL)
        return OC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int32_t rc = fn(r->element[first + i], &op->out.rows[i]);
        if (rc != OC_OK)
            return rc;
        op->out.count++;
    }
    return OC_OK;
}

static int32_t element(const redisReply *r, size_t i, uint64_t *v)
{
    return i < r->elements && rd_reply_u64(r->element[i], v) == 0 ? OC_OK : OC_EPROTO;
}

/* {status, holder, token, ttl}: the lease named by the op's first argument. */
static int32_t lease_row(rd_op_t *op, const redisReply *r)
{
    uint64_t token;
    if (r->elements != 4 || r->element[1]->type != REDIS_REPLY_STRING ||
        element(r, 2, &token) != OC_OK || r->element[3]->type != REDIS_REPLY_INTEGER)
        return OC_EPROTO;
    const redisReply *h = r->element[1];
    size_t nlen = op->argvlen[0];
    oc_lease_t *l = malloc(sizeof *l + nlen + 1 + h->len + 1);
    if (l == NULL)
        return OC_ENOMEM;
    memset(l, 0, sizeof *l);
    char *cur = (char *)(l + 1);
    l->struct_size = sizeof *l;
    memcpy(cur, op->argv[0], nlen + 1);
    l->name = cur;
    cur += nlen + 1;
    memcpy(cur, h->str, h->len);
    cur[h->len] = '\0';
    l->holder = cur;
    l->token = token;
    /* PTTL is -1 (no expiry) or -2 (gone) only in a damaged store. */
    l->expires_in_ms = r->element[3]->integer > 0 ? (uint64_t)r->element[3]->integer : 0;
    op->out.row = l;
    return OC_OK;
}

/* The results of a successful (or EEXIST / EBUSY with data) reply. */
static int32_t results(rd_op_t *op, const redisReply *r, int *more)
{
    int32_t s = op->status;
    uint64_t v;
    switch (op->kind) {
    case RD_OP_SESSION_GET:
        return s != OC_OK ? OC_OK
               : r->elements == 2 ? rd_row_session(r->element[1], &op->out.row)
                                  : OC_EPROTO;
    case RD_OP_SESSION_LIST:
        return s == OC_OK ? rows(op, r, 1, rd_row_session) : OC_OK;
    case RD_OP_TRANSCRIPT_APPEND:
        return s == OC_OK ? element(r, 1, &op->out.id) : OC_OK;
    case RD_OP_TRANSCRIPT_READ:
        if (s != OC_OK)
            return OC_OK;
        if (r->elements != 2 || r->element[1]->type != REDIS_REPLY_ARRAY)
            return OC_EPROTO;
        return rows(op, r->element[1], 0, rd_row_turn);
    case RD_OP_INBOX_PUT:
        if (s != OC_OK)
            return OC_OK;
        if (element(r, 1, &op->out.id) != OC_OK || element(r, 2, &v) != OC_OK)
            return OC_EPROTO;
        op->out.flag = v != 0;
        return OC_OK;
    case RD_OP_INBOX_PENDING:
    case RD_OP_INBOX_SESSION_PENDING:
        return s == OC_OK ? rows(op, r, 1, rd_row_inbox) : OC_OK;
    case RD_OP_OUTBOX_PENDING:
        return s == OC_OK ? rows(op, r, 1, rd_row_outbox) : OC_OK;
    case RD_OP_OUTBOX_CLAIM:
        if (s != OC_OK && s != OC_EEXIST)
            return OC_OK;
        return r->elements == 2 ? rd_row_outbox(r->element[1], &op->out.row) : OC_EPROTO;
    case RD_OP_PAIRING_REQUEST:
    case RD_OP_PAIRING_APPROVE:
        if (s != OC_OK)
            return OC_OK;
        if (r->elements != 3 || element(r, 1, &v) != OC_OK)
            return OC_EPROTO;
        op->out.flag = v != 0;
        return rd_row_pairing(r->element[2], &op->out.row);
    case RD_OP_PAIRING_LIST:
        return s == OC_OK ? rows(op, r, 1, rd_row_pairing) : OC_OK;
    case RD_OP_LEASE_ACQUIRE:
        return s == OC_OK || s == OC_EBUSY ? lease_row(op, r) : OC_OK;
    case RD_OP_PRUNE:
        if (s != OC_OK)
            return OC_OK;
        if (element(r, 1, &v) != OC_OK)
            return OC_EPROTO;
        *more = v != 0;
        return OC_OK;
    default:
        return OC_OK;
    }
}

int rd_reply_apply(rd_op_t *op, const redisReply *r)
{
    rd_op_drop_results(op);
    if (r->type == REDIS_REPLY_ERROR) {
        op->status = error_status(r->str);
        return 0;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_INTEGER) {
        op->status = OC_EPROTO;
        return 0;
    }
    op->status = script_status(r->element[0]->integer);
    if (op->status == OC_EPROTO)
        return 0;
    int more = 0;
    int32_t rc = results(op, r, &more);
    if (rc != OC_OK) {
        rd_op_drop_results(op);
        op->status = rc;
        return 0;
    }
    return more;
}
