#include "loop/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "httpc/httpc.h"

static __thread gw_loop_t *current_loop;

gw_loop_t *gw_loop_current(void)
{
    return current_loop;
}

void gw_loop_set_current(gw_loop_t *l)
{
    current_loop = l;
}

static void run_posts(gw_loop_t *l)
{
    pthread_mutex_lock(&l->lock);
    gw_post_t *p = l->head;
    l->head = l->tail = NULL;
    pthread_mutex_unlock(&l->lock);
    while (p) {
        gw_post_t *next = p->next;
        p->cb(p->data);
        free(p);
        p = next;
    }
}

static void on_async(uv_async_t *a)
{
    run_posts(a->data);
}

int gw_loop_init(gw_loop_t *l, uv_loop_t *uv, int id)
{
    l->uv = uv;
    l->id = id;
    l->head = l->tail = NULL;
    l->closing = 0;
    l->httpc = NULL;
    int rc = pthread_mutex_init(&l->lock, NULL);
    if (rc != 0)
        return -rc;
    rc = uv_async_init(uv, &l->async, on_async);
    if (rc != 0) {
        pthread_mutex_destroy(&l->lock);
        return rc;
    }
    l->async.data = l;
    return 0;
}

int gw_loop_post(gw_loop_t *l, gw_post_cb cb, void *data)
{
    gw_post_t *p = malloc(sizeof(*p));
    if (p == NULL)
        return -ENOMEM;
    p->next = NULL;
    p->cb = cb;
    p->data = data;
    pthread_mutex_lock(&l->lock);
    if (l->closing) {
        pthread_mutex_unlock(&l->lock);
        free(p);
        return -ECANCELED;
    }
    if (l->tail)
        l->tail->next = p;
    else
        l->head = p;
    l->tail = p;
    /* Sent under the lock so gw_loop_close cannot close the handle between
     * the enqueue and the wake-up. */
    uv_async_send(&l->async);
    pthread_mutex_unlock(&l->lock);
    return 0;
}

/* The mutex is not destroyed here: a thread may still post (and be refused)
 * as long as the gw_loop_t memory lives, which its owner guarantees. */
static void on_async_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_httpc_closed(void *data)
{
    (void)data;
}

void gw_loop_close(gw_loop_t *l)
{
    pthread_mutex_lock(&l->lock);
    l->closing = 1;
    pthread_mutex_unlock(&l->lock);
    run_posts(l);
    if (l->httpc) {
        gw_httpc_close(l->httpc, on_httpc_closed, NULL);
        l->httpc = NULL;
    }
    uv_close((uv_handle_t *)&l->async, on_async_closed);
}

gw_httpc_t *gw_loop_httpc(gw_loop_t *l)
{
    if (l->httpc == NULL && !l->closing)
        l->httpc = gw_httpc_new(l->uv);
    return l->httpc;
}

uint64_t gw_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t gw_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
