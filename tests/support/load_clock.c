/* tests/support/load_clock.c - see load_clock.h. */
#include "load_clock.h"

#include <errno.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

uint64_t lc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    lc_timer_t *t = p->data;
    uint64_t expirations;
    (void)status;
    (void)events;
    /* Drain the expiration count, or the poll stays readable. */
    while (read(t->fd, &expirations, sizeof expirations) < 0 && errno == EINTR) {
    }
    t->cb(t);
}

int lc_timer_init(uv_loop_t *loop, lc_timer_t *t, lc_timer_cb cb)
{
    t->cb = cb;
    t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (t->fd < 0)
        return -errno;
    int rc = uv_poll_init(loop, &t->poll, t->fd);
    if (rc != 0) {
        close(t->fd);
        t->fd = -1;
        return rc;
    }
    t->poll.data = t;
    rc = uv_poll_start(&t->poll, UV_READABLE, on_poll);
    if (rc != 0)
        lc_timer_close(t); /* the fd goes with the handle */
    return rc;
}

static struct timespec ts_of(uint64_t ns)
{
    return (struct timespec){.tv_sec = (time_t)(ns / 1000000000u),
                             .tv_nsec = (long)(ns % 1000000000u)};
}

void lc_timer_arm(lc_timer_t *t, uint64_t at_ns)
{
    lc_timer_every(t, at_ns, 0);
}

void lc_timer_every(lc_timer_t *t, uint64_t first_ns, uint64_t interval_ns)
{
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (first_ns != UINT64_MAX) {
        its.it_value = ts_of(first_ns ? first_ns : 1); /* all zero would disarm */
        its.it_interval = ts_of(interval_ns);
    }
    timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void on_closed(uv_handle_t *h)
{
    lc_timer_t *t = h->data;
    close(t->fd);
    t->fd = -1;
}

void lc_timer_close(lc_timer_t *t)
{
    if (t->fd < 0 || uv_is_closing((uv_handle_t *)&t->poll))
        return;
    uv_poll_stop(&t->poll);
    uv_close((uv_handle_t *)&t->poll, on_closed);
}
