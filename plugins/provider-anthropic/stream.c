/* stream.c - provider-anthropic: Anthropic Messages stream events
 * translated, one by one, into OpenAI chat.completion.chunk objects.
 *
 * Each event that carries content becomes exactly one chunk, built as soon
 * as the event is read (never held back, never merged): message_start the
 * role delta, text_delta a content delta, a tool_use block start and each
 * input_json_delta a tool_calls delta, message_delta the finish reason.
 * Pure: any thread, one translator per call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ant.h"

#define MAX_BLOCKS 65536 /* content blocks of one message; beyond is a broken upstream */

void ant_stream_init(ant_stream_t *s, const char *model, int include_usage)
{
    memset(s, 0, sizeof *s);
    s->model = model;
    s->include_usage = include_usage;
    s->prompt_tokens = s->completion_tokens = -1;
}

void ant_stream_reset(ant_stream_t *s)
{
    ant_buf_clear(&s->head, SSE_KEEP_BYTES);
    ant_buf_clear(&s->out, SSE_KEEP_BYTES);
    s->nblocks = 0;
    s->ntools = 0;
    s->started = s->ended = 0;
    s->prompt_tokens = s->completion_tokens = -1;
    s->err_class = 0;
    s->msg[0] = '\0';
}

void ant_stream_free(ant_stream_t *s)
{
    ant_buf_free(&s->head);
    ant_buf_free(&s->out);
    free(s->tool_of_block);
    memset(s, 0, sizeof *s);
}

static int bad(ant_stream_t *s, const char *what)
{
    snprintf(s->msg, sizeof s->msg, "%s", what);
    return ANT_EV_BAD;
}

/* Starts s->out with the common head and an open delta. */
static void delta_begin(ant_stream_t *s)
{
    ant_buf_clear(&s->out, SSE_KEEP_BYTES);
    ant_buf_append(&s->out, s->head.data, s->head.len);
    ant_buf_puts(&s->out, ",\"choices\":[{\"index\":0,\"delta\":");
}

/* Closes the delta and the chunk. */
static int delta_end(ant_stream_t *s, const char *finish)
{
    if (finish != NULL)
        ant_buf_printf(&s->out, ",\"finish_reason\":\"%s\"}]}", finish);
    else
        ant_buf_puts(&s->out, ",\"finish_reason\":null}]}");
    if (s->out.oom || s->head.oom)
        return bad(s, "out of memory building a chunk");
    return ANT_EV_CHUNK;
}

static int content_chunk(ant_stream_t *s, json_object *text)
{
    delta_begin(s);
    ant_buf_puts(&s->out, "{\"content\":");
    ant_buf_json_str(&s->out, json_object_get_string(text),
                     (size_t)json_object_get_string_len(text));
    ant_buf_puts(&s->out, "}");
    return delta_end(s, NULL);
}

static int message_start(ant_stream_t *s, json_object *root, int64_t created)
{
    json_object *m = ant_member(root, "message");
    const char *id = ant_str_member(m, "id");
    const char *model = ant_str_member(m, "model");
    if (model == NULL)
        model = s->model ? s->model : "";
    ant_read_usage(ant_member(m, "usage"), &s->prompt_tokens, &s->completion_tokens);
    ant_buf_clear(&s->head, SSE_KEEP_BYTES);
    ant_buf_puts(&s->head, "{\"id\":");
    ant_buf_json_str(&s->head, id ? id : "msg", strlen(id ? id : "msg"));
    ant_buf_printf(&s->head, ",\"object\":\"chat.completion.chunk\",\"created\":%lld,\"model\":",
                   (long long)created);
    ant_buf_json_str(&s->head, model, strlen(model));
    s->started = 1;
    s->nblocks = 0;
    s->ntools = 0;
    delta_begin(s);
    ant_buf_puts(&s->out, "{\"role\":\"assistant\",\"content\":\"\"}");
    return delta_end(s, NULL);
}

/* The block index of an event, or -1 when it has none that fits. */
static int block_index(json_object *root)
{
    json_object *v = ant_member(root, "index");
    if (v == NULL || !json_object_is_type(v, json_type_int))
        return -1;
    int64_t i = json_object_get_int64(v);
    return i >= 0 && i < MAX_BLOCKS ? (int)i : -1;
}

/* Records what block `index` is: the tool call it carries, or -1. */
static int set_block(ant_stream_t *s, int index, int tool)
{
    if ((size_t)index >= s->cap_blocks) {
        size_t cap = s->cap_blocks ? s->cap_blocks : 8;
        while (cap <= (size_t)index)
            cap *= 2;
        int *t = realloc(s->tool_of_block, cap * sizeof *t);
        if (t == NULL)
            return -1;
        s->tool_of_block = t;
        s->cap_blocks = cap;
    }
    while (s->nblocks <= (size_t)index)
        s->tool_of_block[s->nblocks++] = -1;
    s->tool_of_block[index] = tool;
    return 0;
}

static int block_start(ant_stream_t *s, json_object *root)
{
    int index = block_index(root);
    json_object *block = ant_member(root, "content_block");
    const char *type = ant_str_member(block, "type");
    if (index < 0 || type == NULL)
        return bad(s, "a content_block_start without index or content_block.type");
    int is_tool = strcmp(type, "tool_use") == 0;
    if (set_block(s, index, is_tool ? s->ntools : -1) != 0)
        return bad(s, "out of memory reading the stream");
    if (strcmp(type, "text") == 0) {
        json_object *text = ant_member(block, "text");
        if (text != NULL && json_object_is_type(text, json_type_string) &&
            json_object_get_string_len(text) > 0)
            return content_chunk(s, text); /* usually "": its text comes in deltas */
        return ANT_EV_NONE;
    }
    if (!is_tool)
        return ANT_EV_NONE; /* thinking, server tools: nothing OpenAI can show */
    const char *id = ant_str_member(block, "id"), *name = ant_str_member(block, "name");
    if (id == NULL || name == NULL)
        return bad(s, "a tool_use block without id or name");
    delta_begin(s);
    ant_buf_printf(&s->out, "{\"tool_calls\":[{\"index\":%d,\"id\":", s->ntools++);
    ant_buf_json_str(&s->out, id, strlen(id));
    ant_buf_puts(&s->out, ",\"type\":\"function\",\"function\":{\"name\":");
    ant_buf_json_str(&s->out, name, strlen(name));
    ant_buf_puts(&s->out, ",\"arguments\":\"\"}}]}");
    return delta_end(s, NULL);
}

