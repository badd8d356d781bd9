/* server/api.h - one OpenAI API request in flight (POST /v1/chat/completions
 * or /v1/responses) on its worker loop: what runs for it (a proxy run of a
 * chain, or an agent job on the main loop), its stream, its error answers
 * and its metrics. completions.c and responses.c embed it and supply the
 * format (gw_api_ops_t).
 *
 * Lifetime: the call is freed when its three holds are gone: the request's
 * pool (h2o disposes it when the answer is out or the client went away), the
 * run or job (until its on_done, or canceled), and the stream's timer handle
 * (closed when the pool goes). A client that goes away cancels the run or
 * job at once (the provider's cancel).
 *
 * Threads: the worker loop that received the request, for everything. */
#ifndef GW_SERVER_API_H
#define GW_SERVER_API_H

#include "llm/agent_job.h"
#include "llm/request.h"
#include "llm/run.h"
#include "server/http.h"
#include "server/stream.h"

typedef struct gw_api_s gw_api_t;

typedef struct gw_api_ops_s {
    /* Proxy runs: a chunk, the end. */
    int32_t (*on_chunk)(gw_api_t *a, const char *json, size_t len);
    void (*on_done)(gw_api_t *a, const gw_llm_result_t *res);
    /* Agent jobs: a content delta, the end. */
    void (*on_delta)(gw_api_t *a, const char *text, size_t len);
    void (*on_agent_done)(gw_api_t *a, const gw_llm_agent_result_t *res);
    /* Frees the format's own state (the call's memory is freed after). */
    void (*free)(gw_api_t *a);
} gw_api_ops_t;

struct gw_api_s {
    gw_http_req_t r;        /* r.req is NULL once h2o disposed the request */
    const gw_api_ops_t *ops;
    gw_llm_t *llm;          /* borrowed */
    int holds;
    gw_llm_run_t *run;      /* a proxy run in flight */
    gw_llm_agent_job_t *job; /* an agent job in flight */
    int streaming;
    gw_stream_t st;         /* when streaming */
    int answered;           /* the response (or its head) was decided */
    int counted;            /* a stream's response is in the HTTP metrics */
};

/* A call of `size` bytes (>= sizeof(gw_api_t); the format's struct embeds
 * the gw_api_t first) for request r. NULL when out of memory (nothing was
 * sent). */
gw_api_t *gw_api_new(gw_http_req_t *r, size_t size, const gw_api_ops_t *ops, int streaming);

/* What a request's model names: an agent (GW_API_AGENT, *agent set) or a
 * chain to proxy to (GW_API_PROXY, *chain set); otherwise the error (404
 * model_not_found, or an agent without a chain) was answered (0). */
#define GW_API_AGENT 1
#define GW_API_PROXY 2
int gw_api_resolve(gw_api_t *a, const char *model, const gw_agent_cfg_t **agent,
                   const gw_llm_chain_t **chain);
/* The session of an agent request: header x-openclaw-session-key (a full
 * "agent:<id>:..." key of that agent, or a name scoped under it), else
 * "agent:<id>:openai-user:<user>", else a new "agent:<id>:openai:<random>".
 * Lower-cased. 0, or -1 with a 400 answered (reserved or malformed key). */
int gw_api_session_key(gw_api_t *a, const gw_agent_cfg_t *agent, const char *user,
                       gw_buf_t *key);

/* Starts a proxy run of chain with body (borrowed from the request or the
 * format's state: both outlive the run). On failure the error is answered. */
void gw_api_run(gw_api_t *a, const gw_llm_chain_t *chain, const char *body, size_t len);
/* Submits an agent job (taken over). On failure the error is answered. */
void gw_api_submit(gw_api_t *a, gw_llm_agent_job_t *job);

/* Answers an error (once, if the request is still there): as an HTTP
 * status when nothing was streamed yet, else the caller ends its stream. */
void gw_api_error(gw_api_t *a, int status, const char *type, const char *param,
                  const char *code, const char *message);
/* The error answer for a failed run or agent job: status (429 with
 * Retry-After, 504, 502, the upstream's 4xx, 503) and the error shape; the
 * message names the target that failed last (when not NULL). */
void gw_api_fail(gw_api_t *a, int32_t status, int32_t error_class, int http_status,
                 uint32_t retry_after_ms, const char *target, const char *error);
/* The message of a failure (into out). */
void gw_api_fail_message(gw_buf_t *out, int32_t error_class, const char *target,
                         const char *error);
/* For streams that already started: the status, type and code of a failure
 * (for the error chunk or response.failed). */
int gw_api_fail_status(int32_t status, int32_t error_class, int http_status, const char **type,
                       const char **code);
/* Sends a complete JSON answer. */
void gw_api_send_json(gw_api_t *a, int status, const char *json, size_t len);

#endif
