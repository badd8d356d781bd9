/* llm/hop.c - see hop.h. */
#include "llm/hop.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "plugin/plugins.h"

#define HOME_IDLE 0   /* chat not called yet */
#define HOME_CALLING 1 /* the provider's call is in flight */
#define HOME_OVER 2   /* ended, refused or canceled: the home reference is gone */

struct gw_llm_hop_s {
    atomic_int refs;
    atomic_int canceled;     /* set by the worker; read by both sides */
    gw_loop_t *home, *worker;
    oc_plugin_t *plugin;
    oc_chat_request_t req;   /* body points to `body` */
    char *body;              /* owned copy: the caller's may be gone before chat runs */
    gw_llm_hop_cbs_t cbs;    /* worker side */
    void *data;
    /* home side only */
    oc_provider_call_t *call;
    int home_state;
};

typedef struct hop_ev_s {
    gw_llm_hop_t *h;
    int done;                /* 0: a chunk in text; 1: the result */
    char *text;              /* chunk, or the result's body (owned) */
    size_t len;
    char *error;             /* owned */
    oc_chat_result_t res;
} hop_ev_t;

static void unref(gw_llm_hop_t *h)
{
    if (atomic_fetch_sub(&h->refs, 1) == 1) {
        free(h->body);
        free(h);
    }
}

/* Home loop: the home reference goes (once). */
static void home_over(gw_llm_hop_t *h)
{
    if (h->home_state == HOME_OVER)
        return;
    h->home_state = HOME_OVER;
    h->call = NULL;
    unref(h);
}

static void on_worker_event(void *data);

