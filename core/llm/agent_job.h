/* llm/agent_job.h - an OpenAI API request for an agent model
 * (openclaw/<agentId>): it arrives on a worker loop and runs as an agent
 * turn on the main loop (messaging, through the session's lane), whose
 * deltas and result come back to the worker.
 *
 * Worker side: gw_llm_agent_job_new, gw_llm_agent_job_submit (the job goes
 * to llm->agent_submit on the main loop), the callbacks (on the worker),
 * gw_llm_agent_job_cancel (the client went away: no callback afterwards,
 * and the main side's cancel hook runs).
 * Main side: the job's request fields (read-only), gw_llm_agent_job_delta,
 * gw_llm_agent_job_done (exactly once), gw_llm_agent_job_on_cancel.
 *
 * Lifetime: reference-counted (atomically) like llm/hop.h: the worker's
 * handle, the main side, and each event between the loops. */
#ifndef GW_LLM_AGENT_JOB_H
#define GW_LLM_AGENT_JOB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "llm/llm.h"

typedef struct gw_llm_agent_result_s {
    int32_t status;        /* OC_OK, or why the turn failed */
    int32_t error_class;   /* OC_PROV_ERR_* of the last provider attempt; 0 when the
                              failure was not a provider's (queue full, storage, stop) */
    int http_status;       /* the upstream's, 0 when none */
    uint32_t retry_after_ms;
    const char *error;     /* NULL on success */
    const char *text;      /* the whole reply */
    size_t len;
    const char *finish;    /* "stop", "length", ... */
    int64_t prompt_tokens, completion_tokens; /* -1 when unknown */
    double upstream_seconds;
    const char *session_key;
} gw_llm_agent_result_t;

typedef struct gw_llm_agent_cbs_s {
    /* Streaming: one content delta ("" for the first chunk, the role's). */
    void (*on_delta)(void *data, const char *text, size_t len);
    /* Exactly once unless canceled; res borrowed for the call. */
    void (*on_done)(void *data, const gw_llm_agent_result_t *res);
} gw_llm_agent_cbs_t;

struct gw_llm_agent_job_s {
    /* The request: set by the worker, read-only once submitted. */
    const gw_agent_cfg_t *agent; /* borrowed from the config */
    char *session_key;           /* owned */
    char *text;                  /* owned: the user message */
    char *system;                /* owned: the request's system text, or NULL */
    char *sampling;              /* owned: JSON object of sampling members ("{}") */
    int stream;
    /* private */
    atomic_int refs;
    atomic_int canceled;
    gw_loop_t *worker, *home;
    gw_llm_agent_submit_fn submit;
    void *submit_ctx;
    gw_llm_agent_cbs_t cbs;
    void *data;
    int main_over;               /* main loop only: done was sent */
    void (*main_cancel)(void *arg); /* main loop only */
    void *main_cancel_arg;
};

/* A job (the worker loop is the calling one). Strings are copied; system
 * may be NULL. NULL when out of memory. */
gw_llm_agent_job_t *gw_llm_agent_job_new(const gw_agent_cfg_t *agent, const char *session_key,
                                         const char *text, const char *system,
                                         const char *sampling, int stream);
/* Frees a job that was never submitted. */
void gw_llm_agent_job_discard(gw_llm_agent_job_t *j);
/* Sends it to the main loop. 0, or -ECANCELED / -ENOSYS (no agent runner)
 * with the job freed and no callback. Worker loop. */
int gw_llm_agent_job_submit(gw_llm_t *l, gw_llm_agent_job_t *j, const gw_llm_agent_cbs_t *cbs,
                            void *data);
/* The client went away: no callback after this; the main side's cancel
 * hook runs on the main loop. Worker loop. */
void gw_llm_agent_job_cancel(gw_llm_agent_job_t *j);

/* Main loop. */
int gw_llm_agent_job_canceled(const gw_llm_agent_job_t *j);
void gw_llm_agent_job_delta(gw_llm_agent_job_t *j, const char *text, size_t len);
/* The answer (strings copied); the main side lets go of the job. */
void gw_llm_agent_job_done(gw_llm_agent_job_t *j, const gw_llm_agent_result_t *res);
/* fn(arg) runs on the main loop if the worker cancels before done. */
void gw_llm_agent_job_on_cancel(gw_llm_agent_job_t *j, void (*fn)(void *arg), void *arg);

#endif
