/* loop/loop.h - one gateway event loop: a uv loop plus what the host API
 * needs on it (the cross-thread post queue, the HTTP client).
 *
 * The gateway runs a main loop (plugins' home, messaging, admin) and N worker
 * loops (the HTTP data plane). Host API calls act on the loop of the calling
 * thread, found through gw_loop_current(). */
#ifndef GW_LOOP_LOOP_H
#define GW_LOOP_LOOP_H

#include <pthread.h>
#include <stdint.h>
#include <uv.h>

typedef struct gw_httpc_s gw_httpc_t;
typedef void (*gw_post_cb)(void *data);

typedef struct gw_post_s {
    struct gw_post_s *next;
    gw_post_cb cb;
    void *data;
} gw_post_t;

typedef struct gw_loop_s {
    uv_loop_t *uv;       /* borrowed; outlives the gw_loop_t */
    int id;              /* 0 = main loop, 1..N = workers */
    uv_async_t async;    /* wakes the loop for posts */
    pthread_mutex_t lock;
    gw_post_t *head, *tail; /* guarded by lock */
    int closing;            /* guarded by lock: posts are refused */
    gw_httpc_t *httpc;      /* created on first use, on this loop's thread */
} gw_loop_t;

/* Loop thread only. Sets up the post queue on `uv`. 0 or negative errno. */
int gw_loop_init(gw_loop_t *l, uv_loop_t *uv, int id);
/* Thread-safe. Runs cb(data) on l's thread soon. -ECANCELED once closing. */
int gw_loop_post(gw_loop_t *l, gw_post_cb cb, void *data);
/* Loop thread only. Refuses new posts, runs the queued ones, closes the
 * handles (and the HTTP client); the caller then runs the uv loop until it
 * has no more handles. */
void gw_loop_close(gw_loop_t *l);

/* The loop bound to the calling thread (NULL on other threads). */
gw_loop_t *gw_loop_current(void);
void gw_loop_set_current(gw_loop_t *l);

/* The loop's HTTP client, created on first use. Loop thread only. */
gw_httpc_t *gw_loop_httpc(gw_loop_t *l);

/* Monotonic ms. Thread-safe. */
uint64_t gw_now_ms(void);
/* Wall clock ms since the epoch. Thread-safe. */
uint64_t gw_wall_ms(void);

#endif