/* Home loop: sends an event to the worker (it holds a reference). */
static void post_event(gw_llm_hop_t *h, hop_ev_t *ev)
{
    ev->h = h;
    atomic_fetch_add(&h->refs, 1);
    if (gw_loop_post(h->worker, on_worker_event, ev) != 0) {
        /* The worker loop is closing: its request is gone with it. */
        free(ev->text);
        free(ev->error);
        free(ev);
        unref(h);
    }
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void post_result(gw_llm_hop_t *h, const oc_chat_result_t *res)
{
    hop_ev_t *ev = calloc(1, sizeof(*ev));
    if (ev == NULL)
        return; /* out of memory: the worker's request waits for its own timeout */
    ev->done = 1;
    ev->res = *res;
    ev->res.struct_size = sizeof(ev->res);
    ev->error = res->error ? strdup(res->error) : NULL;
    ev->res.error = ev->error;
    if (res->body_json && res->body_len) {
        ev->text = dup_n(res->body_json, res->body_len);
        ev->len = ev->text ? res->body_len : 0;
    }
    ev->res.body_json = ev->text;
    ev->res.body_len = ev->len;
    post_event(h, ev);
}

/* ---- home loop: the provider's callbacks ---- */

static int32_t home_on_chunk(void *data, const char *json, size_t len)
{
    gw_llm_hop_t *h = data;
    if (atomic_load(&h->canceled))
        return OC_ECANCELED;
    hop_ev_t *ev = calloc(1, sizeof(*ev));
    if (ev == NULL || (ev->text = dup_n(json, len)) == NULL) {
        free(ev);
        return OC_ECANCELED; /* a chunk lost is a broken stream: end it */
    }
    ev->len = len;
    post_event(h, ev);
    return OC_OK;
}

static void home_on_done(void *data, const oc_chat_result_t *res)
{
    gw_llm_hop_t *h = data;
    post_result(h, res);
    home_over(h);
}

static void refuse(gw_llm_hop_t *h, int32_t rc, const char *why)
{
    oc_chat_result_t res = {
        .struct_size = sizeof(res),
        .status = rc,
        .error_class = rc == OC_EINVAL ? OC_PROV_ERR_REQUEST : OC_PROV_ERR_SERVER,
        .error = why,
        .prompt_tokens = -1,
        .completion_tokens = -1,
    };
    post_result(h, &res);
    home_over(h);
}

static void on_home_start(void *data)
{
    gw_llm_hop_t *h = data;
    if (atomic_load(&h->canceled)) {
        home_over(h);
        return;
    }
    static const oc_chat_callbacks_t cbs = {
        .struct_size = sizeof(oc_chat_callbacks_t),
        .on_chunk = home_on_chunk,
        .on_done = home_on_done,
    };
    const oc_provider_ops_t *ops = &h->plugin->mod->k.provider;
    oc_provider_call_t *call = NULL;
    h->home_state = HOME_CALLING;
    atomic_fetch_add(&h->refs, 1); /* held across chat: on_done may run inside it */
    int32_t rc = ops->chat(h->plugin->state, &h->req, &cbs, h, &call);
    if (h->home_state == HOME_CALLING) {
        if (rc == OC_PENDING || rc == OC_OK)
            h->call = call;
        else
            refuse(h, rc, gw_host_api.strerror(rc));
    }
    unref(h);
}

static void on_home_cancel(void *data)
{
    gw_llm_hop_t *h = data;
    if (h->home_state == HOME_CALLING && h->call) {
        h->plugin->mod->k.provider.cancel(h->plugin->state, h->call);
        home_over(h);
    }
    unref(h); /* the cancel message's reference */
}

/* The worker asked to stop (its on_chunk returned OC_ECANCELED): cancel and
 * report the cancel as the provider would have. */
static void on_home_stop(void *data)
{
    gw_llm_hop_t *h = data;
    if (h->home_state == HOME_CALLING && h->call) {
        h->plugin->mod->k.provider.cancel(h->plugin->state, h->call);
        oc_chat_result_t res = {
            .struct_size = sizeof(res),
            .status = OC_ECANCELED,
            .error_class = OC_PROV_ERR_CANCELED,
            .error = "canceled by the caller",
            .prompt_tokens = -1,
            .completion_tokens = -1,
        };
        post_result(h, &res);
        home_over(h);
    }
    unref(h);
}

/* ---- worker loop ---- */

static void post_home(gw_llm_hop_t *h, gw_post_cb cb)
{
    atomic_fetch_add(&h->refs, 1);
    if (gw_loop_post(h->home, cb, h) != 0)
        unref(h); /* the home loop is closing: its calls end with it */
}

static void on_worker_event(void *data)
{
    hop_ev_t *ev = data;
    gw_llm_hop_t *h = ev->h;
    if (!atomic_load(&h->canceled)) {
        if (ev->done) {
            h->cbs.on_done(h->data, &ev->res);
            unref(h); /* the worker's handle: the hop is over for the caller */
        } else if (h->cbs.on_chunk(h->data, ev->text, ev->len) != OC_OK &&
                   !atomic_load(&h->canceled)) {
            post_home(h, on_home_stop);
        }
    }
    free(ev->text);
    free(ev->error);
    free(ev);
    unref(h);
}

gw_llm_hop_t *gw_llm_hop_start(gw_loop_t *home, oc_plugin_t *plugin, const oc_chat_request_t *req,
                               const gw_llm_hop_cbs_t *cbs, void *data)
{
    gw_loop_t *worker = gw_loop_current();
    gw_llm_hop_t *h = calloc(1, sizeof(*h));
    if (h == NULL || worker == NULL) {
        free(h);
        return NULL;
    }
    h->body = dup_n(req->body_json ? req->body_json : "", req->body_json ? req->body_len : 0);
    if (h->body == NULL) {
        free(h);
        return NULL;
    }
    atomic_init(&h->refs, 2); /* the worker's handle and the home side */
    atomic_init(&h->canceled, 0);
    h->home = home;
    h->worker = worker;
    h->plugin = plugin;
    h->req = *req;
    h->req.struct_size = sizeof(h->req);
    h->req.body_json = h->body;
    h->cbs = *cbs;
    h->data = data;
    h->home_state = HOME_IDLE;
    if (gw_loop_post(home, on_home_start, h) != 0) {
        free(h->body);
        free(h);
        return NULL;
    }
    return h;
}

void gw_llm_hop_cancel(gw_llm_hop_t *h)
{
    if (h == NULL || atomic_exchange(&h->canceled, 1))
        return;
    post_home(h, on_home_cancel);
    unref(h); /* the worker's handle */
}
