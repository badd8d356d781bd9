/* tests/support/load_clock.h - time for the load generators (webhook-load,
 * oc-llm-load): a monotonic nanosecond clock and a timer with nanosecond
 * precision on a libuv loop (libuv's own timers have milliseconds, too
 * coarse for a schedule of 20k requests per second).
 *
 * Threads: everything runs on the thread of the loop the timer was made on. */
#ifndef LOAD_CLOCK_H
#define LOAD_CLOCK_H

#include <stdint.h>
#include <uv.h>

/* CLOCK_MONOTONIC in nanoseconds (the clock webhook-sink stamps with). */
uint64_t lc_now_ns(void);

typedef struct lc_timer_s lc_timer_t;
typedef void (*lc_timer_cb)(lc_timer_t *t);

/* A timerfd polled by the loop. Embed it; it must stay in place until the
 * close callback of lc_timer_close has run (uv_run returned). */
struct lc_timer_s {
    uv_poll_t poll;
    int fd;
    lc_timer_cb cb;
    void *data; /* the owner's */
};

/* 0, or a negative errno (no timerfd). */
int lc_timer_init(uv_loop_t *loop, lc_timer_t *t, lc_timer_cb cb);
/* Fires cb once at CLOCK_MONOTONIC time at_ns (at once when it is past);
 * UINT64_MAX disarms. Re-arming replaces the previous time. */
void lc_timer_arm(lc_timer_t *t, uint64_t at_ns);
/* Fires cb at first_ns and then every interval_ns until re-armed or
 * disarmed, with no system call per period (re-arming one costs a few µs
 * on a VM: too much at 20k times a second). A late loop gets one call for
 * several periods. */
void lc_timer_every(lc_timer_t *t, uint64_t first_ns, uint64_t interval_ns);
/* Stops and closes the handle; the fd is closed in its close callback. */
void lc_timer_close(lc_timer_t *t);

#endif
