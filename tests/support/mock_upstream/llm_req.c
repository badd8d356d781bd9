/* mock_upstream/llm_req.c - see llm_req.h. */
#include "llm_req.h"

#include <string.h>

#define DEFAULT_DIMENSIONS 16


static int is_type(struct json_object *v, json_type t)
{
    return json_object_is_type(v, t);
}

/* The member key of o, NULL when absent or null. */
static struct json_object *member(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || is_type(v, json_type_null))
        return NULL;
    return v;
}

static int common_head(struct json_object *o, llm_req_t *r, gw_buf_t *err)
{
    gw_buf_t *last_user = r->last_user;
    memset(r, 0, sizeof *r);
    r->last_user = last_user;
    r->dimensions = DEFAULT_DIMENSIONS;
    if (!is_type(o, json_type_object)) {
        gw_buf_puts(err, "the request body must be a JSON object");
        return -1;
    }
    struct json_object *model = member(o, "model");
    if (model == NULL || !is_type(model, json_type_string) ||
        json_object_get_string_len(model) == 0) {
        gw_buf_puts(err, "model: required, a non-empty string (you must provide a model "
                         "parameter)");
        return -1;
    }
    r->model = json_object_get_string(model);
    r->model_len = (size_t)json_object_get_string_len(model);
    return 0;
}

static int read_stream(struct json_object *o, llm_req_t *r, gw_buf_t *err)
{
    struct json_object *s = member(o, "stream");
    if (s != NULL && !is_type(s, json_type_boolean)) {
        gw_buf_puts(err, "stream: expected true or false");
        return -1;
    }
    r->stream = s != NULL && json_object_get_boolean(s);
    return 0;
}

/* Adds a string's text to the prompt size, and to last_user when `user`. */
static void take_text(llm_req_t *r, struct json_object *s, int user)
{
    size_t n = (size_t)json_object_get_string_len(s);
    r->prompt_bytes += n;
    if (user) {
        if (r->last_user->len > 0)
            gw_buf_putc(r->last_user, '\n');
        gw_buf_append(r->last_user, json_object_get_string(s), n);
    }
}

/* A message's content: a string, or an array of parts/blocks whose "text"
 * parts count. 0 or -1 (err says what was expected). */
static int read_content(llm_req_t *r, struct json_object *content, int user, size_t i,
                        int null_ok, gw_buf_t *err)
{
    if (content == NULL && null_ok)
        return 0;
    if (content != NULL && is_type(content, json_type_string)) {
        take_text(r, content, user);
        return 0;
    }
    if (content == NULL || !is_type(content, json_type_array)) {
        gw_buf_printf(err, "messages[%zu].content: expected a string or an array of content "
                           "parts%s", i, null_ok ? " (or null)" : "");
        return -1;
    }
    size_t n = json_object_array_length(content);
    for (size_t k = 0; k < n; k++) {
        struct json_object *part = json_object_array_get_idx(content, k);
        struct json_object *type = is_type(part, json_type_object) ? member(part, "type") : NULL;
        if (type == NULL || !is_type(type, json_type_string)) {
            gw_buf_printf(err, "messages[%zu].content[%zu]: expected an object with a string "
                               "\"type\"", i, k);
            return -1;
        }
        if (strcmp(json_object_get_string(type), "text") != 0)
            continue;
        struct json_object *text = member(part, "text");
        if (text == NULL || !is_type(text, json_type_string)) {
            gw_buf_printf(err, "messages[%zu].content[%zu].text: expected a string", i, k);
            return -1;
        }
        take_text(r, text, user);
    }
    return 0;
}

static int role_in(const char *role, const char *const *allowed)
{
    for (; *allowed != NULL; allowed++)
        if (strcmp(role, *allowed) == 0)
            return 1;
    return 0;
}

