/* messaging/api_turn.c - OpenAI API requests for agent models
 * (openclaw/<agentId> on /v1/chat/completions and /v1/responses).
 *
 * The worker loop hands over an agent job (llm/agent_job.h); here, on the
 * main loop, it becomes a message of its session's lane, carried by a hook
 * run (hooks.c), so it is ordered with the session's other messages and
 * treated like /hooks/agent by the lane, queue drops and stops. Its turn
 * (turn.c) sends the system prompt, the history and the request's text
 * through the agent's chain, streaming when the client asked; content
 * deltas go back to the worker as they come, and the transcript gets the
 * user message and the reply, as for any turn.
 *
 * A client that goes away cancels the job: queued, it is not run; running,
 * its turn is canceled like at a stop (the provider call is canceled and
 * nothing is recorded).
 *
 * Main loop only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "llm/oai_json.h"
#include "log/log.h"
#include "messaging/msg_int.h"

struct gw_api_run_s {
    gw_messaging_t *m;
    gw_llm_agent_job_t *job; /* the main side's reference, until finish */
    gw_turn_t *turn;         /* the turn running for it, or NULL */
    int canceled;
    gw_buf_t text;           /* the streamed reply */
    /* what the provider run ended with */
    int32_t cls;
    int http_status;
    uint32_t retry_after_ms;
    int64_t ptok, ctok;
    double upstream;
    const char *finish;      /* static */
};

static void on_cancel(void *arg)
{
    gw_api_run_t *a = arg;
    a->canceled = 1;
    /* Running: stop its provider call now; the turn ends without a commit
     * and answers the run canceled (which frees it). Queued: its turn will
     * not start (gw_api_turn_begin). */
    if (a->turn)
        gw_turn_cancel_for_stop(a->turn);
}

int gw_messaging_api_submit(void *ctx, gw_llm_agent_job_t *job)
{
    gw_messaging_t *m = ctx;
    if (m->stopping || m->st == NULL || m->llm == NULL)
        return -ECANCELED;
    gw_api_run_t *a = calloc(1, sizeof(*a));
    gw_hook_run_t *h = a ? gw_hook_run_for_api(m, a) : NULL;
    gw_msg_t *msg = calloc(1, sizeof(*msg));
    char id[40];
    gw_llm_id(id, sizeof(id), "");
    if (h == NULL || msg == NULL) {
        free(a);
        free(h);
        free(msg);
        return -ENOMEM;
    }
    a->m = m;
    a->job = job;
    a->ptok = a->ctok = -1;
    msg->hook = h;
    msg->env.peer_kind = OC_PEER_DIRECT;
    msg->env.channel = strdup("openai");
    msg->env.account = strdup("default");
    msg->env.peer_id = strdup(id);
    msg->env.sender_id = strdup("openai");
    msg->env.message_id = strdup(id);
    msg->env.text = strdup(job->text);
    msg->env.received_ms = gw_wall_ms();
    if (!msg->env.channel || !msg->env.account || !msg->env.peer_id || !msg->env.sender_id ||
        !msg->env.message_id || !msg->env.text) {
        msg->hook = NULL;
        gw_msg_free(msg);
        free(h);
        free(a);
        return -ENOMEM;
    }
    gw_llm_agent_job_on_cancel(job, on_cancel, a);
    gw_log(OC_LOG_DEBUG, "openai", "run %s for agent %s", id, job->agent->id);
    gw_lane_enqueue(m, job->session_key, job->agent, msg);
    return 0;
}

int gw_api_turn_begin(gw_api_run_t *a, gw_turn_t *t)
{
    if (a->canceled || gw_llm_agent_job_canceled(a->job))
        return -1;
    a->turn = t;
    return 0;
}

void gw_api_turn_detach(gw_api_run_t *a)
{
    a->turn = NULL;
}

int gw_api_stream(const gw_api_run_t *a)
{
    return a->job->stream;
}

void gw_api_extend(const gw_api_run_t *a, json_object *req)
{
    const gw_llm_agent_job_t *job = a->job;
    json_object *msgs, *sys, *content;
    /* The request's own system text follows the agent's system prompt. */
    if (job->system && json_object_object_get_ex(req, "messages", &msgs) &&
        json_object_array_length(msgs) > 0 &&
        (sys = json_object_array_get_idx(msgs, 0)) != NULL &&
        json_object_object_get_ex(sys, "content", &content)) {
        gw_buf_t b = GW_BUF_INIT;
        gw_buf_printf(&b, "%s\n\n%s", json_object_get_string(content), job->system);
        json_object_object_add(sys, "content", json_object_new_string(b.data ? b.data : ""));
        gw_buf_free(&b);
    }
    json_object *sampling = json_tokener_parse(job->sampling);
    if (sampling && json_object_is_type(sampling, json_type_object)) {
        json_object_object_foreach(sampling, k, v)
        {
            json_object_object_add(req, k, json_object_get(v));
        }
    }
    json_object_put(sampling);
}

int32_t gw_api_chunk(gw_api_run_t *a, const char *json, size_t len)
{
    if (a->canceled || gw_llm_agent_job_canceled(a->job))
        return OC_ECANCELED;
    size_t before = a->text.len;
    gw_llm_delta_t d;
    if (gw_llm_chunk_read(json, len, &a->text, &d) != 0)
        return OC_OK; /* the provider checked its chunks; nothing to forward */
    if (d.finish)
        a->finish = d.finish;
    if (d.ptok >= 0)
        a->ptok = d.ptok;
    if (d.ctok >= 0)
        a->ctok = d.ctok;
    if (d.has_content)
        gw_llm_agent_job_delta(a->job, a->text.data ? a->text.data + before : "",
                               a->text.len - before);
    return OC_OK;
}

char *gw_api_take_text(gw_api_run_t *a)
{
    return strdup(a->text.data ? a->text.data : "");
}

void gw_api_note(gw_api_run_t *a, const gw_llm_result_t *res, const char *finish)
{
    a->cls = res->status == OC_OK ? OC_PROV_ERR_NONE : res->error_class;
    a->http_status = res->http_status;
    a->retry_after_ms = res->retry_after_ms;
    if (res->prompt_tokens >= 0)
        a->ptok = res->prompt_tokens;
    if (res->completion_tokens >= 0)
        a->ctok = res->completion_tokens;
    a->upstream += res->upstream_seconds;
    if (finish)
        a->finish = finish;
}

void gw_api_finish(gw_api_run_t *a, int32_t status, const char *reply, const char *error,
                   const char *session_key)
{
    gw_llm_agent_result_t res = {
        .status = status,
        .error_class = status == OC_OK ? OC_PROV_ERR_NONE : a->cls,
        .http_status = a->http_status,
        .retry_after_ms = a->retry_after_ms,
        .error = status == OC_OK ? NULL : error ? error : "the agent turn failed",
        .text = reply,
        .len = reply ? strlen(reply) : 0,
        .finish = a->finish ? a->finish : "stop",
        .prompt_tokens = a->ptok,
        .completion_tokens = a->ctok,
        .upstream_seconds = a->upstream,
        .session_key = session_key,
    };
    gw_llm_agent_job_done(a->job, &res);
    gw_buf_free(&a->text);
    free(a);
}
