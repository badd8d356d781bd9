/* mock_upstream/control.c - the shared config and the control API, so that
 * tests can change a running mock without restarting it:
 *
 *   GET  /mock/config  the knobs in effect
 *   POST /mock/config  {"latency_ms":50,...}: change some knobs (all or
 *                      nothing); answers the knobs in effect
 *   GET  /mock/stats   the counters (see stats.h)
 *   POST /mock/reset   knobs back to the command line's, counters to zero
 *
 * Control requests are not counted in the stats. Any worker thread; the
 * shared state is taken under m->mu. */
#include <string.h>

#include "mock.h"

const knobs_t *worker_knobs(worker_t *w)
{
    mock_t *m = w->m;
    if (atomic_load_explicit(&m->gen, memory_order_acquire) != w->knobs_gen) {
        pthread_mutex_lock(&m->mu);
        w->knobs = m->knobs;
        w->knobs_gen = atomic_load_explicit(&m->gen, memory_order_relaxed);
        pthread_mutex_unlock(&m->mu);
    }
    return &w->knobs;
}

static void snapshot(mock_t *m, stats_snap_t *now)
{
    memset(now, 0, sizeof *now);
    for (int i = 0; i < m->nworkers; i++)
        stats_accumulate(&m->workers[i].stats, now);
}

void control_reset(mock_t *m)
{
    stats_snap_t now;
    snapshot(m, &now);
    pthread_mutex_lock(&m->mu);
    m->knobs = m->defaults;
    m->knobs.rl_epoch_ns = uv_hrtime();
    m->base = now;
    atomic_store_explicit(&m->replies, 0, memory_order_relaxed); /* "mock reply 1" again */
    atomic_store_explicit(&m->gauges.streams_max,
                          atomic_load_explicit(&m->gauges.streams_open, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_fetch_add_explicit(&m->gen, 1, memory_order_release);
    pthread_mutex_unlock(&m->mu);
}

static void answer_knobs(mock_t *m, gw_buf_t *body)
{
    pthread_mutex_lock(&m->mu);
    knobs_to_json(&m->knobs, body);
    pthread_mutex_unlock(&m->mu);
}

/* POST /mock/config: 0 with the new knobs in effect, or -1 with err. */
static int set_config(worker_t *w, const char *body, size_t len, gw_buf_t *err)
{
    mock_t *m = w->m;
    struct json_object *o = worker_parse_json(w, body, len, err);
    if (o == NULL)
        return -1;
    pthread_mutex_lock(&m->mu);
    knobs_t next = m->knobs;
    int rc = knobs_apply_json(&next, o, err);
    if (rc == 0) {
        m->knobs = next;
        atomic_fetch_add_explicit(&m->gen, 1, memory_order_release);
    }
    pthread_mutex_unlock(&m->mu);
    json_object_put(o);
    return rc;
}

static int path_is(const hr_req_t *h, const char *p)
{
    return h->path_len == strlen(p) && memcmp(h->path, p, h->path_len) == 0;
}

static int method_is(const hr_req_t *h, const char *m)
{
    return h->method_len == strlen(m) && memcmp(h->method, m, h->method_len) == 0;
}

static void send_error(gw_buf_t *out, const hr_req_t *h, int status, const char *code,
                       const char *msg, const char *extra)
{
    gw_buf_t body = GW_BUF_INIT;
    error_body(&body, D_OPENAI, status, code, msg);
    respond(out, status, "application/json", extra, body.data, body.len, h->close);
    gw_buf_free(&body);
}

void control_request(worker_t *w, const hr_req_t *h, const char *body, size_t len,
                     gw_buf_t *out)
{
    mock_t *m = w->m;
    gw_buf_t ans = GW_BUF_INIT;
    const char *allow = NULL;
    if (path_is(h, "/mock/config")) {
        if (method_is(h, "GET")) {
            answer_knobs(m, &ans);
        } else if (method_is(h, "POST")) {
            gw_buf_t err = GW_BUF_INIT;
            if (set_config(w, body, len, &err) != 0) {
                send_error(out, h, 400, "bad_knob", err.data, NULL);
                gw_buf_free(&err);
                return;
            }
            gw_buf_free(&err);
            answer_knobs(m, &ans);
        } else {
            allow = "Allow: GET, POST\r\n";
        }
    } else if (path_is(h, "/mock/stats")) {
        if (method_is(h, "GET")) {
            stats_snap_t now, base;
            snapshot(m, &now);
            pthread_mutex_lock(&m->mu);
            base = m->base;
            pthread_mutex_unlock(&m->mu);
            stats_to_json(&now, &base, &m->gauges, &ans);
        } else {
            allow = "Allow: GET\r\n";
        }
    } else if (path_is(h, "/mock/reset")) {
        if (method_is(h, "POST")) {
            control_reset(m);
            answer_knobs(m, &ans);
        } else {
            allow = "Allow: POST\r\n";
        }
    } else {
        send_error(out, h, 404, "not_found",
                   "unknown control path (known: /mock/config, /mock/stats, /mock/reset)", NULL);
        return;
    }
    if (allow != NULL) {
        send_error(out, h, 405, "method_not_allowed", "method not allowed on this control path",
                   allow);
        return;
    }
    respond(out, 200, "application/json", NULL, ans.data, ans.len, h->close);
    gw_buf_free(&ans);
}
