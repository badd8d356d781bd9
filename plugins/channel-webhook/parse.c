/* parse.c - see parse.h. */
#include "parse.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook.h"

/* Deep enough for the format (3 levels) with room for ignored extras; a
 * bound so a hostile body cannot recurse the parser deep. */
#define JSON_MAX_DEPTH 32

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int is_json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A string member: 0 with *out set (NULL when absent or null and !required),
 * or -1 with err naming `name` (the dotted path shown to the sender). */
static int get_string(struct json_object *obj, const char *key, const char *name, int required,
                      int allow_empty, const char **out, char *err, size_t errlen)
{
    struct json_object *v = NULL;
    *out = NULL;
    if (!json_object_object_get_ex(obj, key, &v)) {
        if (required)
            return fail(err, errlen, "missing field '%s'", name);
        return 0;
    }
    if (v == NULL) { /* null: "none" where that is allowed */
        if (required)
            return fail(err, errlen, "field '%s' must be a string, not null", name);
        return 0;
    }
    if (!json_object_is_type(v, json_type_string))
        return fail(err, errlen, "field '%s' must be a string", name);
    size_t n = (size_t)json_object_get_string_len(v);
    const char *s = json_object_get_string(v);
    /* "\u0000" decodes to a NUL the C strings of the envelope cannot carry. */
    if (memchr(s, '\0', n) != NULL)
        return fail(err, errlen, "field '%s' contains a NUL character", name);
    if (n == 0 && !allow_empty) {
        if (required)
            return fail(err, errlen, "field '%s' must not be empty", name);
        return 0; /* an empty optional id or name means none */
    }
    *out = s;
    return 0;
}

/* An optional boolean: absent or null = 0. */
static int get_bool(struct json_object *obj, const char *key, int32_t *out, char *err,
                    size_t errlen)
{
    struct json_object *v = NULL;
    *out = 0;
    if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
        return 0;
    /* Strict: json-c would coerce numbers and strings to booleans. */
    if (!json_object_is_type(v, json_type_boolean))
        return fail(err, errlen, "field '%s' must be a boolean (true or false)", key);
    *out = json_object_get_boolean(v) ? 1 : 0;
    return 0;
}

int wh_parse_body(const char *body, size_t len, wh_inbound_t *in, char *err, size_t errlen)
{
    memset(in, 0, sizeof *in);
    if (body == NULL)
        len = 0;
    size_t i = 0;
    while (i < len && is_json_ws(body[i]))
        i++;
    if (i == len)
        return fail(err, errlen, "empty body: expected a JSON object");
    if (body[i] != '{')
        return fail(err, errlen, "body must be a JSON object");
    if (memchr(body, '\0', len) != NULL)
        return fail(err, errlen, "malformed JSON: NUL byte in the body");
    if (len > INT_MAX)
        return fail(err, errlen, "body too large to parse");

    struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (tok == NULL)
        return fail(err, errlen, "out of memory");
    int flags = JSON_TOKENER_STRICT;
#ifdef JSON_TOKENER_VALIDATE_UTF8
    flags |= JSON_TOKENER_VALIDATE_UTF8;
#endif
    json_tokener_set_flags(tok, flags);
    struct json_object *root = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (root == NULL || jerr != json_tokener_success) {
        json_object_put(root);
        if (jerr == json_tokener_continue)
            return fail(err, errlen, "malformed JSON: unexpected end of input");
        return fail(err, errlen, "malformed JSON: %s at offset %zu",
                    json_tokener_error_desc(jerr), end);
    }
    /* json-c's strict mode refuses trailing data itself today; its idea of
     * strict may change between versions, ours does not. */
    for (size_t k = end; k < len; k++) {
        if (!is_json_ws(body[k])) {
            json_object_put(root);
            return fail(err, errlen, "malformed JSON: unexpected data after the object at "
                                     "offset %zu", k);
        }
    }
    if (!json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        return fail(err, errlen, "body must be a JSON object");
    }
    const char *account = NULL;
    if (get_string(root, "account", "account", 0, 1, &account, err, errlen) != 0) {
        json_object_put(root);
        return -1;
    }
    if (account != NULL && account[0] == '\0') {
        json_object_put(root);
        return fail(err, errlen, "field 'account' must not be empty (omit it for the "
                                 "default account)");
    }
    in->root = root;
    in->account = account;
    return 0;
}

