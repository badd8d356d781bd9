/* adapter.c - storage-redis: hiredis's event hooks over one uv_poll (T).
 *
 * Written here instead of using hiredis 0.14's adapters/libuv.h, which
 * returns from its poll callback when libuv reports an error: a refused or
 * reset connection (POLLERR) then never reaches hiredis, whose connect
 * callback never runs, and the attempt hangs. Here an error status hands
 * hiredis the events it waits for, so its own read or write finds the
 * socket error and reports it. That adapter also leaks its struct when
 * uv_poll_init fails; this one frees the context instead.
 *
 * Lifetime: hiredis calls the cleanup hook once, when it frees the
 * context (after failing the pending callbacks). The hook closes the poll
 * handle; the close callback frees the conn. conn_gone (conn.c) learns of
 * it from the hook. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "io_int.h"

void conn_set_error(rd_conn_t *c, int permanent, const char *fmt, ...)
{
    if (c->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    c->failed = 1;
    c->permanent = permanent;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    rd_conn_t *c = h->data;
    int ev = status < 0 ? c->events : events;
    if (c->ac != NULL && (ev & UV_READABLE))
        redisAsyncHandleRead(c->ac);
    if (c->ac != NULL && (ev & UV_WRITABLE))
        redisAsyncHandleWrite(c->ac);
    /* libuv stopped the handle with the error; hiredis is still waiting. */
    if (status < 0 && c->ac != NULL && c->events != 0)
        uv_poll_start(&c->poll, c->events, on_poll);
}

static void watch(rd_conn_t *c)
{
    if (c->events != 0)
        uv_poll_start(&c->poll, c->events, on_poll);
    else
        uv_poll_stop(&c->poll);
}

static void add_read(void *data)
{
    rd_conn_t *c = data;
    c->events |= UV_READABLE;
    watch(c);
}

static void del_read(void *data)
{
    rd_conn_t *c = data;
    c->events &= ~UV_READABLE;
    watch(c);
}

static void add_write(void *data)
{
    rd_conn_t *c = data;
    c->events |= UV_WRITABLE;
    watch(c);
}

static void del_write(void *data)
{
    rd_conn_t *c = data;
    c->events &= ~UV_WRITABLE;
    watch(c);
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

static void cleanup(void *data)
{
    rd_conn_t *c = data;
    redisAsyncContext *ac = c->ac;
    if (ac != NULL && ac->c.err != 0)
        conn_set_error(c, 0, "%s", ac->c.errstr);
    c->ac = NULL;
    c->events = 0;
    uv_close((uv_handle_t *)&c->poll, on_closed);
    conn_gone(c->io, c);
}

rd_conn_t *adapter_attach(rd_io_t *io, redisAsyncContext *ac)
{
    rd_conn_t *c = calloc(1, sizeof *c);
    if (c == NULL || uv_poll_init(&io->loop, &c->poll, ac->c.fd) != 0) {
        free(c);
        redisAsyncFree(ac); /* no hooks yet: nothing else runs */
        return NULL;
    }
    c->poll.data = c;
    c->ac = ac;
    c->io = io;
    ac->data = c;
    ac->ev.data = c;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    return c;
}

rd_conn_t *adapter_conn(const redisAsyncContext *ac)
{
    return ac->data;
}
