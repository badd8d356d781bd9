/* mock.h - provider-mock: types shared by the plugin's files. Not part of
 * the SDK.
 *
 * Threads (the descriptor has OC_PLUGIN_F_MULTI_LOOP): mock_state_t is
 * written by init only; while calls run it is read-only except its atomics
 * (the call counter behind failFirst, and the stop gate). A mock_call_t
 * belongs to the loop that called chat: its timers live there. */
#ifndef MOCK_H
#define MOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <openclaw/plugin.h>

#define MOCK_NAME "provider-mock"
#define MOCK_VERSION "1.0.0"
#define MOCK_DEFAULT_REPLY "mock: {{last}}"
#define MOCK_DEFAULT_MODEL "mock"
#define MOCK_MAX_LATENCY_MS 600000
#define MOCK_MAX_CHUNKS 10000
#define MOCK_JSON_DEPTH 128

/* ---- a growable string ------------------------------------------------- */

typedef struct mock_buf_s {
    char *data; /* NUL-terminated when not NULL */
    size_t len, cap;
    int oom;    /* an append failed: the content is incomplete */
} mock_buf_t;

void mock_buf_append(mock_buf_t *b, const char *s, size_t n);
void mock_buf_puts(mock_buf_t *b, const char *s);
void mock_buf_printf(mock_buf_t *b, const char *fmt, ...) OC_PRINTF(2, 3);
/* s (n bytes) as a JSON string literal, quotes included. */
void mock_buf_json_str(mock_buf_t *b, const char *s, size_t n);
void mock_buf_free(mock_buf_t *b);

/* ---- the reply template ------------------------------------------------ */

#define MOCK_SEG_TEXT 1
#define MOCK_SEG_LAST 2  /* {{last}} */
#define MOCK_SEG_COUNT 3 /* {{count}} */
#define MOCK_SEG_MODEL 4 /* {{model}} */

typedef struct mock_seg_s {
    int kind;
    size_t off, len; /* MOCK_SEG_TEXT: the bytes of the template */
} mock_seg_t;

typedef struct mock_template_s {
    char *text; /* owned copy of the template */
    mock_seg_t *segs;
    size_t nsegs;
} mock_template_t;

/* Splits `text` into segments. Returns 0, or -1 with the problem in err
 * (an unknown or unclosed placeholder). */
int mock_template_parse(mock_template_t *t, const char *text, char *err, size_t errlen);
void mock_template_render(const mock_template_t *t, const char *last, size_t count,
                          const char *model, mock_buf_t *out);
void mock_template_free(mock_template_t *t);

/* ---- what the mock reads from a request ------------------------------- */

typedef struct mock_prompt_s {
    size_t count;     /* messages in the request */
    char *last;       /* text of the last user message, owned ("" when none) */
    int64_t words;    /* whitespace-separated words over every message's text */
    int include_usage; /* stream_options.include_usage was true */
    int messages_ok;  /* "messages" is an array */
} mock_prompt_t;

/* Parses the request body. Returns OC_OK, OC_EINVAL (not a JSON object) or
 * OC_ENOMEM. */
int32_t mock_prompt_read(const char *body, size_t len, mock_prompt_t *p);
void mock_prompt_free(mock_prompt_t *p);
/* Whitespace-separated words in s. */
int64_t mock_count_words(const char *s, size_t len);

/* ---- state ------------------------------------------------------------- */

typedef struct mock_config_s {
    mock_template_t reply;
    char *model;   /* default model, owned */
    char **models; /* NULL-terminated, owned */
    uint32_t latency_ms;
    uint32_t chunk_interval_ms;
    uint32_t stream_chunks;
    uint32_t fail_status;
    uint64_t fail_first;
} mock_config_t;

typedef struct mock_state_s {
    const oc_host_api_t *host;
    oc_plugin_t *self;
    mock_config_t cfg;
    pthread_t home;
    atomic_uint_fast64_t calls; /* chat calls accepted so far (failFirst) */
    atomic_uint gate;           /* (live calls << 1) | stopping; see plugin.c */
    oc_stop_done_cb stop_done;
    void *stop_data;
} mock_state_t;

/* plugin.c */
int mock_call_begin(mock_state_t *st);
void mock_call_ended(mock_state_t *st); /* st may be gone afterwards */

/* reply.c: OpenAI JSON for a reply. */
void mock_reply_completion(mock_buf_t *b, const char *id, int64_t created, const char *model,
                           const char *content, size_t len, int64_t prompt, int64_t completion);
/* A chat.completion.chunk: role != NULL: the role delta; content != NULL:
 * a content delta; finish != NULL: the last choice chunk; usage (prompt >=
 * 0) with no choice: the usage chunk. */
void mock_reply_chunk(mock_buf_t *b, const char *id, int64_t created, const char *model,
                      const char *role, const char *content, size_t len, const char *finish,
                      int64_t prompt, int64_t completion);
/* The byte offset where piece k of n ends when `s` is cut into n pieces of
 * (nearly) equal code point counts. */
size_t mock_split_at(const char *s, size_t len, size_t k, size_t n);
size_t mock_code_points(const char *s, size_t len);
/* OC_PROV_ERR_* of an HTTP-like status, as provider-openai classifies it. */
int32_t mock_class_of_status(int status);
int32_t mock_status_of_class(int32_t cls);

/* call.c */
int32_t mock_chat(void *state, const oc_chat_request_t *req, const oc_chat_callbacks_t *cbs,
                  void *data, oc_provider_call_t **call);
void mock_cancel(void *state, oc_provider_call_t *call);

#endif