/* "mentions": absent, null or [] = none; else an array of non-empty strings. */
static int get_mentions(wh_inbound_t *in, char *err, size_t errlen)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(in->root, "mentions", &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_array))
        return fail(err, errlen, "field 'mentions' must be an array of strings");
    size_t n = json_object_array_length(v);
    if (n == 0)
        return 0;
    const char **list = calloc(n + 1, sizeof *list);
    if (list == NULL)
        return fail(err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(v, i);
        size_t len = e != NULL ? (size_t)json_object_get_string_len(e) : 0;
        const char *s = e != NULL ? json_object_get_string(e) : NULL;
        if (e == NULL || !json_object_is_type(e, json_type_string) || len == 0 ||
            memchr(s, '\0', len) != NULL) {
            free(list);
            return fail(err, errlen, "field 'mentions[%zu]' must be a non-empty string", i);
        }
        list[i] = s;
    }
    in->mentions = list;
    return 0;
}

/* The fields in README.md order; the first bad one wins. */
static int fill_envelope(wh_inbound_t *in, char *err, size_t errlen)
{
    oc_envelope_t *e = &in->env;
    struct json_object *root = in->root, *chat = NULL;
    const char *type = NULL;
    if (get_string(root, "id", "id", 1, 0, &e->message_id, err, errlen) != 0 ||
        get_string(root, "from", "from", 1, 0, &e->sender_id, err, errlen) != 0)
        return -1;
    if (!json_object_object_get_ex(root, "chat", &chat))
        return fail(err, errlen, "missing field 'chat'");
    if (chat == NULL || !json_object_is_type(chat, json_type_object))
        return fail(err, errlen, "field 'chat' must be an object {\"type\", \"id\"}");
    if (get_string(chat, "type", "chat.type", 1, 0, &type, err, errlen) != 0)
        return -1;
    if (strcmp(type, "direct") == 0)
        e->peer_kind = OC_PEER_DIRECT;
    else if (strcmp(type, "group") == 0)
        e->peer_kind = OC_PEER_GROUP;
    else
        return fail(err, errlen, "field 'chat.type' must be \"direct\" or \"group\"");
    if (get_string(chat, "id", "chat.id", 1, 0, &e->peer_id, err, errlen) != 0 ||
        get_string(root, "text", "text", 1, 1, &e->text, err, errlen) != 0 ||
        get_mentions(in, err, errlen) != 0 ||
        get_string(root, "replyTo", "replyTo", 0, 0, &e->reply_to_id, err, errlen) != 0 ||
        get_bool(root, "replyToBot", &e->reply_to_bot, err, errlen) != 0 ||
        get_bool(root, "mentioned", &e->mentioned, err, errlen) != 0 ||
        get_string(root, "fromName", "fromName", 0, 0, &e->sender_name, err, errlen) != 0)
        return -1;
    return 0;
}

int wh_parse_envelope(wh_inbound_t *in, const char *account, char *err, size_t errlen)
{
    oc_envelope_t *e = &in->env;
    memset(e, 0, sizeof *e);
    free(in->mentions);
    in->mentions = NULL;
    if (in->root == NULL)
        return fail(err, errlen, "no parsed body");
    if (fill_envelope(in, err, errlen) != 0) {
        free(in->mentions);
        in->mentions = NULL;
        memset(e, 0, sizeof *e);
        return -1;
    }
    e->struct_size = sizeof *e;
    e->channel = WH_CHANNEL;
    e->account = account;
    e->mentions = in->mentions;
    e->received_ms = 0; /* the gateway stamps it on arrival */
    return 0;
}

void wh_inbound_free(wh_inbound_t *in)
{
    if (in == NULL)
        return;
    json_object_put(in->root);
    free(in->mentions);
    memset(in, 0, sizeof *in);
}
