/* messages.c - provider-anthropic: the OpenAI messages array as Anthropic
 * messages and a top-level system text. Pure: any thread.
 *
 * system/developer texts go to `system`; user, assistant and tool messages
 * become content blocks (text, image, tool_use, tool_result) of user and
 * assistant turns, same-role turns merged (Anthropic requires them to
 * alternate). Every refusal names the member and says what is wrong. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ant.h"

typedef struct tr_s {
    char *err;
    size_t errlen;
    json_object *messages; /* the Anthropic messages, owned */
    json_object *last;     /* content array of the last one, borrowed; NULL when none */
    const char *last_role; /* a static string */
    ant_buf_t *system;     /* system and developer texts, joined with a blank line */
} tr_t;

static int32_t refuse(tr_t *t, const char *fmt, ...) OC_PRINTF(2, 3);
static int32_t refuse(tr_t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, t->errlen, fmt, ap);
    va_end(ap);
    return OC_EINVAL;
}

/* {"type":"text","text":s} sharing s (a json string); appended to blocks.
 * An empty text is skipped: Anthropic refuses empty text blocks. */
static int32_t text_block(json_object *blocks, json_object *s)
{
    if (json_object_get_string_len(s) == 0)
        return OC_OK;
    json_object *b = json_object_new_object();
    if (b == NULL)
        return OC_ENOMEM;
    if (ant_put(b, "type", json_object_new_string("text")) ||
        ant_put(b, "text", json_object_get(s))) {
        json_object_put(b);
        return OC_ENOMEM;
    }
    return ant_push(blocks, b);
}

/* ---- images ------------------------------------------------------------- */

/* An image_url part whose URL is a base64 data: URL, as an image block. */
static int32_t image_block(tr_t *t, json_object *blocks, json_object *part, const char *where)
{
    json_object *iu = ant_member(part, "image_url");
    const char *url = ant_is(iu, json_type_string) ? json_object_get_string(iu)
                                                   : ant_str_member(iu, "url");
    if (url == NULL)
        return refuse(t, "%s.image_url.url is missing (expected a data: URL)", where);
    if (strncasecmp(url, "data:", 5) != 0)
        return refuse(t, "%s.image_url.url is not a data: URL: Anthropic gets images inline "
                         "(data:image/png;base64,...), this gateway does not fetch them", where);
    const char *comma = strchr(url, ',');
    const char *semi = strchr(url + 5, ';');
    if (comma == NULL || semi == NULL || semi > comma || comma - semi < 7 ||
        strncasecmp(comma - 7, ";base64", 7) != 0 || comma[1] == '\0')
        return refuse(t, "%s.image_url.url is not a base64 data: URL "
                         "(data:<media type>;base64,<data>)", where);
    static const char *const types[] = {"image/jpeg", "image/png", "image/gif", "image/webp"};
    size_t mlen = (size_t)(semi - (url + 5));
    const char *media = NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (mlen == strlen(types[i]) && strncasecmp(url + 5, types[i], mlen) == 0)
            media = types[i];
    if (mlen == 9 && strncasecmp(url + 5, "image/jpg", 9) == 0)
        media = "image/jpeg";
    if (media == NULL)
        return refuse(t, "%s.image_url.url has media type \"%.*s\"; Anthropic takes image/jpeg, "
                         "image/png, image/gif and image/webp", where, (int)(mlen < 40 ? mlen : 40),
                      url + 5);
    json_object *src = json_object_new_object();
    if (src == NULL || ant_put(src, "type", json_object_new_string("base64")) ||
        ant_put(src, "media_type", json_object_new_string(media)) ||
        ant_put(src, "data", json_object_new_string(comma + 1))) {
        json_object_put(src);
        return OC_ENOMEM;
    }
    json_object *b = json_object_new_object();
    if (b == NULL || ant_put(b, "type", json_object_new_string("image"))) {
        json_object_put(src);
        json_object_put(b);
        return OC_ENOMEM;
    }
    if (ant_put(b, "source", src) != OC_OK) {
        json_object_put(b);
        return OC_ENOMEM;
    }
    return ant_push(blocks, b);
}

/* ---- content ------------------------------------------------------------ */

/* A message's content (string, array of parts, or null) as blocks. Which
 * parts a role may have: user text and image_url; assistant text and
 * refusal. */
static int32_t content_blocks(tr_t *t, json_object *content, int user, const char *where,
                              json_object *blocks)
{
    if (content == NULL || ant_is(content, json_type_null))
        return OC_OK;
    if (ant_is(content, json_type_string))
        return text_block(blocks, content);
    if (!ant_is(content, json_type_array))
        return refuse(t, "%s.content must be a string or an array of parts", where);
    for (size_t j = 0; j < json_object_array_length(content); j++) {
        json_object *part = json_object_array_get_idx(content, j);
        const char *type = ant_str_member(part, "type");
        char at[96];
        snprintf(at, sizeof at, "%s.content[%zu]", where, j);
        int32_t rc;
        if (type == NULL) {
            rc = refuse(t, "%s has no \"type\" (expected a part like {type: text, text: ...})",
                        at);
        } else if (strcmp(type, "text") == 0 || (!user && strcmp(type, "refusal") == 0)) {
            json_object *s = ant_member(part, type);
            rc = ant_is(s, json_type_string)
                     ? text_block(blocks, s)
                     : refuse(t, "%s.%s must be a string", at, type);
        } else if (user && strcmp(type, "image_url") == 0) {
            rc = image_block(t, blocks, part, at);
        } else {
            rc = refuse(t, "%s has type \"%.40s\", which cannot be sent to Anthropic (%s)", at,
                        type, user ? "text and image_url parts only" : "text parts only");
        }
        if (rc != OC_OK)
            return rc;
    }
    return OC_OK;
}

