/* llm/agent_job.c - see agent_job.h. */
#include "llm/agent_job.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct job_ev_s {
    gw_llm_agent_job_t *j;
    int done;
    char *text;      /* delta, or the reply */
    size_t len;
    char *error;
    char *session_key;
    gw_llm_agent_result_t res;
} job_ev_t;

static void job_free(gw_llm_agent_job_t *j)
{
    free(j->session_key);
    free(j->text);
    free(j->system);
    free(j->sampling);
    free(j);
}

static void unref(gw_llm_agent_job_t *j)
{
    if (atomic_fetch_sub(&j->refs, 1) == 1)
        job_free(j);
}

gw_llm_agent_job_t *gw_llm_agent_job_new(const gw_agent_cfg_t *agent, const char *session_key,
                                         const char *text, const char *system,
                                         const char *sampling, int stream)
{
    gw_llm_agent_job_t *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return NULL;
    j->agent = agent;
    j->session_key = strdup(session_key);
    j->text = strdup(text);
    j->system = system ? strdup(system) : NULL;
    j->sampling = strdup(sampling ? sampling : "{}");
    j->stream = stream;
    atomic_init(&j->refs, 1);
    atomic_init(&j->canceled, 0);
    if (!j->session_key || !j->text || (system && !j->system) || !j->sampling) {
        job_free(j);
        return NULL;
    }
    return j;
}

void gw_llm_agent_job_discard(gw_llm_agent_job_t *j)
{
    if (j)
        job_free(j);
}

/* ---- main loop ---- */

static void on_worker_event(void *data);

static void post_event(gw_llm_agent_job_t *j, job_ev_t *ev)
{
    ev->j = j;
    atomic_fetch_add(&j->refs, 1);
    if (gw_loop_post(j->worker, on_worker_event, ev) != 0) {
        free(ev->text);
        free(ev->error);
        free(ev->session_key);
        free(ev);
        unref(j);
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

int gw_llm_agent_job_canceled(const gw_llm_agent_job_t *j)
{
    return atomic_load(&j->canceled);
}

void gw_llm_agent_job_delta(gw_llm_agent_job_t *j, const char *text, size_t len)
{
    if (j->main_over || atomic_load(&j->canceled))
        return;
    job_ev_t *ev = calloc(1, sizeof(*ev));
    if (ev == NULL || (ev->text = dup_n(text, len)) == NULL) {
        free(ev);
        return; /* out of memory: the text is still in the final reply */
    }
    ev->len = len;
    post_event(j, ev);
}

void gw_llm_agent_job_done(gw_llm_agent_job_t *j, const gw_llm_agent_result_t *res)
{
    if (j->main_over)
        return;
    j->main_over = 1;
    job_ev_t *ev = calloc(1, sizeof(*ev));
    if (ev != NULL && !atomic_load(&j->canceled)) {
        ev->done = 1;
        ev->res = *res;
        ev->text = dup_n(res->text ? res->text : "", res->text ? res->len : 0);
        ev->error = res->error ? strdup(res->error) : NULL;
        ev->session_key = res->session_key ? strdup(res->session_key) : NULL;
        ev->res.text = ev->text;
        ev->res.len = ev->text ? ev->res.len : 0;
        ev->res.error = ev->error ? ev->error : res->error ? "out of memory" : NULL;
        ev->res.session_key = ev->session_key;
        post_event(j, ev);
    } else {
        free(ev);
    }
    unref(j); /* the main side's reference */
}

void gw_llm_agent_job_on_cancel(gw_llm_agent_job_t *j, void (*fn)(void *arg), void *arg)
{
    j->main_cancel = fn;
    j->main_cancel_arg = arg;
}

static void on_main_submit(void *data)
{
    gw_llm_agent_job_t *j = data;
    if (atomic_load(&j->canceled) || j->submit(j->submit_ctx, j) != 0) {
        gw_llm_agent_result_t res = {
            .status = OC_EUNAVAIL,
            .error = "the agent cannot take requests now (the gateway is starting or "
                     "stopping)",
            .prompt_tokens = -1,
            .completion_tokens = -1,
        };
        gw_llm_agent_job_done(j, &res);
    }
}

static void on_main_cancel(void *data)
{
    gw_llm_agent_job_t *j = data;
    if (!j->main_over && j->main_cancel)
        j->main_cancel(j->main_cancel_arg);
    unref(j);
}

/* ---- worker loop ---- */

static void on_worker_event(void *data)
{
    job_ev_t *ev = data;
    gw_llm_agent_job_t *j = ev->j;
    if (!atomic_load(&j->canceled)) {
        if (ev->done) {
            j->cbs.on_done(j->data, &ev->res);
            unref(j); /* the worker's handle */
        } else if (j->cbs.on_delta) {
            j->cbs.on_delta(j->data, ev->text, ev->len);
        }
    }
    free(ev->text);
    free(ev->error);
    free(ev->session_key);
    free(ev);
    unref(j);
}

int gw_llm_agent_job_submit(gw_llm_t *l, gw_llm_agent_job_t *j, const gw_llm_agent_cbs_t *cbs,
                            void *data)
{
    if (l->agent_submit == NULL) {
        job_free(j);
        return -ENOSYS;
    }
    j->worker = gw_loop_current();
    j->home = l->home;
    j->submit = l->agent_submit;
    j->submit_ctx = l->agent_ctx;
    j->cbs = *cbs;
    j->data = data;
    atomic_store(&j->refs, 2); /* the worker's handle and the main side */
    if (j->worker == NULL || gw_loop_post(j->home, on_main_submit, j) != 0) {
        job_free(j);
        return -ECANCELED;
    }
    return 0;
}

void gw_llm_agent_job_cancel(gw_llm_agent_job_t *j)
{
    if (j == NULL || atomic_exchange(&j->canceled, 1))
        return;
    atomic_fetch_add(&j->refs, 1);
    if (gw_loop_post(j->home, on_main_cancel, j) != 0)
        unref(j);
    unref(j); /* the worker's handle */
}
