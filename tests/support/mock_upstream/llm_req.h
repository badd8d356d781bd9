/* mock_upstream/llm_req.h - reading an OpenAI chat completion, an Anthropic
 * message or an OpenAI embeddings request body: the fields the mock answers
 * with, and the cheap validation the real APIs do (400 with the field's
 * name otherwise). Strings are borrowed from the parsed JSON object. Not
 * thread-safe per llm_req_t. */
#ifndef MOCK_LLM_REQ_H
#define MOCK_LLM_REQ_H

#include <json-c/json.h>
#include <stddef.h>

#include "util/buf.h"

#define LLM_MAX_DIMENSIONS 4096 /* embeddings "dimensions" */

typedef struct llm_req_s {
    const char *model;      /* borrowed */
    size_t model_len;
    int stream;
    int include_usage;      /* OpenAI stream_options.include_usage */
    const char *tool_name;  /* the first offered tool, or NULL; borrowed */
    size_t tool_name_len;
    size_t prompt_bytes;    /* text in all messages and the system prompt */
    gw_buf_t *last_user;    /* filled with the last user message's text */
    /* embeddings */
    size_t ninputs;
    uint32_t dimensions;
    int base64;             /* encoding_format "base64" */
    struct json_object *input; /* borrowed */
} llm_req_t;

/* Each: 0, or -1 with a message naming the field appended to err. o is
 * borrowed; r->last_user must point at a buffer (reset here). */
int llm_req_openai(struct json_object *o, llm_req_t *r, gw_buf_t *err);
int llm_req_anthropic(struct json_object *o, llm_req_t *r, gw_buf_t *err);
int llm_req_embeddings(struct json_object *o, llm_req_t *r, gw_buf_t *err);

#endif