/* The text pieces of a system/developer message, into t->system-> */
static int32_t system_text(tr_t *t, json_object *content, const char *where)
{
    json_object *pieces = json_object_new_array();
    if (pieces == NULL)
        return OC_ENOMEM;
    int32_t rc = content_blocks(t, content, 0, where, pieces);
    for (size_t j = 0; rc == OC_OK && j < json_object_array_length(pieces); j++) {
        json_object *s = ant_member(json_object_array_get_idx(pieces, j), "text");
        if (t->system->len > 0)
            ant_buf_puts(t->system, "\n\n");
        ant_buf_append(t->system, json_object_get_string(s),
                       (size_t)json_object_get_string_len(s));
    }
    json_object_put(pieces);
    if (rc == OC_OK && t->system->oom)
        rc = OC_ENOMEM;
    return rc;
}

/* An assistant's tool_calls as tool_use blocks. */
static int32_t tool_uses(tr_t *t, json_object *calls, const char *where, json_object *blocks)
{
    if (calls == NULL || ant_is(calls, json_type_null))
        return OC_OK;
    if (!ant_is(calls, json_type_array))
        return refuse(t, "%s.tool_calls must be an array", where);
    for (size_t j = 0; j < json_object_array_length(calls); j++) {
        json_object *c = json_object_array_get_idx(calls, j);
        json_object *fn = ant_member(c, "function");
        json_object *id = ant_member(c, "id"), *name = ant_member(fn, "name");
        json_object *args = ant_member(fn, "arguments");
        const char *type = ant_str_member(c, "type");
        if (type != NULL && strcmp(type, "function") != 0)
            return refuse(t, "%s.tool_calls[%zu].type \"%.40s\" is not supported (function only)",
                          where, j, type);
        if (!ant_is(id, json_type_string) || json_object_get_string_len(id) == 0)
            return refuse(t, "%s.tool_calls[%zu].id must be a non-empty string", where, j);
        if (!ant_is(name, json_type_string) || json_object_get_string_len(name) == 0)
            return refuse(t, "%s.tool_calls[%zu].function.name must be a non-empty string",
                          where, j);
        json_object *input = NULL;
        if (args == NULL || ant_is(args, json_type_null) ||
            (ant_is(args, json_type_string) && json_object_get_string_len(args) == 0)) {
            input = json_object_new_object(); /* no arguments */
        } else if (ant_is(args, json_type_object)) {
            input = json_object_get(args);
        } else if (ant_is(args, json_type_string)) {
            input = ant_json_parse(json_object_get_string(args),
                                   (size_t)json_object_get_string_len(args));
            if (!ant_is(input, json_type_object)) {
                json_object_put(input);
                return refuse(t, "%s.tool_calls[%zu].function.arguments is not a JSON object "
                                 "(Anthropic needs the input as an object): %.60s",
                              where, j, json_object_get_string(args));
            }
        } else {
            return refuse(t, "%s.tool_calls[%zu].function.arguments must be a JSON string",
                          where, j);
        }
        json_object *b = input ? json_object_new_object() : NULL;
        if (b == NULL || ant_put(b, "type", json_object_new_string("tool_use")) ||
            ant_put(b, "id", json_object_get(id)) || ant_put(b, "name", json_object_get(name))) {
            json_object_put(input);
            json_object_put(b);
            return OC_ENOMEM;
        }
        if (ant_put(b, "input", input) != OC_OK) {
            json_object_put(b);
            return OC_ENOMEM;
        }
        if (ant_push(blocks, b) != OC_OK)
            return OC_ENOMEM;
    }
    return OC_OK;
}

