/* rows.c - storage-redis: script replies turned into the ABI's row structs
 * (T). Each row is one malloc block: the struct, then its strings; H frees
 * it after the callback. The element order of each row is the one its Lua
 * helper returns (lua.h). */
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "rd.h"

int rd_reply_u64(const redisReply *r, uint64_t *out)
{
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_INTEGER) {
        if (r->integer < 0)
            return -1;
        *out = (uint64_t)r->integer;
        return 0;
    }
    if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < r->len; i++) {
        char c = r->str[i];
        if (c < '0' || c > '9' || v > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(c - '0');
    }
    *out = v;
    return 0;
}

static int is_str(const redisReply *e)
{
    return e != NULL && e->type == REDIS_REPLY_STRING;
}

/* A string element, or nil for an optional one. */
static int str_or_nil(const redisReply *e)
{
    return e != NULL && (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_NIL);
}

static size_t size_of(const redisReply *e)
{
    return is_str(e) ? e->len + 1 : 0;
}

static const char *copy(char **cur, const redisReply *e)
{
    if (!is_str(e))
        return NULL;
    char *d = *cur;
    memcpy(d, e->str, e->len);
    d[e->len] = '\0';
    *cur += e->len + 1;
    return d;
}

/* An array of n elements whose element i is a string when req[i] is 's',
 * a string or nil when '?', a number when 'n'. */
static int shape(const redisReply *r, const char *req)
{
    size_t n = strlen(req);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = r->element[i];
        uint64_t v;
        if ((req[i] == 's' && !is_str(e)) || (req[i] == '?' && !str_or_nil(e)) ||
            (req[i] == 'n' && rd_reply_u64(e, &v) != 0))
            return 0;
    }
    return 1;
}

static uint64_t num(const redisReply *e)
{
    uint64_t v = 0;
    (void)rd_reply_u64(e, &v); /* shape() checked it */
    return v;
}

/* {key, agent, channel?, meta?, created, updated, turns} */
int32_t rd_row_session(const redisReply *r, void **out)
{
    if (!shape(r, "ss??nnn"))
        return OC_EPROTO;
    redisReply **e = r->element;
    oc_session_t *s =
        malloc(sizeof *s + size_of(e[0]) + size_of(e[1]) + size_of(e[2]) + size_of(e[3]));
    if (s == NULL)
        return OC_ENOMEM;
    char *cur = (char *)(s + 1);
    memset(s, 0, sizeof *s);
    s->struct_size = sizeof *s;
    s->key = copy(&cur, e[0]);
    s->agent_id = copy(&cur, e[1]);
    s->channel = copy(&cur, e[2]);
    s->meta_json = copy(&cur, e[3]);
    s->created_ms = num(e[4]);
    s->updated_ms = num(e[5]);
    s->turn_count = num(e[6]);
    *out = s;
    return OC_OK;
}

/* Reads decimal digits up to `sep`; advances *p past it. */
static int field_u64(const char **p, const char *end, char sep, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    if (s >= end || *s == sep)
        return -1;
    while (s < end && *s != sep) {
        if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10)
            return -1;
        x = x * 10 + (uint64_t)(*s - '0');
        s++;
    }
    if (s >= end)
        return -1;
    *p = s + 1;
    *v = x;
    return 0;
}

/* A stored turn: "seq,role,created,<n>,<meta arg of n bytes><content>",
 * the meta argument being "-" (NULL) or "=" and the JSON. */
