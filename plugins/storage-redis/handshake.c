/* handshake.c - storage-redis: what a new connection sends before any op
 * (T), pipelined at once: AUTH (when the URL has a password), SELECT,
 * CLIENT SETNAME, the key layout check and migration (schema.c), and a
 * SCRIPT LOAD of every op's script. The connection is ready when the last
 * reply is in and none failed. Also: the keep-alive PING, and loading the
 * scripts again when the server lost them (NOSCRIPT). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_int.h"

static rd_op_t *internal(rd_op_kind_t kind, int hs, int script)
{
    rd_op_t *op = calloc(1, sizeof *op);
    if (op != NULL) {
        op->kind = kind;
        op->hs = hs;
        op->script = script;
        op->status = OC_EINTERNAL;
    }
    return op;
}

/* 0, or -1 (the op is freed) when hiredis refuses the command. */
static int command(rd_conn_t *c, rd_op_t *op, int argc, const char **argv, const size_t *lens)
{
    if (op == NULL)
        return -1;
    if (redisAsyncCommandArgv(c->ac, io_on_reply, op, argc, argv, lens) != REDIS_OK) {
        free(op);
        return -1;
    }
    if (op->hs)
        c->hs_pending++;
    return 0;
}

static int load(rd_conn_t *c, int i, int hs)
{
    const char *argv[] = {"SCRIPT", "LOAD", rd_scripts[i]};
    const size_t lens[] = {6, 4, strlen(rd_scripts[i])};
    return command(c, internal(RD_OP_LOAD, hs, i), 3, argv, lens);
}

int hs_begin(rd_io_t *io, rd_conn_t *c)
{
    const rd_url_t *u = &io->st->cfg.url;
    if (u->password != NULL) {
        const char *argv[3] = {"AUTH"};
        size_t lens[3] = {4};
        int n = 1;
        if (u->user != NULL) {
            argv[n] = u->user;
            lens[n++] = strlen(u->user);
        }
        argv[n] = u->password;
        lens[n++] = strlen(u->password);
        if (command(c, internal(RD_OP_AUTH, 1, 0), n, argv, lens) != 0)
            return -1;
    }
    char db[8], name[40];
    snprintf(db, sizeof db, "%d", u->db);
    snprintf(name, sizeof name, "openclaw-%ld", (long)getpid());
    const char *sel[] = {"SELECT", db};
    const size_t sel_lens[] = {6, strlen(db)};
    const char *setname[] = {"CLIENT", "SETNAME", name};
    const size_t setname_lens[] = {6, 7, strlen(name)};
    char latest[8];
    snprintf(latest, sizeof latest, "%d", RD_LAYOUT_LATEST);
    const char *layout[] = {"EVAL", rd_layout_script, "0", io->st->cfg.prefix, latest};
    const size_t layout_lens[] = {4, strlen(rd_layout_script), 1, strlen(io->st->cfg.prefix),
                                  strlen(latest)};
    if (command(c, internal(RD_OP_SELECT, 1, 0), 2, sel, sel_lens) != 0 ||
        command(c, internal(RD_OP_SETNAME, 1, 0), 3, setname, setname_lens) != 0 ||
        command(c, internal(RD_OP_LAYOUT, 1, 0), 5, layout, layout_lens) != 0)
        return -1;
    for (int i = 0; i < RD_OP__USER; i++)
        if (load(c, i, 1) != 0)
            return -1;
    return 0;
}

/* Redis 7 reports a script touching keys outside the user's ACL as an ERR
 * with this text, not as NOPERM. */
#define KEYS_DENIED "can't access at least one of the keys"

