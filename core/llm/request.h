/* llm/request.h - parsing and validating the bodies of POST
 * /v1/chat/completions and POST /v1/responses (OpenAI's shapes and
 * ranges). Every problem becomes one error naming the parameter, in the
 * OpenAI error shape's terms (gw_llm_err_t); the body is parsed once and
 * the parse kept for what the handlers need next.
 *
 * Threads: none shared; call from any thread. */
#ifndef GW_LLM_REQUEST_H
#define GW_LLM_REQUEST_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* A refusal: HTTP status (400, or 404 for an unknown model), and the
 * OpenAI error's members. param and code are static strings or NULL. */
typedef struct gw_llm_err_s {
    int status;
    const char *type;  /* "invalid_request_error" */
    const char *param; /* the offending parameter ("temperature", "messages[2].role") or NULL */
    char param_buf[96];
    const char *code;  /* "invalid_value", "missing_required_parameter", ... or NULL */
    char message[320];
} gw_llm_err_t;

/* POST /v1/chat/completions */
typedef struct gw_llm_chat_s {
    json_object *root;     /* owned: the parsed body */
    const char *model;     /* borrowed from root */
    int stream;            /* "stream": true */
    int include_usage;     /* stream_options.include_usage */
    const char *user;      /* "user" or NULL */
    int has_tools;         /* non-empty "tools" */
} gw_llm_chat_t;

/* Parses and checks len bytes of body. 0 and *out (free with
 * gw_llm_chat_free), or -1 with err filled. */
int gw_llm_chat_parse(const char *body, size_t len, gw_llm_chat_t *out, gw_llm_err_t *err);
void gw_llm_chat_free(gw_llm_chat_t *c);

/* For agent turns: the text of the last "user" message (string content, or
 * its text parts joined with a space) into text, and the system and
 * developer messages' texts (joined with a blank line) into system.
 * 0, or -1 with err filled when there is no user message with text. */
int gw_llm_chat_prompt(const gw_llm_chat_t *c, gw_buf_t *text, gw_buf_t *system,
                       gw_llm_err_t *err);

/* The sampling members of a request a turn forwards (temperature, top_p,
 * max_tokens, max_completion_tokens, stop, presence_penalty,
 * frequency_penalty, seed) as a JSON object text ("{}" when none); malloc'd,
 * NULL on ENOMEM. */
char *gw_llm_sampling_json(json_object *root);

/* POST /v1/responses (a subset: text input) */
typedef struct gw_llm_resp_req_s {
    json_object *root;     /* owned */
    const char *model;     /* borrowed from root */
    int stream;
    const char *user;      /* or NULL */
    char *chat_body;       /* owned: the equivalent chat.completions request */
    size_t chat_len;
    char *prompt;          /* owned: the last user input's text (agent turns) */
    char *system;          /* owned: instructions and system/developer input, or NULL */
    double temperature, top_p; /* < 0 when not given */
    int64_t max_output_tokens; /* 0 when not given */
    const char *instructions; /* borrowed from root, or NULL */
} gw_llm_resp_req_t;

int gw_llm_resp_parse(const char *body, size_t len, gw_llm_resp_req_t *out, gw_llm_err_t *err);
void gw_llm_resp_free(gw_llm_resp_req_t *r);

/* Fills err (printf-style message). Returns -1. */
int gw_llm_err(gw_llm_err_t *err, int status, const char *param, const char *code,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
