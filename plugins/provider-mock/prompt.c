/* prompt.c - provider-mock: what the mock reads from a request body.
 *
 * A message's text is its content when that is a string, or its text parts
 * ({"type":"text","text":...}) joined with one space when it is an array;
 * other parts (images, audio) and null content count as no text. */
#include <ctype.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

int64_t mock_count_words(const char *s, size_t len)
{
    int64_t n = 0;
    int in_word = 0;
    for (size_t i = 0; i < len; i++) {
        int sp = isspace((unsigned char)s[i]);
        if (!sp && !in_word)
            n++;
        in_word = !sp;
    }
    return n;
}

static json_object *member(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o && json_object_is_type(o, json_type_object))
        json_object_object_get_ex(o, key, &v);
    return v;
}

/* The text of one message's content into out (appended). */
static void content_text(json_object *content, mock_buf_t *out)
{
    if (json_object_is_type(content, json_type_string)) {
        mock_buf_append(out, json_object_get_string(content),
                        (size_t)json_object_get_string_len(content));
        return;
    }
    if (!json_object_is_type(content, json_type_array))
        return;
    int first = 1;
    for (size_t i = 0; i < json_object_array_length(content); i++) {
        json_object *part = json_object_array_get_idx(content, i);
        json_object *type = member(part, "type"), *text = member(part, "text");
        if (type == NULL || strcmp(json_object_get_string(type), "text") != 0 ||
            !json_object_is_type(text, json_type_string))
            continue;
        if (!first)
            mock_buf_append(out, " ", 1);
        first = 0;
        mock_buf_append(out, json_object_get_string(text),
                        (size_t)json_object_get_string_len(text));
    }
}

int32_t mock_prompt_read(const char *body, size_t len, mock_prompt_t *p)
{
    memset(p, 0, sizeof *p);
    if (body == NULL || len == 0 || len > INT32_MAX)
        return OC_EINVAL;
    json_tokener *tok = json_tokener_new_ex(MOCK_JSON_DEPTH);
    if (tok == NULL)
        return OC_ENOMEM;
    json_object *root = json_tokener_parse_ex(tok, body, (int)len);
    int ok = root != NULL && json_tokener_get_error(tok) == json_tokener_success &&
             json_object_is_type(root, json_type_object);
    json_tokener_free(tok);
    if (!ok) {
        json_object_put(root);
        return OC_EINVAL;
    }
    json_object *so = member(member(root, "stream_options"), "include_usage");
    p->include_usage = so != NULL && json_object_get_boolean(so);
    json_object *msgs = member(root, "messages");
    p->messages_ok = json_object_is_type(msgs, json_type_array);
    p->count = p->messages_ok ? json_object_array_length(msgs) : 0;
    mock_buf_t last = {0};
    mock_buf_t text = {0};
    for (size_t i = 0; i < p->count; i++) {
        json_object *m = json_object_array_get_idx(msgs, i);
        text.len = 0;
        content_text(member(m, "content"), &text);
        p->words += mock_count_words(text.data ? text.data : "", text.len);
        json_object *role = member(m, "role");
        if (role && json_object_is_type(role, json_type_string) &&
            strcmp(json_object_get_string(role), "user") == 0) {
            last.len = 0;
            mock_buf_append(&last, text.data ? text.data : "", text.len);
        }
    }
    int oom = last.oom || text.oom;
    mock_buf_free(&text);
    json_object_put(root);
    if (oom) {
        mock_buf_free(&last);
        return OC_ENOMEM;
    }
    p->last = last.data ? last.data : strdup("");
    return p->last ? OC_OK : OC_ENOMEM;
}

void mock_prompt_free(mock_prompt_t *p)
{
    free(p->last);
    memset(p, 0, sizeof *p);
}
