/* llm/run.h - one request through a chain of targets, on the calling loop:
 * failover, cooldown, metrics, streaming and cancel.
 *
 * The walk: each target in chain order, skipping providers in cooldown
 * (llm/cooldown.h); a failure of the failover class (connect or network
 * error, timeout, 429, 5xx, auth) moves to the next target, a 400-class
 * request error or a cancel ends the run. A streamed run fails over only
 * before its first chunk was delivered: after that an upstream failure ends
 * the run. When every candidate was skipped for cooldown, the one whose
 * cooldown ends first is tried anyway: an outage of every provider must not
 * become a self-inflicted one once they are back.
 *
 * Where the provider runs: on the calling loop when its descriptor has
 * OC_PLUGIN_F_MULTI_LOOP or the caller is on the home loop; otherwise the
 * call hops to the home loop (llm/hop.h) and its chunks come back.
 *
 * Metrics per attempt: openclaw_provider_calls_total, _duration_seconds,
 * _ttft_seconds and _chunk_gap_seconds (streaming), _tokens_total; between
 * attempts openclaw_provider_fallbacks_total{from,to}.
 *
 * Threads: a run belongs to the loop that started it (gw_loop_current());
 * every function and callback runs there. */
#ifndef GW_LLM_RUN_H
#define GW_LLM_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "llm/llm.h"

typedef struct gw_llm_run_s gw_llm_run_t;

typedef struct gw_llm_req_s {
    const char *body; /* OpenAI chat.completions request JSON (its model and
                         stream members are the providers' to set); borrowed
                         until on_done or gw_llm_run_cancel */
    size_t body_len;
    int stream;                      /* deliver chunks through on_chunk */
    uint32_t timeout_ms;             /* per attempt; 0 = the provider's timeoutMs */
    uint32_t first_token_timeout_ms; /* streaming: until the first chunk; 0 = none */
} gw_llm_req_t;

typedef struct gw_llm_result_s {
    int32_t status;        /* OC_OK, or the last attempt's error */
    int32_t error_class;   /* OC_PROV_ERR_* of the last attempt (NONE on success) */
    int http_status;       /* the upstream's, 0 when none */
    uint32_t retry_after_ms;
    const char *error;     /* human text, never a secret; NULL on success */
    const char *body;      /* non-streaming success: the upstream's chat.completion
                              JSON, unchanged; else NULL */
    size_t body_len;
    int64_t prompt_tokens;     /* -1 when unknown */
    int64_t completion_tokens; /* -1 when unknown */
    const gw_llm_target_t *target; /* the one that answered (or failed last);
                                      NULL when no attempt was made */
    double upstream_seconds; /* time spent in attempts, summed */
    unsigned attempts;
    int streamed;            /* chunks were delivered */
} gw_llm_result_t;

typedef struct gw_llm_run_cbs_s {
    /* Streaming: one chat.completion.chunk JSON object (borrowed for the
     * call), as soon as the provider has it. Return OC_OK, or OC_ECANCELED
     * to end the run (on_done then reports OC_ECANCELED). The callee may
     * call gw_llm_run_cancel from here. */
    int32_t (*on_chunk)(void *data, const char *json, size_t len);
    /* Exactly once, unless gw_llm_run_cancel ran first; never from inside
     * gw_llm_run_start. The run is freed when it returns (res is borrowed
     * for the call). */
    void (*on_done)(void *data, const gw_llm_result_t *res);
} gw_llm_run_cbs_t;

/* Starts a run of `chain` (borrowed; the catalog's) with req (copied; its
 * body borrowed as said) and cbs (copied). Returns the run, or NULL when out
 * of memory or not called on a gateway loop (no callback then). */
gw_llm_run_t *gw_llm_run_start(gw_llm_t *l, const gw_llm_chain_t *chain, const gw_llm_req_t *req,
                               const gw_llm_run_cbs_t *cbs, void *data);
/* Cancels the attempt in flight (the provider's cancel) and frees the run:
 * no callback afterwards. Not after on_done began. */
void gw_llm_run_cancel(gw_llm_run_t *r);

/* Whether an error class moves a run to the next target. */
int gw_llm_failover_class(int32_t error_class);

#endif
