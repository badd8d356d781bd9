/* llm/oai_json.c - see oai_json.h. */
#include "llm/oai_json.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void json_str_or_null(gw_buf_t *b, const char *s)
{
    if (s)
        gw_buf_json_str(b, s);
    else
        gw_buf_puts(b, "null");
}

int gw_llm_error_json(gw_buf_t *b, const char *message, const char *type, const char *param,
                      const char *code)
{
    gw_buf_puts(b, "{\"error\":{\"message\":");
    gw_buf_json_str(b, message ? message : "error");
    gw_buf_puts(b, ",\"type\":");
    gw_buf_json_str(b, type ? type : "invalid_request_error");
    gw_buf_puts(b, ",\"param\":");
    json_str_or_null(b, param);
    gw_buf_puts(b, ",\"code\":");
    json_str_or_null(b, code);
    return gw_buf_puts(b, "}}");
}

int gw_llm_err_json(gw_buf_t *b, const gw_llm_err_t *err)
{
    return gw_llm_error_json(b, err->message, err->type, err->param, err->code);
}

void gw_llm_id(char *out, size_t len, const char *prefix)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char rnd[12];
    if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) != 0) {
        /* Ids need to be unique, not secret: fall back to the clock. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        memcpy(rnd, &ts.tv_sec, 4);
        memcpy(rnd + 4, &ts.tv_nsec, 4);
        memcpy(rnd + 8, &out, 4);
    }
    size_t n = (size_t)snprintf(out, len, "%s", prefix);
    for (size_t i = 0; i < sizeof(rnd) && n + 2 < len; i++) {
        out[n++] = hex[rnd[i] >> 4];
        out[n++] = hex[rnd[i] & 15];
    }
    if (n < len)
        out[n] = '\0';
}

static void head(gw_buf_t *b, const char *object, const char *id, int64_t created,
                 const char *model)
{
    gw_buf_puts(b, "{\"id\":");
    gw_buf_json_str(b, id);
    gw_buf_printf(b, ",\"object\":\"%s\",\"created\":%lld,\"model\":", object,
                  (long long)created);
    gw_buf_json_str(b, model);
}

static void usage(gw_buf_t *b, int64_t ptok, int64_t ctok)
{
    gw_buf_printf(b, "{\"prompt_tokens\":%lld,\"completion_tokens\":%lld,\"total_tokens\":%lld}",
                  (long long)ptok, (long long)ctok, (long long)(ptok + ctok));
}

int gw_llm_completion_json(gw_buf_t *b, const char *id, int64_t created, const char *model,
                           const char *text, size_t len, const char *finish, int64_t ptok,
                           int64_t ctok)
{
    head(b, "chat.completion", id, created, model);
    gw_buf_puts(b, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
    gw_buf_json_strn(b, text ? text : "", text ? len : 0);
    gw_buf_puts(b, "},\"finish_reason\":");
    gw_buf_json_str(b, finish ? finish : "stop");
    gw_buf_puts(b, "}]");
    if (ptok >= 0 && ctok >= 0) {
        gw_buf_puts(b, ",\"usage\":");
        usage(b, ptok, ctok);
    }
    return gw_buf_puts(b, "}");
}

int gw_llm_chunk_json(gw_buf_t *b, const char *id, int64_t created, const char *model,
                      const char *role, const char *content, size_t len, const char *finish)
{
    head(b, "chat.completion.chunk", id, created, model);
    gw_buf_puts(b, ",\"choices\":[{\"index\":0,\"delta\":{");
    if (role) {
        gw_buf_puts(b, "\"role\":");
        gw_buf_json_str(b, role);
    }
    if (content) {
        gw_buf_puts(b, role ? ",\"content\":" : "\"content\":");
        gw_buf_json_strn(b, content, len);
    }
    gw_buf_puts(b, "},\"finish_reason\":");
    json_str_or_null(b, finish);
    return gw_buf_puts(b, "}]}");
}

int gw_llm_usage_chunk_json(gw_buf_t *b, const char *id, int64_t created, const char *model,
                            int64_t ptok, int64_t ctok)
{
    head(b, "chat.completion.chunk", id, created, model);
    gw_buf_puts(b, ",\"choices\":[],\"usage\":");
    usage(b, ptok < 0 ? 0 : ptok, ctok < 0 ? 0 : ctok);
    return gw_buf_puts(b, "}");
}

/* ---- reading upstream answers ---- */

static json_object *parse(const char *json, size_t len)
{
    json_tokener *tok = json_tokener_new();
    if (tok == NULL)
        return NULL;
    json_object *o = json_tokener_parse_ex(tok, json, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    if (o && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    return o;
}

static json_object *member(json_object *o, const char *k)
{
    json_object *v;
    return o && json_object_object_get_ex(o, k, &v) && !json_object_is_type(v, json_type_null)
               ? v
               : NULL;
}

/* The static name of a finish reason (the parse's strings die with it). */
static const char *finish_name(json_object *v)
{
    static const char *const known[] = {"stop", "length", "tool_calls", "content_filter",
                                        "function_call", NULL};
    if (v == NULL || !json_object_is_type(v, json_type_string))
        return NULL;
    const char *s = json_object_get_string(v);
    for (size_t i = 0; known[i]; i++)
        if (strcmp(s, known[i]) == 0)
            return known[i];
    return "stop";
}

static void read_usage(json_object *o, int64_t *ptok, int64_t *ctok)
{
    json_object *u = member(o, "usage"), *v;
    *ptok = *ctok = -1;
    if (u == NULL)
        return;
    if ((v = member(u, "prompt_tokens")) != NULL)
        *ptok = json_object_get_int64(v);
    if ((v = member(u, "completion_tokens")) != NULL)
        *ctok = json_object_get_int64(v);
}

int gw_llm_chunk_read(const char *json, size_t len, gw_buf_t *text, gw_llm_delta_t *out)
{
    memset(out, 0, sizeof(*out));
    out->ptok = out->ctok = -1;
    json_object *o = parse(json, len);
    if (o == NULL)
        return -1;
    out->is_error = member(o, "error") != NULL;
    json_object *choices = member(o, "choices");
    json_object *c0 = choices && json_object_is_type(choices, json_type_array) &&
                              json_object_array_length(choices) > 0
                          ? json_object_array_get_idx(choices, 0)
                          : NULL;
    json_object *delta = member(c0, "delta");
    json_object *content = member(delta, "content");
    if (content && json_object_is_type(content, json_type_string)) {
        out->has_content = 1;
        gw_buf_append(text, json_object_get_string(content),
                      (size_t)json_object_get_string_len(content));
    }
    out->finish = finish_name(member(c0, "finish_reason"));
    read_usage(o, &out->ptok, &out->ctok);
    json_object_put(o);
    return 0;
}

int gw_llm_completion_read(const char *json, size_t len, gw_buf_t *text, const char **finish,
                           int64_t *ptok, int64_t *ctok)
{
    *finish = NULL;
    *ptok = *ctok = -1;
    json_object *o = parse(json, len);
    json_object *choices = member(o, "choices");
    json_object *c0 = choices && json_object_is_type(choices, json_type_array) &&
                              json_object_array_length(choices) > 0
                          ? json_object_array_get_idx(choices, 0)
                          : NULL;
    json_object *msg = member(c0, "message");
    if (msg == NULL || !json_object_is_type(msg, json_type_object)) {
        json_object_put(o);
        return -1;
    }
    json_object *content = member(msg, "content");
    if (content && json_object_is_type(content, json_type_string))
        gw_buf_append(text, json_object_get_string(content),
                      (size_t)json_object_get_string_len(content));
    *finish = finish_name(member(c0, "finish_reason"));
    read_usage(o, ptok, ctok);
    json_object_put(o);
    return 0;
}

/* ---- Responses API ---- */

static void part_json(gw_buf_t *b, const char *text, size_t len)
{
    gw_buf_puts(b, "{\"type\":\"output_text\",\"text\":");
    gw_buf_json_strn(b, text ? text : "", text ? len : 0);
    gw_buf_puts(b, ",\"annotations\":[]}");
}

/* The message item; text NULL: no content part yet. */
static void item_json(gw_buf_t *b, const gw_llm_resp_t *r, const char *status, const char *text,
                      size_t len)
{
    gw_buf_puts(b, "{\"id\":");
    gw_buf_json_str(b, r->msg_id);
    gw_buf_printf(b, ",\"type\":\"message\",\"status\":\"%s\",\"role\":\"assistant\","
                  "\"content\":[", status);
    if (text)
        part_json(b, text, len);
    gw_buf_puts(b, "]}");
}

static void num_or(gw_buf_t *b, double v, double def)
{
    gw_buf_printf(b, "%.17g", v >= 0 ? v : def);
}

int gw_llm_resp_json(gw_buf_t *b, const gw_llm_resp_t *r)
{
    const gw_llm_resp_req_t *q = r->req;
    gw_buf_puts(b, "{\"id\":");
    gw_buf_json_str(b, r->id);
    gw_buf_printf(b, ",\"object\":\"response\",\"created_at\":%lld,\"status\":\"%s\",\"error\":",
                  (long long)r->created, r->status);
    if (r->error_code) {
        gw_buf_puts(b, "{\"code\":");
        gw_buf_json_str(b, r->error_code);
        gw_buf_puts(b, ",\"message\":");
        gw_buf_json_str(b, r->error_message ? r->error_message : "error");
        gw_buf_puts(b, "}");
    } else {
        gw_buf_puts(b, "null");
    }
    gw_buf_puts(b, ",\"incomplete_details\":null,\"instructions\":");
    json_str_or_null(b, q ? q->instructions : NULL);
    if (q && q->max_output_tokens > 0)
        gw_buf_printf(b, ",\"max_output_tokens\":%lld", (long long)q->max_output_tokens);
    else
        gw_buf_puts(b, ",\"max_output_tokens\":null");
    gw_buf_puts(b, ",\"model\":");
    gw_buf_json_str(b, r->model);
    gw_buf_puts(b, ",\"output\":[");
    if (r->text) {
        const char *st = strcmp(r->status, "completed") == 0     ? "completed"
                         : strcmp(r->status, "in_progress") == 0 ? "in_progress"
                                                                 : "incomplete";
        item_json(b, r, st, r->text, r->text_len);
    }
    gw_buf_puts(b, "],\"parallel_tool_calls\":true,\"previous_response_id\":null,"
                   "\"reasoning\":{\"effort\":null,\"summary\":null},\"store\":false,"
                   "\"temperature\":");
    num_or(b, q ? q->temperature : -1, 1);
    gw_buf_puts(b, ",\"text\":{\"format\":{\"type\":\"text\"}},\"tool_choice\":\"auto\","
                   "\"tools\":[],\"top_p\":");
    num_or(b, q ? q->top_p : -1, 1);
    gw_buf_puts(b, ",\"truncation\":\"disabled\",\"usage\":");
    if (r->ptok >= 0 || r->ctok >= 0) {
        int64_t in = r->ptok < 0 ? 0 : r->ptok, out = r->ctok < 0 ? 0 : r->ctok;
        gw_buf_printf(b, "{\"input_tokens\":%lld,\"input_tokens_details\":{\"cached_tokens\":0},"
                      "\"output_tokens\":%lld,\"output_tokens_details\":{\"reasoning_tokens\":0},"
                      "\"total_tokens\":%lld}",
                      (long long)in, (long long)out, (long long)(in + out));
    } else {
        gw_buf_puts(b, "null");
    }
    gw_buf_puts(b, ",\"user\":");
    json_str_or_null(b, q ? q->user : NULL);
    return gw_buf_puts(b, ",\"metadata\":{}}");
}

int gw_llm_resp_event(gw_buf_t *b, const char *type, int64_t seq, const gw_llm_resp_t *r,
                      const char *delta, size_t delta_len)
{
    gw_buf_printf(b, "{\"type\":\"%s\",\"sequence_number\":%lld", type, (long long)seq);
    const char *sub = type + strlen("response.");
    if (!strcmp(sub, "created") || !strcmp(sub, "in_progress") || !strcmp(sub, "completed") ||
        !strcmp(sub, "failed")) {
        gw_buf_puts(b, ",\"response\":");
        gw_llm_resp_json(b, r);
    } else if (!strcmp(sub, "output_item.added") || !strcmp(sub, "output_item.done")) {
        int done = !strcmp(sub, "output_item.done");
        gw_buf_puts(b, ",\"output_index\":0,\"item\":");
        item_json(b, r, done ? "completed" : "in_progress", done ? r->text : NULL,
                  r->text_len);
    } else {
        gw_buf_puts(b, ",\"item_id\":");
        gw_buf_json_str(b, r->msg_id);
        gw_buf_puts(b, ",\"output_index\":0,\"content_index\":0");
        if (!strcmp(sub, "content_part.added")) {
            gw_buf_puts(b, ",\"part\":");
            part_json(b, "", 0);
        } else if (!strcmp(sub, "content_part.done")) {
            gw_buf_puts(b, ",\"part\":");
            part_json(b, r->text, r->text_len);
        } else if (!strcmp(sub, "output_text.delta")) {
            gw_buf_puts(b, ",\"delta\":");
            gw_buf_json_strn(b, delta ? delta : "", delta ? delta_len : 0);
            gw_buf_puts(b, ",\"logprobs\":[]");
        } else { /* output_text.done */
            gw_buf_puts(b, ",\"text\":");
            gw_buf_json_strn(b, r->text ? r->text : "", r->text ? r->text_len : 0);
            gw_buf_puts(b, ",\"logprobs\":[]");
        }
    }
    return gw_buf_puts(b, "}");
}
