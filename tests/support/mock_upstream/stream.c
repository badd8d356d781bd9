/* mock_upstream/stream.c - the schedule of an SSE stream. Piece i is due at
 * t0 + i * interval (deadline scheduling: a late tick does not push the
 * rest back); the preamble goes right before piece 0 and the tail right
 * after the last piece. Every event is its own write, never coalesced with
 * the next. The connection's one timer drives it, so a stream costs one
 * reply_t and no extra handle. Worker thread only. */
#include <stdlib.h>

#include "mock.h"

void reply_clear(reply_t *st)
{
    free(st->model);
    free(st->tool_name);
    st->model = st->tool_name = NULL;
    text_free(&st->text);
    gw_buf_free(&st->event_head);
}

void reply_free(reply_t *st)
{
    reply_clear(st);
    free(st);
}

/* Writes one event; 0, or -1 when the connection is closing (st is gone). */
static int emit(conn_t *c, int ev, uint32_t i)
{
    reply_t *st = c->stream;
    gw_buf_t *b = &c->w->scratch;
    gw_buf_reset(b);
    if (st->dialect == D_ANTHROPIC)
        anthropic_event(st, ev, i, b);
    else
        openai_event(st, ev, i, b);
    send_event(c, b->data, b->len);
    return c->closing ? -1 : 0;
}

static void finish(conn_t *c)
{
    send_last_chunk(c);
    if (c->closing)
        return;
    reply_free(c->stream);
    c->stream = NULL;
    gauges_stream_close(&c->w->m->gauges);
    conn_resume(c);
}

static void run(conn_t *c);

static void on_tick(uv_timer_t *t)
{
    run(t->data);
}

static void run(conn_t *c)
{
    reply_t *st = c->stream;
    uint32_t npre, ntail;
    if (st->dialect == D_ANTHROPIC)
        anthropic_event_counts(st, &npre, &ntail);
    else
        openai_event_counts(st, &npre, &ntail);
    uint64_t now = uv_now(&c->w->loop);
    for (;;) {
        uint64_t due = st->t0 + (uint64_t)st->next * st->interval_ms;
        if (due > now) {
            uv_timer_start(&c->timer, on_tick, due - now, 0);
            return;
        }
        for (uint32_t i = 0; st->next == 0 && i < npre; i++)
            if (emit(c, EV_PRE, i) != 0)
                return;
        if (st->error_at == (int64_t)st->next) {
            if (emit(c, EV_ERROR, 0) == 0)
                finish(c);
            return;
        }
        if (emit(c, EV_PIECE, st->next) != 0)
            return;
        if (++st->next < st->pieces)
            continue;
        if (st->error_at == (int64_t)st->pieces) {
            if (emit(c, EV_ERROR, 0) == 0)
                finish(c);
            return;
        }
        for (uint32_t i = 0; i < ntail; i++)
            if (emit(c, EV_TAIL, i) != 0)
                return;
        finish(c);
        return;
    }
}

void stream_start(conn_t *c)
{
    /* Always from the timer, never from inside the read callback: a stream
     * that ends at once resumes the connection, which must not happen
     * before the caller has kept the pipelined bytes behind it. */
    uint64_t now = uv_now(&c->w->loop), t0 = c->stream->t0;
    uv_timer_start(&c->timer, on_tick, t0 > now ? t0 - now : 0, 0);
}