int hs_permanent(const char *err)
{
    static const char *const prefixes[] = {
        "WRONGPASS", "NOAUTH", "NOPERM", "ERR invalid password", "ERR DB index",
        "ERR AUTH", "ERR Client sent AUTH", "ERR wrong number of arguments for 'auth'",
        "ERR unknown command",
    };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(err, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return strstr(err, KEYS_DENIED) != NULL || strstr(err, "NOPERM") != NULL;
}

/* A refused handshake command, explained. */
static void refused(rd_io_t *io, rd_conn_t *c, const rd_op_t *op, const char *err)
{
    const rd_config_t *cfg = &io->st->cfg;
    int permanent = hs_permanent(err);
    if (op->kind == RD_OP_AUTH || strncmp(err, "WRONGPASS", 9) == 0)
        conn_set_error(c, permanent,
                       "authentication failed: the server says \"%s\" (check the user name and "
                       "password in storage.url)",
                       err);
    else if (strncmp(err, "NOAUTH", 6) == 0)
        conn_set_error(c, permanent,
                       "the server requires a password (\"%s\"): put it in storage.url as "
                       "redis://:PASSWORD@host:port/db or redis://USER:PASSWORD@host:port/db",
                       err);
    else if (op->kind == RD_OP_SELECT)
        conn_set_error(c, permanent,
                       "database %d does not exist on the server (\"%s\"); use an index below "
                       "the server's \"databases\" setting",
                       cfg->url.db, err);
    else if (strstr(err, "NOPERM") != NULL || strstr(err, KEYS_DENIED) != NULL)
        conn_set_error(c, permanent,
                       "the user may not use the keys under keyPrefix \"%s\" (\"%s\"): allow "
                       "~%s* in its ACL, or change keyPrefix",
                       cfg->prefix, err, cfg->prefix);
    else
        conn_set_error(c, permanent, "%s failed: %s", rd_op_name(op->kind), err);
}

/* The layout script's {from, latest}, or why the prefix is refused. */
static void layout(rd_io_t *io, rd_conn_t *c, const redisReply *r)
{
    const char *p = io->st->cfg.prefix;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER) {
        conn_set_error(c, 1, "the key layout check gave an unexpected reply");
        return;
    }
    long long code = r->element[0]->integer;
    const redisReply *v = r->element[1];
    if (code >= 0) {
        io->layout_from = (int)code;
    } else if (code == -1) {
        conn_set_error(c, 1,
                       "keys exist under keyPrefix \"%s\" but %sversion does not: they are "
                       "another application's or a damaged store; use another keyPrefix",
                       p, p);
    } else if (code == -2) {
        conn_set_error(c, 1, "%sversion holds \"%.*s\", not a key layout version", p,
                       v->type == REDIS_REPLY_STRING ? (int)(v->len > 32 ? 32 : v->len) : 0,
                       v->type == REDIS_REPLY_STRING ? v->str : "");
    } else {
        conn_set_error(c, 1,
                       "the key layout under keyPrefix \"%s\" is version %lld, newer than this "
                       RD_NAME " understands (%d); upgrade the gateway",
                       p, v->type == REDIS_REPLY_INTEGER ? v->integer : -1LL, RD_LAYOUT_LATEST);
    }
}

void hs_reply(rd_io_t *io, rd_conn_t *c, rd_op_t *op, const redisReply *r)
{
    if (op->hs)
        c->hs_pending--;
    if (op->kind == RD_OP_LOAD && !op->hs && io->reloading > 0)
        io->reloading--;
    if (r == NULL || op->kind == RD_OP_PING) { /* gone, or alive: either is all we need */
        free(op);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        if (op->kind == RD_OP_SETNAME) {
            io->st->host->log(io->st->self, OC_LOG_DEBUG, "CLIENT SETNAME refused: %s", r->str);
        } else if (op->hs && !c->failed) {
            refused(io, c, op, r->str);
            redisAsyncFree(c->ac); /* in a callback: hiredis frees after it returns */
        } else if (!op->hs) {
            io->st->host->log(io->st->self, OC_LOG_WARN, "SCRIPT LOAD refused: %s", r->str);
        }
        free(op);
        return;
    }
    if (op->kind == RD_OP_LAYOUT) {
        layout(io, c, r);
        if (c->failed)
            redisAsyncFree(c->ac);
    } else if (op->kind == RD_OP_LOAD && r->type == REDIS_REPLY_STRING && r->len == 40) {
        memcpy(io->sha[op->script], r->str, 40);
        io->sha[op->script][40] = '\0';
    }
    int hs = op->hs;
    free(op);
    if (hs && c->hs_pending == 0 && !c->failed && c->ac != NULL)
        conn_ready(io);
}

void hs_ping(rd_io_t *io)
{
    rd_conn_t *c = io->conn;
    if (io->phase != IO_READY || c == NULL || c->ac == NULL || io->fly_head != NULL)
        return;
    rd_op_t *op = internal(RD_OP_PING, 0, 0);
    const char *argv[] = {"PING"};
    const size_t lens[] = {4};
    if (op == NULL)
        return;
    op->deadline_ms = rd_mono_ms() + io->st->cfg.timeout_ms;
    if (command(c, op, 1, argv, lens) == 0)
        io_track(io, op);
}

void hs_reload(rd_io_t *io)
{
    rd_conn_t *c = io->conn;
    if (io->reloading > 0 || c == NULL || c->ac == NULL)
        return;
    io->st->host->log(io->st->self, OC_LOG_WARN,
                      "the server lost the scripts (NOSCRIPT: SCRIPT FLUSH or a restart "
                      "without persistence); running them with EVAL and loading them again");
    for (int i = 0; i < RD_OP__USER; i++)
        if (load(c, i, 0) == 0)
            io->reloading++;
}