static int block_delta(ant_stream_t *s, json_object *root)
{
    json_object *delta = ant_member(root, "delta");
    const char *type = ant_str_member(delta, "type");
    if (type == NULL)
        return bad(s, "a content_block_delta without delta.type");
    if (strcmp(type, "text_delta") == 0) {
        json_object *text = ant_member(delta, "text");
        if (text == NULL || !json_object_is_type(text, json_type_string))
            return bad(s, "a text_delta without text");
        return content_chunk(s, text);
    }
    if (strcmp(type, "input_json_delta") != 0)
        return ANT_EV_NONE; /* thinking_delta, signature_delta, citations_delta */
    json_object *part = ant_member(delta, "partial_json");
    int index = block_index(root);
    if (part == NULL || !json_object_is_type(part, json_type_string))
        return bad(s, "an input_json_delta without partial_json");
    if (index < 0 || (size_t)index >= s->nblocks || s->tool_of_block[index] < 0)
        return bad(s, "an input_json_delta for a block that is not a tool_use block");
    delta_begin(s);
    ant_buf_printf(&s->out, "{\"tool_calls\":[{\"index\":%d,\"function\":{\"arguments\":",
                   s->tool_of_block[index]);
    ant_buf_json_str(&s->out, json_object_get_string(part),
                     (size_t)json_object_get_string_len(part));
    ant_buf_puts(&s->out, "}}]}");
    return delta_end(s, NULL);
}

static int message_delta(ant_stream_t *s, json_object *root)
{
    ant_read_usage(ant_member(root, "usage"), &s->prompt_tokens, &s->completion_tokens);
    s->ended = 1;
    delta_begin(s);
    ant_buf_puts(&s->out, "{}");
    return delta_end(s, ant_finish_reason(ant_str_member(ant_member(root, "delta"),
                                                         "stop_reason")));
}

/* message_stop: the usage chunk when the client asked for one (OpenAI's
 * stream_options.include_usage shape: no choices). */
static int message_stop(ant_stream_t *s)
{
    ant_buf_clear(&s->out, SSE_KEEP_BYTES);
    if (!s->include_usage || s->prompt_tokens < 0 || s->completion_tokens < 0)
        return ANT_EV_DONE;
    ant_buf_append(&s->out, s->head.data, s->head.len);
    ant_buf_printf(&s->out, ",\"choices\":[],\"usage\":{\"prompt_tokens\":%lld,"
                            "\"completion_tokens\":%lld,\"total_tokens\":%lld}}",
                   (long long)s->prompt_tokens, (long long)s->completion_tokens,
                   (long long)(s->prompt_tokens + s->completion_tokens));
    if (s->out.oom)
        return bad(s, "out of memory building the usage chunk");
    return ANT_EV_DONE;
}

static int dispatch(ant_stream_t *s, const char *type, json_object *root, int64_t created)
{
    if (strcmp(type, "error") == 0) {
        json_object *e = ant_member(root, "error");
        s->err_class = ant_class_of_error_type(ant_str_member(e, "type"));
        ant_error_of(e != NULL ? e : root, s->msg, sizeof s->msg);
        return ANT_EV_ERROR;
    }
    if (strcmp(type, "message_start") == 0)
        return message_start(s, root, created);
    if (strcmp(type, "ping") == 0)
        return ANT_EV_NONE;
    int content = strcmp(type, "content_block_start") == 0 ||
                  strcmp(type, "content_block_delta") == 0 ||
                  strcmp(type, "content_block_stop") == 0 ||
                  strcmp(type, "message_delta") == 0 || strcmp(type, "message_stop") == 0;
    if (!content)
        return ANT_EV_NONE; /* a new event type: Anthropic asks clients to ignore them */
    if (!s->started) {
        snprintf(s->msg, sizeof s->msg, "a %s event before message_start", type);
        return ANT_EV_BAD;
    }
    if (strcmp(type, "content_block_start") == 0)
        return block_start(s, root);
    if (strcmp(type, "content_block_delta") == 0)
        return block_delta(s, root);
    if (strcmp(type, "message_delta") == 0)
        return message_delta(s, root);
    if (strcmp(type, "message_stop") == 0)
        return message_stop(s);
    return ANT_EV_NONE; /* content_block_stop */
}

int ant_stream_event(ant_stream_t *s, const char *event, const char *data, size_t len,
                     int64_t created)
{
    json_object *root = ant_json_parse(data, len);
    if (root == NULL || !json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        snprintf(s->msg, sizeof s->msg, "a stream event that is not a JSON object: %.60s",
                 data);
        for (char *c = s->msg; *c; c++)
            if ((unsigned char)*c < 0x20)
                *c = ' ';
        return ANT_EV_BAD;
    }
    /* The data's own type names the event; the event: line is the fallback. */
    const char *type = ant_str_member(root, "type");
    if (strcmp(event, "error") == 0 || type == NULL)
        type = event;
    int rc = dispatch(s, type, root, created);
    json_object_put(root);
    return rc;
}
