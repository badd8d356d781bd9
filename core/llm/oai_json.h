/* llm/oai_json.h - OpenAI wire JSON: errors, chat.completion objects and
 * chunks the gateway writes itself (agent models), reading the text out of
 * an upstream's answer or chunk, and the Responses API objects and stream
 * events. Builders append to a gw_buf_t (0 or -ENOMEM); readers parse with
 * json-c. Thread-safe (no shared state). */
#ifndef GW_LLM_OAI_JSON_H
#define GW_LLM_OAI_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "llm/request.h"
#include "util/buf.h"

/* {"error":{"message","type","param","code"}} (param and code null when
 * NULL). */
int gw_llm_error_json(gw_buf_t *b, const char *message, const char *type, const char *param,
                      const char *code);
int gw_llm_err_json(gw_buf_t *b, const gw_llm_err_t *err);

/* A random id: prefix + 24 hex digits ("chatcmpl-…", "resp_…", "msg_…"). */
void gw_llm_id(char *out, size_t len, const char *prefix);

/* chat.completion with one assistant message (agent models). Token counts
 * < 0: usage left out. */
int gw_llm_completion_json(gw_buf_t *b, const char *id, int64_t created, const char *model,
                           const char *text, size_t len, const char *finish, int64_t ptok,
                           int64_t ctok);
/* chat.completion.chunk: role (NULL: none), content (NULL: none), finish
 * (NULL: null); usage (ptok >= 0) makes a usage chunk with empty choices. */
int gw_llm_chunk_json(gw_buf_t *b, const char *id, int64_t created, const char *model,
                      const char *role, const char *content, size_t len, const char *finish);
int gw_llm_usage_chunk_json(gw_buf_t *b, const char *id, int64_t created, const char *model,
                            int64_t ptok, int64_t ctok);

/* What an upstream's chat.completion.chunk carries. */
typedef struct gw_llm_delta_s {
    int has_content;     /* choices[0].delta.content was a string (appended to text) */
    const char *finish;  /* choices[0].finish_reason, or NULL (static string) */
    int64_t ptok, ctok;  /* usage, -1 when absent */
    int is_error;        /* an {"error":...} object */
} gw_llm_delta_t;
/* Appends the chunk's content delta to text. 0, or -1 when it is not a
 * JSON object. */
int gw_llm_chunk_read(const char *json, size_t len, gw_buf_t *text, gw_llm_delta_t *out);

/* Reads an upstream chat.completion: choices[0].message.content (a string,
 * or null as "") into text, the finish reason and usage. 0, or -1 when it
 * has no choices[0].message. */
int gw_llm_completion_read(const char *json, size_t len, gw_buf_t *text, const char **finish,
                           int64_t *ptok, int64_t *ctok);

/* ---- Responses API ---- */

/* What a response object shows. */
typedef struct gw_llm_resp_s {
    const char *id;         /* "resp_…" */
    const char *msg_id;     /* "msg_…" */
    int64_t created;
    const char *model;      /* as the client asked */
    const gw_llm_resp_req_t *req;
    const char *status;     /* "in_progress", "completed", "failed" */
    const char *text;       /* the output text so far (NULL: no output item yet) */
    size_t text_len;
    int64_t ptok, ctok;     /* usage (< 0: null) */
    const char *error_code; /* failed: error {code, message} */
    const char *error_message;
} gw_llm_resp_t;

/* The response object. */
int gw_llm_resp_json(gw_buf_t *b, const gw_llm_resp_t *r);
/* The data of one streaming event (frame it with gw_sse_event), seq being
 * its sequence_number:
 *   created, in_progress, completed, failed: {type, sequence_number, response}
 *   output_item.added / .done:  {…, output_index, item}
 *   content_part.added / .done: {…, item_id, output_index, content_index, part}
 *   output_text.delta:          {…, item_id, output_index, content_index, delta}
 *   output_text.done:           {…, item_id, output_index, content_index, text} */
int gw_llm_resp_event(gw_buf_t *b, const char *type, int64_t seq, const gw_llm_resp_t *r,
                      const char *delta, size_t delta_len);

#endif