int32_t rd_row_turn(const redisReply *r, void **out)
{
    if (!is_str(r))
        return OC_EPROTO;
    const char *p = r->str, *end = r->str + r->len;
    uint64_t seq, created, mlen;
    if (field_u64(&p, end, ',', &seq) != 0)
        return OC_EPROTO;
    const char *comma = memchr(p, ',', (size_t)(end - p));
    if (comma == NULL)
        return OC_EPROTO;
    char role_buf[16];
    size_t rlen = (size_t)(comma - p);
    if (rlen >= sizeof role_buf)
        return OC_EPROTO;
    memcpy(role_buf, p, rlen);
    role_buf[rlen] = '\0';
    const char *role = rd_role_static(role_buf);
    p = comma + 1;
    if (role == NULL || field_u64(&p, end, ',', &created) != 0 ||
        field_u64(&p, end, ',', &mlen) != 0 || mlen == 0 || mlen > (uint64_t)(end - p))
        return OC_EPROTO;
    const char *meta = p;
    int has_meta = meta[0] == '=';
    if (!has_meta && !(meta[0] == '-' && mlen == 1))
        return OC_EPROTO;
    size_t meta_n = has_meta ? (size_t)mlen - 1 : 0;
    const char *content = p + mlen;
    size_t content_n = (size_t)(end - content);
    oc_turn_t *t = malloc(sizeof *t + (has_meta ? meta_n + 1 : 0) + content_n + 1);
    if (t == NULL)
        return OC_ENOMEM;
    memset(t, 0, sizeof *t);
    char *cur = (char *)(t + 1);
    t->struct_size = sizeof *t;
    t->seq = seq;
    t->role = role;
    t->created_ms = created;
    if (has_meta) {
        memcpy(cur, meta + 1, meta_n);
        cur[meta_n] = '\0';
        t->meta_json = cur;
        cur += meta_n + 1;
    }
    memcpy(cur, content, content_n);
    cur[content_n] = '\0';
    t->content = cur;
    *out = t;
    return OC_OK;
}

/* {id, channel, account, message_id, envelope, received, state, session?} */
int32_t rd_row_inbox(const redisReply *r, void **out)
{
    if (!shape(r, "nssssnn?"))
        return OC_EPROTO;
    redisReply **e = r->element;
    oc_inbox_item_t *it = malloc(sizeof *it + size_of(e[1]) + size_of(e[2]) + size_of(e[3]) +
                                 size_of(e[4]) + size_of(e[7]));
    if (it == NULL)
        return OC_ENOMEM;
    char *cur = (char *)(it + 1);
    memset(it, 0, sizeof *it);
    it->struct_size = sizeof *it;
    it->id = num(e[0]);
    it->channel = copy(&cur, e[1]);
    it->account = copy(&cur, e[2]);
    it->message_id = copy(&cur, e[3]);
    it->envelope_json = copy(&cur, e[4]);
    it->received_ms = num(e[5]);
    it->state = (uint32_t)num(e[6]);
    it->session_key = copy(&cur, e[7]);
    *out = it;
    return OC_OK;
}

/* {id, key, channel, account, peer_kind, attempts, peer, text, reply?,
 *  error?, created, next, state} */
int32_t rd_row_outbox(const redisReply *r, void **out)
{
    if (!shape(r, "nsssnnss??nnn"))
        return OC_EPROTO;
    redisReply **e = r->element;
    oc_outbox_item_t *o =
        malloc(sizeof *o + size_of(e[1]) + size_of(e[2]) + size_of(e[3]) + size_of(e[6]) +
               size_of(e[7]) + size_of(e[8]) + size_of(e[9]));
    if (o == NULL)
        return OC_ENOMEM;
    char *cur = (char *)(o + 1);
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->id = num(e[0]);
    o->idempotency_key = copy(&cur, e[1]);
    o->channel = copy(&cur, e[2]);
    o->account = copy(&cur, e[3]);
    o->peer_kind = (uint32_t)num(e[4]);
    o->attempts = (uint32_t)num(e[5]);
    o->peer_id = copy(&cur, e[6]);
    o->text = copy(&cur, e[7]);
    o->in_reply_to = copy(&cur, e[8]);
    o->last_error = copy(&cur, e[9]);
    o->created_ms = num(e[10]);
    o->next_attempt_ms = num(e[11]);
    o->state = (uint32_t)num(e[12]);
    *out = o;
    return OC_OK;
}

/* {channel, account, sender, code, meta?, created, last_seen, expires} */
int32_t rd_row_pairing(const redisReply *r, void **out)
{
    if (!shape(r, "ssss?nnn"))
        return OC_EPROTO;
    redisReply **e = r->element;
    oc_pairing_t *p = malloc(sizeof *p + size_of(e[0]) + size_of(e[1]) + size_of(e[2]) +
                             size_of(e[3]) + size_of(e[4]));
    if (p == NULL)
        return OC_ENOMEM;
    char *cur = (char *)(p + 1);
    memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->channel = copy(&cur, e[0]);
    p->account = copy(&cur, e[1]);
    p->sender_id = copy(&cur, e[2]);
    p->code = copy(&cur, e[3]);
    p->meta_json = copy(&cur, e[4]);
    p->created_ms = num(e[5]);
    p->last_seen_ms = num(e[6]);
    p->expires_ms = num(e[7]);
    *out = p;
    return OC_OK;
}