/* A tool message as a tool_result block. */
static int32_t tool_result(tr_t *t, json_object *m, const char *where, json_object *blocks)
{
    json_object *id = ant_member(m, "tool_call_id");
    if (!ant_is(id, json_type_string) || json_object_get_string_len(id) == 0)
        return refuse(t, "%s.tool_call_id must be a non-empty string (the id of the "
                         "assistant's tool call it answers)", where);
    json_object *content = ant_member(m, "content");
    json_object *texts = NULL;
    if (ant_is(content, json_type_array)) {
        if ((texts = json_object_new_array()) == NULL)
            return OC_ENOMEM;
        int32_t rc = content_blocks(t, content, 0, where, texts);
        if (rc != OC_OK) {
            json_object_put(texts);
            return rc;
        }
    } else if (ant_is(content, json_type_string)) {
        texts = json_object_get(content);
    } else if (content != NULL && !ant_is(content, json_type_null)) {
        return refuse(t, "%s.content must be a string or an array of text parts", where);
    }
    json_object *b = json_object_new_object();
    if (b == NULL || ant_put(b, "type", json_object_new_string("tool_result")) ||
        ant_put(b, "tool_use_id", json_object_get(id))) {
        json_object_put(b);
        json_object_put(texts);
        return OC_ENOMEM;
    }
    /* Empty content is left out (the API refuses an empty text block). */
    int empty = texts == NULL ||
                (ant_is(texts, json_type_string) && json_object_get_string_len(texts) == 0) ||
                (ant_is(texts, json_type_array) && json_object_array_length(texts) == 0);
    if (empty)
        json_object_put(texts);
    else if (ant_put(b, "content", texts) != OC_OK) {
        json_object_put(b);
        return OC_ENOMEM;
    }
    return ant_push(blocks, b);
}

/* Appends blocks (taking them) as a message of `role`, merged into the
 * previous message when it has the same role (Anthropic requires user and
 * assistant to alternate). A message without blocks is dropped. */
static int32_t add_message(tr_t *t, const char *role, json_object *blocks)
{
    size_t n = json_object_array_length(blocks);
    if (n == 0) {
        json_object_put(blocks);
        return OC_OK;
    }
    if (t->last != NULL && strcmp(t->last_role, role) == 0) {
        for (size_t i = 0; i < n; i++)
            if (ant_push(t->last, json_object_get(json_object_array_get_idx(blocks, i))) != OC_OK) {
                json_object_put(blocks);
                return OC_ENOMEM;
            }
        json_object_put(blocks);
        return OC_OK;
    }
    json_object *m = json_object_new_object();
    if (m == NULL || ant_put(m, "role", json_object_new_string(role))) {
        json_object_put(blocks);
        json_object_put(m);
        return OC_ENOMEM;
    }
    if (ant_put(m, "content", blocks)) {
        json_object_put(m);
        return OC_ENOMEM;
    }
    if (ant_push(t->messages, m) != OC_OK)
        return OC_ENOMEM;
    t->last = blocks;
    t->last_role = role; /* a static string */
    return OC_OK;
}

static int32_t one_message(tr_t *t, json_object *m, size_t i)
{
    char where[32];
    snprintf(where, sizeof where, "messages[%zu]", i);
    if (!ant_is(m, json_type_object))
        return refuse(t, "%s must be an object like {role: user, content: ...}", where);
    const char *role = ant_str_member(m, "role");
    if (role == NULL)
        return refuse(t, "%s.role is missing (system, developer, user, assistant or tool)",
                      where);
    json_object *content = ant_member(m, "content");
    if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0)
        return system_text(t, content, where);
    int32_t rc;
    json_object *blocks = json_object_new_array();
    if (blocks == NULL)
        return OC_ENOMEM;
    const char *as;
    if (strcmp(role, "user") == 0) {
        as = "user";
        rc = content_blocks(t, content, 1, where, blocks);
    } else if (strcmp(role, "assistant") == 0) {
        as = "assistant";
        rc = ant_member(m, "function_call") != NULL &&
                     !ant_is(ant_member(m, "function_call"), json_type_null)
                 ? refuse(t, "%s.function_call (the legacy form) is not supported; use "
                             "tool_calls", where)
                 : content_blocks(t, content, 0, where, blocks);
        if (rc == OC_OK)
            rc = tool_uses(t, ant_member(m, "tool_calls"), where, blocks);
    } else if (strcmp(role, "tool") == 0) {
        as = "user"; /* Anthropic carries tool results in a user turn */
        rc = tool_result(t, m, where, blocks);
    } else {
        as = NULL;
        rc = refuse(t, "%s.role \"%.40s\" is not one of system, developer, user, assistant, "
                       "tool", where, role);
    }
    if (rc != OC_OK) {
        json_object_put(blocks);
        return rc;
    }
    return add_message(t, as, blocks);
}

int32_t ant_messages(json_object *msgs, json_object **out, ant_buf_t *system, char *err,
                     size_t errlen)
{
    *out = NULL;
    tr_t t = {.err = err, .errlen = errlen, .system = system};
    if (!ant_is(msgs, json_type_array))
        return refuse(&t, "messages is missing or not an array");
    if ((t.messages = json_object_new_array()) == NULL)
        return OC_ENOMEM;
    int32_t rc = OC_OK;
    for (size_t i = 0; rc == OC_OK && i < json_object_array_length(msgs); i++)
        rc = one_message(&t, json_object_array_get_idx(msgs, i), i);
    if (rc == OC_OK && json_object_array_length(t.messages) == 0)
        rc = refuse(&t, "the request has no user or assistant message with content (Anthropic "
                        "needs at least one)");
    if (rc == OC_OK && system->oom)
        rc = OC_ENOMEM;
    if (rc != OC_OK) {
        json_object_put(t.messages);
        return rc;
    }
    *out = t.messages;
    return OC_OK;
}
