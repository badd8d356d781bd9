/* startup.c - storage-postgres: start's wait for its first connection.
 *
 * The plugin ABI's start is synchronous and a gateway must not come up
 * without its storage: so start waits until connection 0 is connected, the
 * schema migrated and the statements prepared, and fails (the gateway exits
 * 1) on a permanent error or when startupRetrySeconds pass without a
 * connection. Nothing else runs on the home loop yet: storage starts before
 * the server listens and before any channel polls.
 *
 * The wait runs the same non-blocking state machine as ever (conn.c,
 * conn_connect.c, conn_setup.c): only its two event sources change. The
 * connection's socket is polled here with poll(2) for what the machine
 * asked (c->fd, c->events), and its one timer (the attempt deadline or the
 * backoff) fires here at c->sync_due_ms. Once connection 0 is ready, its
 * socket goes to the host loop (io_start) and every later event comes from
 * there. Home loop only, inside start. */
#include <errno.h>
#include <poll.h>

#include "pg.h"

/* The wait is over: ready, refused for good, or out of time. */
static int settled(const pg_state_t *st, const pg_conn_t *c)
{
    return c->state == PG_CONN_READY || st->phase == PG_PHASE_FAILED ||
           st->start_window_over || c->state == PG_CONN_CLOSED;
}

/* Milliseconds until the connection's timer, -1 when none is armed. */
static int timer_wait(const pg_conn_t *c)
{
    if (!pg_conn_timer_armed(c))
        return -1;
    uint64_t now = pg_mono_ms();
    return c->sync_due_ms > now ? (int)(c->sync_due_ms - now) : 0;
}

static void fire_timer_if_due(pg_conn_t *c)
{
    if (!pg_conn_timer_armed(c) || pg_mono_ms() < c->sync_due_ms)
        return;
    void (*cb)(void *) = c->sync_cb;
    pg_conn_timer_stop(c);
    cb(c);
}

int32_t pg_startup_run(pg_state_t *st)
{
    pg_conn_t *c = &st->conns[0];
    st->sync = 1;
    pg_conn_connect(c);
    while (!settled(st, c)) {
        int wait = timer_wait(c);
        if (c->fd >= 0 && c->events != 0) {
            struct pollfd p = {.fd = c->fd,
                               .events = (short)(((c->events & OC_IO_READ) ? POLLIN : 0) |
                                                 ((c->events & OC_IO_WRITE) ? POLLOUT : 0))};
            int n = poll(&p, 1, wait);
            if (n < 0 && errno != EINTR) {
                pg_conn_fail(c, 1, OC_EUNAVAIL, "poll failed while connecting");
                continue;
            }
            if (n > 0) {
                /* Errors and hang-ups: let libpq's own read or write say why. */
                uint32_t ev = (p.revents & (POLLIN | POLLERR | POLLHUP) ? OC_IO_READ : 0) |
                              (p.revents & (POLLOUT | POLLERR | POLLHUP) ? OC_IO_WRITE : 0);
                pg_conn_on_io(c, ev & c->events);
            }
        } else if (wait >= 0) {
            (void)poll(NULL, 0, wait); /* only a timer to wait for (a backoff) */
        } else {
            /* Neither a socket nor a timer: the machine cannot progress. */
            pg_conn_fail(c, 0, OC_EUNAVAIL, "internal error: the connection stalled at start");
            break;
        }
        fire_timer_if_due(c);
    }
    st->sync = 0;
    if (c->state == PG_CONN_READY) {
        /* From now on the host loop watches the socket. */
        int fd = c->fd;
        uint32_t events = c->events != 0 ? c->events : OC_IO_READ;
        c->fd = -1;
        pg_conn_watch(c, fd, events, 1);
        if (c->state == PG_CONN_READY)
            return OC_OK;
    }
    for (uint32_t i = 0; i < st->cfg.pool_size; i++)
        pg_conn_close(&st->conns[i]);
    st->phase = PG_PHASE_STOPPED;
    return OC_EUNAVAIL;
}
