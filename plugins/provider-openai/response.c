/* response.c - provider-openai: checks of what the upstream sent back
 * (a whole chat.completion, or one chat.completion.chunk). */
#define _GNU_SOURCE /* memmem */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "oai.h"

static json_object *parse(const char *s, size_t len)
{
    if (len > INT32_MAX)
        return NULL;
    json_tokener *tok = json_tokener_new_ex(OAI_JSON_DEPTH);
    if (tok == NULL)
        return NULL;
    json_object *o = json_tokener_parse_ex(tok, s, (int)len);
    if (o != NULL && json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

static json_object *member(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o && json_object_is_type(o, json_type_object))
        json_object_object_get_ex(o, key, &v);
    return v;
}

/* usage.prompt_tokens / completion_tokens when they are integers. */
static int read_usage(json_object *root, int64_t *prompt, int64_t *completion)
{
    json_object *u = member(root, "usage");
    if (u == NULL || !json_object_is_type(u, json_type_object))
        return 0;
    json_object *p = member(u, "prompt_tokens"), *c = member(u, "completion_tokens");
    if (p && json_object_is_type(p, json_type_int))
        *prompt = json_object_get_int64(p);
    if (c && json_object_is_type(c, json_type_int))
        *completion = json_object_get_int64(c);
    return 1;
}

/* The text of an "error" member: its message, the string itself, or its
 * JSON when it has neither. One line, at most 400 bytes. */
static int read_error(json_object *root, char *msg, size_t msglen)
{
    json_object *e = member(root, "error");
    if (e == NULL || json_object_is_type(e, json_type_null))
        return 0;
    json_object *m = member(e, "message");
    const char *s;
    if (m && json_object_is_type(m, json_type_string))
        s = json_object_get_string(m);
    else if (json_object_is_type(e, json_type_string))
        s = json_object_get_string(e);
    else
        s = json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN);
    if (msglen > 0) {
        snprintf(msg, msglen, "%.400s", s ? s : "");
        for (char *c = msg; *c; c++)
            if ((unsigned char)*c < 0x20)
                *c = ' ';
    }
    return 1;
}

int oai_response_check(const char *body, size_t len, int64_t *prompt, int64_t *completion,
                       char *err, size_t errlen)
{
    *prompt = *completion = -1;
    json_object *root = parse(body, len);
    if (root == NULL || !json_object_is_type(root, json_type_object)) {
        snprintf(err, errlen, "the upstream's answer is not a JSON object");
        json_object_put(root);
        return -1;
    }
    char msg[OAI_ERR_MAX / 2];
    if (read_error(root, msg, sizeof msg)) {
        snprintf(err, errlen, "the upstream answered with an error: %s", msg);
        json_object_put(root);
        return -1;
    }
    json_object *choices = member(root, "choices");
    json_object *c0 = choices && json_object_is_type(choices, json_type_array) &&
                              json_object_array_length(choices) > 0
                          ? json_object_array_get_idx(choices, 0)
                          : NULL;
    json_object *message = member(c0, "message");
    if (message == NULL || !json_object_is_type(message, json_type_object)) {
        snprintf(err, errlen, "the upstream's answer has no choices[0].message");
        json_object_put(root);
        return -1;
    }
    read_usage(root, prompt, completion);
    json_object_put(root);
    return 0;
}

/* First and last non-blank bytes are { and }. */
static int looks_like_object(const char *s, size_t len)
{
    size_t i = 0, j = len;
    while (i < j && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    while (j > i && (s[j - 1] == ' ' || s[j - 1] == '\t' || s[j - 1] == '\n' || s[j - 1] == '\r'))
        j--;
    return j - i >= 2 && s[i] == '{' && s[j - 1] == '}';
}

/* Whether `key` (quoted) occurs followed by ':' and a value other than
 * null. Inside JSON strings a quote is escaped, so a match is a real key
 * (or a string value followed by ':', which JSON does not allow). With
 * stream_options.include_usage every chunk has "usage":null: no parse. */
static int has_member(const char *s, size_t len, const char *key)
{
    size_t kl = strlen(key);
    const char *end = s + len, *p = s;
    while ((p = memmem(p, (size_t)(end - p), key, kl)) != NULL) {
        p += kl;
        const char *v = p;
        while (v < end && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
            v++;
        if (v == end || *v != ':')
            continue;
        v++;
        while (v < end && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
            v++;
        if (v < end && *v != 'n')
            return 1;
    }
    return 0;
}

int oai_chunk_inspect(const char *json, size_t len, int64_t *prompt, int64_t *completion,
                      char *msg, size_t msglen)
{
    if (!looks_like_object(json, len))
        return OAI_CHUNK_BAD;
    int usage = has_member(json, len, "\"usage\"");
    int error = has_member(json, len, "\"error\"");
    if (!usage && !error)
        return 0;
    json_object *root = parse(json, len);
    if (root == NULL || !json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        return OAI_CHUNK_BAD;
    }
    int flags = 0;
    if (error && read_error(root, msg, msglen))
        flags |= OAI_CHUNK_ERROR;
    if (usage && read_usage(root, prompt, completion))
        flags |= OAI_CHUNK_USAGE;
    json_object_put(root);
    return flags;
}