/* messages: a non-empty array of {role, content}. */
static int read_messages(struct json_object *o, llm_req_t *r, const char *const *roles,
                         int null_content_ok, gw_buf_t *err)
{
    struct json_object *msgs = member(o, "messages");
    if (msgs == NULL || !is_type(msgs, json_type_array) || json_object_array_length(msgs) == 0) {
        gw_buf_puts(err, "messages: required, a non-empty array of messages");
        return -1;
    }
    gw_buf_reset(r->last_user);
    size_t n = json_object_array_length(msgs);
    for (size_t i = 0; i < n; i++) {
        struct json_object *m = json_object_array_get_idx(msgs, i);
        struct json_object *role = is_type(m, json_type_object) ? member(m, "role") : NULL;
        if (role == NULL || !is_type(role, json_type_string) ||
            !role_in(json_object_get_string(role), roles)) {
            gw_buf_printf(err, "messages[%zu].role: expected one of", i);
            for (const char *const *p = roles; *p != NULL; p++)
                gw_buf_printf(err, "%s \"%s\"", p == roles ? "" : ",", *p);
            return -1;
        }
        int user = strcmp(json_object_get_string(role), "user") == 0;
        if (user)
            gw_buf_reset(r->last_user);
        if (read_content(r, member(m, "content"), user, i, null_content_ok, err) != 0)
            return -1;
    }
    return 0;
}

/* tools: an array; the first usable tool's name goes to r. `nested`:
 * OpenAI's {type:"function", function:{name}}, else Anthropic's {name}. */
static int read_tools(struct json_object *o, llm_req_t *r, int nested, gw_buf_t *err)
{
    struct json_object *tools = member(o, "tools");
    if (tools == NULL)
        return 0;
    if (!is_type(tools, json_type_array)) {
        gw_buf_puts(err, "tools: expected an array of tools");
        return -1;
    }
    size_t n = json_object_array_length(tools);
    for (size_t i = 0; i < n; i++) {
        struct json_object *t = json_object_array_get_idx(tools, i), *holder = t, *name;
        if (!is_type(t, json_type_object)) {
            gw_buf_printf(err, "tools[%zu]: expected an object", i);
            return -1;
        }
        if (nested) {
            struct json_object *type = member(t, "type");
            if (type == NULL || !is_type(type, json_type_string)) {
                gw_buf_printf(err, "tools[%zu].type: required, e.g. \"function\"", i);
                return -1;
            }
            if (strcmp(json_object_get_string(type), "function") != 0)
                continue;
            holder = member(t, "function");
            if (holder == NULL || !is_type(holder, json_type_object)) {
                gw_buf_printf(err, "tools[%zu].function: expected an object with a name", i);
                return -1;
            }
        }
        name = member(holder, "name");
        if (name == NULL || !is_type(name, json_type_string) ||
            json_object_get_string_len(name) == 0) {
            gw_buf_printf(err, "tools[%zu]%s.name: required, a non-empty string", i,
                          nested ? ".function" : "");
            return -1;
        }
        if (r->tool_name == NULL) {
            r->tool_name = json_object_get_string(name);
            r->tool_name_len = (size_t)json_object_get_string_len(name);
        }
    }
    return 0;
}

int llm_req_openai(struct json_object *o, llm_req_t *r, gw_buf_t *err)
{
    static const char *const roles[] = {"system", "developer", "user", "assistant",
                                        "tool",   "function",  NULL};
    if (common_head(o, r, err) != 0 || read_stream(o, r, err) != 0)
        return -1;
    struct json_object *so = member(o, "stream_options");
    if (so != NULL) {
        struct json_object *iu = is_type(so, json_type_object) ? member(so, "include_usage")
                                                               : NULL;
        if (!is_type(so, json_type_object) || (iu != NULL && !is_type(iu, json_type_boolean))) {
            gw_buf_puts(err, "stream_options: expected an object like {\"include_usage\":true}");
            return -1;
        }
        r->include_usage = iu != NULL && json_object_get_boolean(iu);
    }
    if (read_messages(o, r, roles, 1, err) != 0)
        return -1;
    return read_tools(o, r, 1, err);
}

