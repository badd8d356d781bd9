/* response.c - provider-anthropic: a non-streamed Anthropic message
 * translated into an OpenAI chat.completion. Pure: any thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ant.h"

const char *ant_finish_reason(const char *r)
{
    if (r == NULL)
        return "stop";
    if (strcmp(r, "max_tokens") == 0 || strcmp(r, "model_context_window_exceeded") == 0)
        return "length";
    if (strcmp(r, "tool_use") == 0)
        return "tool_calls";
    if (strcmp(r, "refusal") == 0)
        return "content_filter";
    return "stop"; /* end_turn, stop_sequence, pause_turn, and any new reason */
}

static int64_t int_member(json_object *o, const char *key)
{
    json_object *v = ant_member(o, key);
    return v != NULL && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
}

void ant_read_usage(json_object *usage, int64_t *prompt, int64_t *completion)
{
    int64_t in = int_member(usage, "input_tokens");
    int64_t cw = int_member(usage, "cache_creation_input_tokens");
    int64_t cr = int_member(usage, "cache_read_input_tokens");
    int64_t out = int_member(usage, "output_tokens");
    if (in >= 0)
        *prompt = in + (cw > 0 ? cw : 0) + (cr > 0 ? cr : 0);
    if (out >= 0)
        *completion = out;
}

/* One tool_use block as an OpenAI tool call. Returns -1 when it is not
 * one we can translate. */
static int tool_call(ant_buf_t *b, json_object *block, size_t n)
{
    const char *id = ant_str_member(block, "id"), *name = ant_str_member(block, "name");
    json_object *input = ant_member(block, "input");
    if (id == NULL || name == NULL)
        return -1;
    size_t alen = 2;
    char *args = input ? ant_json_dump(input, &alen) : NULL;
    if (input != NULL && args == NULL)
        b->oom = 1;
    ant_buf_puts(b, n == 0 ? ",\"tool_calls\":[" : ",");
    ant_buf_puts(b, "{\"id\":");
    ant_buf_json_str(b, id, strlen(id));
    ant_buf_puts(b, ",\"type\":\"function\",\"function\":{\"name\":");
    ant_buf_json_str(b, name, strlen(name));
    ant_buf_puts(b, ",\"arguments\":");
    ant_buf_json_str(b, args ? args : "{}", args ? alen : 2);
    ant_buf_puts(b, "}}");
    free(args);
    return 0;
}

int32_t ant_response_translate(const char *body, size_t len, const char *model, int64_t created,
                               char **out, size_t *out_len, int64_t *prompt, int64_t *completion,
                               char *err, size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    *prompt = *completion = -1;
    json_object *root = ant_json_parse(body, len);
    if (root == NULL || !json_object_is_type(root, json_type_object)) {
        snprintf(err, errlen, "the upstream's answer is not a JSON object");
        json_object_put(root);
        return OC_PROV_ERR_SERVER;
    }
    const char *type = ant_str_member(root, "type");
    json_object *e = ant_member(root, "error");
    if ((type != NULL && strcmp(type, "error") == 0) ||
        (e != NULL && !json_object_is_type(e, json_type_null))) {
        char msg[ANT_ERR_MAX / 2];
        ant_error_of(e, msg, sizeof msg);
        snprintf(err, errlen, "the upstream answered with an error: %s", msg);
        int32_t cls = ant_class_of_error_type(ant_str_member(e, "type"));
        json_object_put(root);
        return cls;
    }
    json_object *content = ant_member(root, "content");
    if ((type != NULL && strcmp(type, "message") != 0) || content == NULL ||
        !json_object_is_type(content, json_type_array)) {
        snprintf(err, errlen, "the upstream's answer is not a message with a content array");
        json_object_put(root);
        return OC_PROV_ERR_SERVER;
    }
    /* Text blocks joined; tool_use blocks as tool calls; the rest (thinking,
     * server tool blocks) has no OpenAI equivalent and is left out. */
    ant_buf_t text = {0}, calls = {0};
    size_t ncalls = 0;
    int bad = 0;
    for (size_t i = 0; i < json_object_array_length(content); i++) {
        json_object *block = json_object_array_get_idx(content, i);
        const char *bt = ant_str_member(block, "type");
        if (bt != NULL && strcmp(bt, "text") == 0) {
            json_object *t = ant_member(block, "text");
            if (t != NULL && json_object_is_type(t, json_type_string))
                ant_buf_append(&text, json_object_get_string(t),
                               (size_t)json_object_get_string_len(t));
        } else if (bt != NULL && strcmp(bt, "tool_use") == 0) {
            if (tool_call(&calls, block, ncalls++) != 0)
                bad = 1;
        }
    }
    ant_read_usage(ant_member(root, "usage"), prompt, completion);
    const char *id = ant_str_member(root, "id");
    const char *m = ant_str_member(root, "model");
    ant_buf_t b = {0};
    ant_buf_puts(&b, "{\"id\":");
    ant_buf_json_str(&b, id ? id : "msg", strlen(id ? id : "msg"));
    ant_buf_printf(&b, ",\"object\":\"chat.completion\",\"created\":%lld,\"model\":",
                   (long long)created);
    ant_buf_json_str(&b, m ? m : model, strlen(m ? m : model));
    ant_buf_puts(&b, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                     "\"content\":");
    if (text.len == 0 && ncalls > 0)
        ant_buf_puts(&b, "null");
    else
        ant_buf_json_str(&b, text.data ? text.data : "", text.len);
    if (ncalls > 0) {
        ant_buf_append(&b, calls.data, calls.len);
        ant_buf_puts(&b, "]");
    }
    ant_buf_printf(&b, "},\"logprobs\":null,\"finish_reason\":\"%s\"}]",
                   ant_finish_reason(ant_str_member(root, "stop_reason")));
    if (*prompt >= 0 && *completion >= 0)
        ant_buf_printf(&b, ",\"usage\":{\"prompt_tokens\":%lld,\"completion_tokens\":%lld,"
                           "\"total_tokens\":%lld}",
                       (long long)*prompt, (long long)*completion,
                       (long long)(*prompt + *completion));
    ant_buf_puts(&b, "}");
    int oom = b.oom || text.oom || calls.oom;
    ant_buf_free(&text);
    ant_buf_free(&calls);
    json_object_put(root);
    if (bad || oom) {
        snprintf(err, errlen, oom ? "out of memory translating the answer"
                                  : "the upstream's answer has a tool_use block without id or "
                                    "name");
        ant_buf_free(&b);
        *prompt = *completion = -1;
        return OC_PROV_ERR_SERVER;
    }
    *out = b.data;
    *out_len = b.len;
    return OC_PROV_ERR_NONE;
}