int llm_req_anthropic(struct json_object *o, llm_req_t *r, gw_buf_t *err)
{
    static const char *const roles[] = {"user", "assistant", NULL};
    if (common_head(o, r, err) != 0)
        return -1;
    struct json_object *mt = member(o, "max_tokens");
    if (mt == NULL || !is_type(mt, json_type_int) || json_object_get_int64(mt) < 1) {
        gw_buf_puts(err, "max_tokens: required, an integer >= 1");
        return -1;
    }
    if (read_stream(o, r, err) != 0 || read_messages(o, r, roles, 0, err) != 0)
        return -1;
    struct json_object *sys = member(o, "system");
    if (sys != NULL) {
        if (is_type(sys, json_type_string)) {
            take_text(r, sys, 0);
        } else if (is_type(sys, json_type_array)) {
            size_t n = json_object_array_length(sys);
            for (size_t i = 0; i < n; i++) {
                struct json_object *b = json_object_array_get_idx(sys, i);
                struct json_object *t = is_type(b, json_type_object) ? member(b, "text") : NULL;
                if (t == NULL || !is_type(t, json_type_string)) {
                    gw_buf_printf(err, "system[%zu]: expected a text block {\"type\":\"text\","
                                       "\"text\":...}", i);
                    return -1;
                }
                take_text(r, t, 0);
            }
        } else {
            gw_buf_puts(err, "system: expected a string or an array of text blocks");
            return -1;
        }
    }
    return read_tools(o, r, 0, err);
}

/* An array of integers (one tokenised input); 1 or 0. */
static int is_token_array(struct json_object *a)
{
    if (!is_type(a, json_type_array) || json_object_array_length(a) == 0)
        return 0;
    size_t n = json_object_array_length(a);
    for (size_t i = 0; i < n; i++)
        if (!is_type(json_object_array_get_idx(a, i), json_type_int))
            return 0;
    return 1;
}

int llm_req_embeddings(struct json_object *o, llm_req_t *r, gw_buf_t *err)
{
    if (common_head(o, r, err) != 0)
        return -1;
    struct json_object *in = member(o, "input");
    static const char want[] = "input: required, a non-empty string, an array of strings, an "
                               "array of token ids or an array of token-id arrays";
    if (in != NULL && is_type(in, json_type_string) && json_object_get_string_len(in) > 0) {
        r->ninputs = 1;
        r->prompt_bytes = (size_t)json_object_get_string_len(in);
    } else if (in != NULL && is_token_array(in)) {
        r->ninputs = 1;
        r->prompt_bytes = 4 * json_object_array_length(in);
    } else if (in != NULL && is_type(in, json_type_array) && json_object_array_length(in) > 0) {
        r->ninputs = json_object_array_length(in);
        for (size_t i = 0; i < r->ninputs; i++) {
            struct json_object *e = json_object_array_get_idx(in, i);
            if (is_type(e, json_type_string) && json_object_get_string_len(e) > 0) {
                r->prompt_bytes += (size_t)json_object_get_string_len(e);
            } else if (is_token_array(e)) {
                r->prompt_bytes += 4 * json_object_array_length(e);
            } else {
                gw_buf_printf(err, "input[%zu]: expected a non-empty string or an array of "
                                   "token ids", i);
                return -1;
            }
        }
    } else {
        gw_buf_puts(err, want);
        return -1;
    }
    r->input = in;
    struct json_object *dim = member(o, "dimensions");
    if (dim != NULL) {
        int64_t d = is_type(dim, json_type_int) ? json_object_get_int64(dim) : 0;
        if (d < 1 || d > LLM_MAX_DIMENSIONS) {
            gw_buf_printf(err, "dimensions: expected an integer in 1..%d", LLM_MAX_DIMENSIONS);
            return -1;
        }
        r->dimensions = (uint32_t)d;
    }
    struct json_object *fmt = member(o, "encoding_format");
    if (fmt != NULL) {
        const char *f = is_type(fmt, json_type_string) ? json_object_get_string(fmt) : "";
        if (strcmp(f, "base64") == 0) {
            r->base64 = 1;
        } else if (strcmp(f, "float") != 0) {
            gw_buf_puts(err, "encoding_format: expected \"float\" or \"base64\"");
            return -1;
        }
    }
    return 0;
}
