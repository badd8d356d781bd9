/* llm/request.c - see request.h. Messages and codes follow OpenAI's
 * ("Invalid 'temperature': decimal above maximum value. Expected a value <=
 * 2, but got 3 instead.", code decimal_above_max_value). */
#include "llm/request.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STOP 4
#define MAX_TOOLS 128

int gw_llm_err(gw_llm_err_t *err, int status, const char *param, const char *code,
               const char *fmt, ...)
{
    err->status = status;
    err->type = "invalid_request_error";
    err->code = code;
    err->param = NULL;
    if (param) {
        snprintf(err->param_buf, sizeof(err->param_buf), "%s", param);
        err->param = err->param_buf;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

/* One JSON object and nothing after it but white space. */
static json_object *parse_object(const char *body, size_t len, gw_llm_err_t *err)
{
    if (body == NULL || len == 0) {
        gw_llm_err(err, 400, NULL, "invalid_json", "The request body is empty: send a JSON "
                   "object with Content-Type: application/json");
        return NULL;
    }
    json_tokener *tok = json_tokener_new();
    if (tok == NULL) {
        gw_llm_err(err, 500, NULL, NULL, "out of memory");
        return NULL;
    }
    json_object *o = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (o == NULL || je != json_tokener_success) {
        json_object_put(o);
        gw_llm_err(err, 400, NULL, "invalid_json", "We could not parse the JSON body of your "
                   "request: %s", je == json_tokener_continue ? "unexpected end of data"
                                                              : json_tokener_error_desc(je));
        return NULL;
    }
    while (used < len && strchr(" \t\r\n", body[used]))
        used++;
    if (used < len) {
        json_object_put(o);
        gw_llm_err(err, 400, NULL, "invalid_json", "We could not parse the JSON body of your "
                   "request: data after the JSON object (at byte %zu)", used);
        return NULL;
    }
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        gw_llm_err(err, 400, NULL, "invalid_json", "The request body must be a JSON object");
        return NULL;
    }
    return o;
}

/* The member k, or NULL when absent or null. */
static json_object *get(json_object *o, const char *k)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
        return NULL;
    return v;
}

static const char *type_name(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_boolean: return "a boolean";
    case json_type_double: return "a number";
    case json_type_int: return "an integer";
    case json_type_object: return "an object";
    case json_type_array: return "an array";
    case json_type_string: return "a string";
    default: return "null";
    }
}

static int bad_type(gw_llm_err_t *err, const char *param, json_object *v, const char *want)
{
    return gw_llm_err(err, 400, param, "invalid_type", "Invalid type for '%s': expected %s, "
                      "but got %s instead.", param, want, type_name(v));
}

static int is_number(json_object *v)
{
    return json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int);
}

/* An optional number in [min, max]. */
static int check_range(json_object *o, const char *k, double min, double max, gw_llm_err_t *err)
{
    json_object *v = get(o, k);
    if (v == NULL)
        return 0;
    if (!is_number(v))
        return bad_type(err, k, v, "a number");
    double d = json_object_get_double(v);
    if (d > max)
        return gw_llm_err(err, 400, k, "decimal_above_max_value", "Invalid '%s': decimal above "
                          "maximum value. Expected a value <= %g, but got %g instead.", k, max, d);
    if (d < min)
        return gw_llm_err(err, 400, k, "decimal_below_min_value", "Invalid '%s': decimal below "
                          "minimum value. Expected a value >= %g, but got %g instead.", k, min, d);
    return 0;
}

/* An optional integer >= min (and <= max when max > 0). */
static int check_int(json_object *o, const char *k, int64_t min, int64_t max, gw_llm_err_t *err)
{
    json_object *v = get(o, k);
    if (v == NULL)
        return 0;
    double d = is_number(v) ? json_object_get_double(v) : NAN;
    if (!is_number(v) || d != floor(d))
        return bad_type(err, k, v, "an integer");
    if (d < (double)min)
        return gw_llm_err(err, 400, k, "integer_below_min_value", "Invalid '%s': integer below "
                          "minimum value. Expected a value >= %lld, but got %.0f instead.", k,
                          (long long)min, d);
    if (max > 0 && d > (double)max)
        return gw_llm_err(err, 400, k, "integer_above_max_value", "Invalid '%s': integer above "
                          "maximum value. Expected a value <= %lld, but got %.0f instead.", k,
                          (long long)max, d);
    return 0;
}

static int check_bool(json_object *o, const char *k, int *out, gw_llm_err_t *err)
{
    json_object *v = get(o, k);
    *out = 0;
    if (v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_boolean))
        return bad_type(err, k, v, "a boolean");
    *out = json_object_get_boolean(v);
    return 0;
}

static int check_string(json_object *o, const char *k, const char **out, gw_llm_err_t *err)
{
    json_object *v = get(o, k);
    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return bad_type(err, k, v, "a string");
    *out = json_object_get_string(v);
    return 0;
}

static int check_model(json_object *root, const char **model, gw_llm_err_t *err)
{
    json_object *v = get(root, "model");
    if (v == NULL)
        return gw_llm_err(err, 400, "model", "missing_required_parameter", "you must provide a "
                          "model parameter (openclaw/<agentId>, provider/model or an alias; "
                          "GET /v1/models lists them)");
    if (!json_object_is_type(v, json_type_string))
        return bad_type(err, "model", v, "a string");
    *model = json_object_get_string(v);
    if (**model == '\0')
        return gw_llm_err(err, 400, "model", "invalid_value", "Invalid 'model': empty string "
                          "(GET /v1/models lists the models)");
    return 0;
}

static int check_stop(json_object *root, gw_llm_err_t *err)
{
    json_object *v = get(root, "stop");
    if (v == NULL || json_object_is_type(v, json_type_string))
        return 0;
    if (!json_object_is_type(v, json_type_array))
        return bad_type(err, "stop", v, "a string or an array of strings");
    size_t n = json_object_array_length(v);
    if (n > MAX_STOP)
        return gw_llm_err(err, 400, "stop", "array_above_max_length", "Invalid 'stop': array too "
                          "long. Expected an array with maximum length %d, but got an array with "
                          "length %zu instead.", MAX_STOP, n);
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(v, i);
        if (!json_object_is_type(s, json_type_string)) {
            char p[96];
            snprintf(p, sizeof(p), "stop[%zu]", i);
            return bad_type(err, p, s, "a string");
        }
    }
    return 0;
}

/* ---- chat completions ---- */

static int check_content(json_object *m, size_t i, const char *role, gw_llm_err_t *err)
{
    char p[96];
    json_object *c = get(m, "content");
    snprintf(p, sizeof(p), "messages[%zu].content", i);
    if (c == NULL) {
        /* An assistant turn that only calls tools has no content. */
        if (strcmp(role, "assistant") == 0 && (get(m, "tool_calls") || get(m, "function_call")))
            return 0;
        return gw_llm_err(err, 400, p, "missing_required_parameter", "Missing required "
                          "parameter: '%s'.", p);
    }
    if (json_object_is_type(c, json_type_string))
        return 0;
    if (!json_object_is_type(c, json_type_array))
        return bad_type(err, p, c, "a string or an array of content parts");
    size_t n = json_object_array_length(c);
    for (size_t j = 0; j < n; j++) {
        json_object *part = json_object_array_get_idx(c, j);
        const char *type = NULL;
        snprintf(p, sizeof(p), "messages[%zu].content[%zu]", i, j);
        if (!json_object_is_type(part, json_type_object))
            return bad_type(err, p, part, "an object");
        json_object *t = get(part, "type");
        if (t == NULL || !json_object_is_type(t, json_type_string)) {
            snprintf(p, sizeof(p), "messages[%zu].content[%zu].type", i, j);
            return t ? bad_type(err, p, t, "a string")
                     : gw_llm_err(err, 400, p, "missing_required_parameter",
                                  "Missing required parameter: '%s'.", p);
        }
        type = json_object_get_string(t);
        if (strcmp(type, "text") == 0) {
            json_object *tx = get(part, "text");
            snprintf(p, sizeof(p), "messages[%zu].content[%zu].text", i, j);
            if (tx == NULL)
                return gw_llm_err(err, 400, p, "missing_required_parameter", "Missing required "
                                  "parameter: '%s'.", p);
            if (!json_object_is_type(tx, json_type_string))
                return bad_type(err, p, tx, "a string");
        }
        /* Other part types (image_url, input_audio, ...) go to the provider. */
    }
    return 0;
}

static int check_messages(json_object *root, gw_llm_err_t *err)
{
    static const char *const roles[] = {"system", "developer", "user", "assistant", "tool",
                                        "function", NULL};
    json_object *msgs = get(root, "messages");
    if (msgs == NULL)
        return gw_llm_err(err, 400, "messages", "missing_required_parameter", "Missing required "
                          "parameter: 'messages'.");
    if (!json_object_is_type(msgs, json_type_array))
        return bad_type(err, "messages", msgs, "an array");
    size_t n = json_object_array_length(msgs);
    if (n == 0)
        return gw_llm_err(err, 400, "messages", "empty_array", "Invalid 'messages': empty array. "
                          "Expected an array with minimum length 1, but got an empty array "
                          "instead.");
    for (size_t i = 0; i < n; i++) {
        json_object *m = json_object_array_get_idx(msgs, i);
        char p[96];
        snprintf(p, sizeof(p), "messages[%zu]", i);
        if (!json_object_is_type(m, json_type_object))
            return bad_type(err, p, m, "an object");
        json_object *r = get(m, "role");
        snprintf(p, sizeof(p), "messages[%zu].role", i);
        if (r == NULL)
            return gw_llm_err(err, 400, p, "missing_required_parameter", "Missing required "
                              "parameter: '%s'.", p);
        if (!json_object_is_type(r, json_type_string))
            return bad_type(err, p, r, "a string");
        const char *role = json_object_get_string(r);
        size_t k = 0;
        while (roles[k] && strcmp(roles[k], role) != 0)
            k++;
        if (roles[k] == NULL)
            return gw_llm_err(err, 400, p, "invalid_value", "Invalid value: '%.40s'. Supported "
                              "values are: 'system', 'developer', 'user', 'assistant', 'tool' "
                              "and 'function'.", role);
        if (check_content(m, i, role, err) != 0)
            return -1;
        if (strcmp(role, "tool") == 0) {
            json_object *id = get(m, "tool_call_id");
            snprintf(p, sizeof(p), "messages[%zu].tool_call_id", i);
            if (id == NULL || !json_object_is_type(id, json_type_string))
                return id ? bad_type(err, p, id, "a string")
                          : gw_llm_err(err, 400, p, "missing_required_parameter",
                                       "Missing required parameter: '%s'.", p);
        }
    }
    return 0;
}

static int valid_fn_name(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
              (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '-'))
            return 0;
    return n > 0 && n <= 64;
}

static int check_tools(json_object *root, int *has_tools, gw_llm_err_t *err)
{
    json_object *tools = get(root, "tools");
    *has_tools = 0;
    if (tools) {
        if (!json_object_is_type(tools, json_type_array))
            return bad_type(err, "tools", tools, "an array");
        size_t n = json_object_array_length(tools);
        if (n > MAX_TOOLS)
            return gw_llm_err(err, 400, "tools", "array_above_max_length", "Invalid 'tools': "
                              "array too long. Expected an array with maximum length %d, but got "
                              "an array with length %zu instead.", MAX_TOOLS, n);
        for (size_t i = 0; i < n; i++) {
            json_object *t = json_object_array_get_idx(tools, i);
            char p[96];
            snprintf(p, sizeof(p), "tools[%zu]", i);
            if (!json_object_is_type(t, json_type_object))
                return bad_type(err, p, t, "an object");
            json_object *type = get(t, "type"), *fn = get(t, "function"), *name = NULL;
            if (type == NULL || !json_object_is_type(type, json_type_string) ||
                strcmp(json_object_get_string(type), "function") != 0) {
                snprintf(p, sizeof(p), "tools[%zu].type", i);
                return gw_llm_err(err, 400, p, "invalid_value", "Invalid '%s': expected "
                                  "'function'.", p);
            }
            snprintf(p, sizeof(p), "tools[%zu].function", i);
            if (fn == NULL || !json_object_is_type(fn, json_type_object))
                return fn ? bad_type(err, p, fn, "an object")
                          : gw_llm_err(err, 400, p, "missing_required_parameter",
                                       "Missing required parameter: '%s'.", p);
            name = get(fn, "name");
            snprintf(p, sizeof(p), "tools[%zu].function.name", i);
            if (name == NULL || !json_object_is_type(name, json_type_string) ||
                !valid_fn_name(json_object_get_string(name)))
                return gw_llm_err(err, 400, p, "invalid_value", "Invalid '%s': a function name "
                                  "of a-z, A-Z, 0-9, _ and - (at most 64) is required.", p);
        }
        *has_tools = n > 0;
    }
    json_object *tc = get(root, "tool_choice");
    if (tc == NULL)
        return 0;
    if (json_object_is_type(tc, json_type_string)) {
        const char *s = json_object_get_string(tc);
        if (strcmp(s, "none") && strcmp(s, "auto") && strcmp(s, "required"))
            return gw_llm_err(err, 400, "tool_choice", "invalid_value", "Invalid value: '%.40s'. "
                              "Supported values are: 'none', 'auto' and 'required', or "
                              "{\"type\": \"function\", \"function\": {\"name\": ...}}.", s);
    } else if (json_object_is_type(tc, json_type_object)) {
        json_object *fn = get(tc, "function");
        json_object *name = fn && json_object_is_type(fn, json_type_object) ? get(fn, "name")
                                                                           : NULL;
        if (name == NULL || !json_object_is_type(name, json_type_string))
            return gw_llm_err(err, 400, "tool_choice.function.name", "missing_required_parameter",
                              "Missing required parameter: 'tool_choice.function.name'.");
    } else {
        return bad_type(err, "tool_choice", tc, "a string or an object");
    }
    if (!*has_tools)
        return gw_llm_err(err, 400, "tool_choice", "invalid_value", "Invalid value for "
                          "'tool_choice': 'tool_choice' is only allowed when 'tools' are "
                          "specified.");
    return 0;
}

static int check_sampling(json_object *root, gw_llm_err_t *err)
{
    if (check_range(root, "temperature", 0, 2, err) || check_range(root, "top_p", 0, 1, err) ||
        check_range(root, "presence_penalty", -2, 2, err) ||
        check_range(root, "frequency_penalty", -2, 2, err) ||
        check_int(root, "max_tokens", 1, 0, err) ||
        check_int(root, "max_completion_tokens", 1, 0, err) ||
        check_int(root, "n", 1, 128, err) || check_stop(root, err))
        return -1;
    json_object *seed = get(root, "seed");
    if (seed && !json_object_is_type(seed, json_type_int))
        return bad_type(err, "seed", seed, "an integer");
    return 0;
}

int gw_llm_chat_parse(const char *body, size_t len, gw_llm_chat_t *out, gw_llm_err_t *err)
{
    memset(out, 0, sizeof(*out));
    json_object *root = parse_object(body, len, err);
    if (root == NULL)
        return -1;
    out->root = root;
    int rc = check_model(root, &out->model, err);
    if (rc == 0)
        rc = check_messages(root, err);
    if (rc == 0)
        rc = check_bool(root, "stream", &out->stream, err);
    json_object *so = rc == 0 ? get(root, "stream_options") : NULL;
    if (so) {
        if (!json_object_is_type(so, json_type_object))
            rc = bad_type(err, "stream_options", so, "an object");
        else if (!out->stream)
            rc = gw_llm_err(err, 400, "stream_options", "invalid_value", "Invalid value for "
                            "'stream_options': 'stream_options' is only allowed when 'stream' "
                            "is true.");
        else
            rc = check_bool(so, "include_usage", &out->include_usage, err);
        if (rc != 0 && err->param && strcmp(err->param, "include_usage") == 0)
            snprintf(err->param_buf, sizeof(err->param_buf), "stream_options.include_usage");
    }
    if (rc == 0)
        rc = check_sampling(root, err);
    if (rc == 0)
        rc = check_tools(root, &out->has_tools, err);
    if (rc == 0)
        rc = check_string(root, "user", &out->user, err);
    if (rc != 0) {
        gw_llm_chat_free(out);
        return -1;
    }
    return 0;
}

void gw_llm_chat_free(gw_llm_chat_t *c)
{
    if (c->root)
        json_object_put(c->root);
    memset(c, 0, sizeof(*c));
}

/* The text of a message's content: a string, or its text parts joined. */
static void content_text(json_object *content, gw_buf_t *out)
{
    if (content == NULL)
        return;
    if (json_object_is_type(content, json_type_string)) {
        gw_buf_append(out, json_object_get_string(content),
                      (size_t)json_object_get_string_len(content));
        return;
    }
    if (!json_object_is_type(content, json_type_array))
        return;
    size_t n = json_object_array_length(content), added = 0;
    for (size_t j = 0; j < n; j++) {
        json_object *part = json_object_array_get_idx(content, j);
        json_object *t = get(part, "type"), *tx = get(part, "text");
        const char *ts = t ? json_object_get_string(t) : "";
        if (tx == NULL || !json_object_is_type(tx, json_type_string) ||
            (strcmp(ts, "text") && strcmp(ts, "input_text") && strcmp(ts, "output_text")))
            continue;
        if (added++)
            gw_buf_putc(out, ' ');
        gw_buf_append(out, json_object_get_string(tx), (size_t)json_object_get_string_len(tx));
    }
}

int gw_llm_chat_prompt(const gw_llm_chat_t *c, gw_buf_t *text, gw_buf_t *system,
                       gw_llm_err_t *err)
{
    json_object *msgs = get(c->root, "messages");
    size_t n = json_object_array_length(msgs);
    long last_user = -1;
    for (size_t i = 0; i < n; i++) {
        json_object *m = json_object_array_get_idx(msgs, i);
        const char *role = json_object_get_string(get(m, "role"));
        if (strcmp(role, "user") == 0)
            last_user = (long)i;
        if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            if (system->len)
                gw_buf_puts(system, "\n\n");
            content_text(get(m, "content"), system);
        }
    }
    if (last_user >= 0)
        content_text(get(json_object_array_get_idx(msgs, (size_t)last_user), "content"), text);
    if (text->len == 0)
        return gw_llm_err(err, 400, "messages", "invalid_value", "An agent model "
                          "(openclaw/<agentId>) needs a 'user' message with text: it answers "
                          "the last one, in the session's history");
    return 0;
}

char *gw_llm_sampling_json(json_object *root)
{
    static const char *const keys[] = {"temperature", "top_p", "max_tokens",
                                       "max_completion_tokens", "stop", "presence_penalty",
                                       "frequency_penalty", "seed", NULL};
    json_object *o = json_object_new_object();
    if (o == NULL)
        return NULL;
    for (size_t i = 0; keys[i]; i++) {
        json_object *v = get(root, keys[i]);
        if (v)
            json_object_object_add(o, keys[i], json_object_get(v));
    }
    char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return s;
}

/* ---- responses ---- */

static int resp_item(json_object *it, size_t i, json_object *msgs, gw_buf_t *system,
                     gw_buf_t *prompt, gw_llm_err_t *err)
{
    char p[96];
    snprintf(p, sizeof(p), "input[%zu]", i);
    if (!json_object_is_type(it, json_type_object))
        return bad_type(err, p, it, "an object");
    json_object *type = get(it, "type");
    if (type && (!json_object_is_type(type, json_type_string) ||
                 strcmp(json_object_get_string(type), "message") != 0)) {
        snprintf(p, sizeof(p), "input[%zu].type", i);
        return gw_llm_err(err, 400, p, "unsupported_value", "Unsupported '%s': only message "
                          "items (text) are supported here; use /v1/chat/completions for "
                          "tools", p);
    }
    json_object *role = get(it, "role");
    const char *r = role && json_object_is_type(role, json_type_string)
                        ? json_object_get_string(role)
                        : NULL;
    snprintf(p, sizeof(p), "input[%zu].role", i);
    if (r == NULL || (strcmp(r, "user") && strcmp(r, "system") && strcmp(r, "developer") &&
                      strcmp(r, "assistant")))
        return gw_llm_err(err, 400, p, role ? "invalid_value" : "missing_required_parameter",
                          "Invalid '%s': expected 'user', 'system', 'developer' or "
                          "'assistant'.", p);
    json_object *content = get(it, "content");
    snprintf(p, sizeof(p), "input[%zu].content", i);
    if (content == NULL)
        return gw_llm_err(err, 400, p, "missing_required_parameter", "Missing required "
                          "parameter: '%s'.", p);
    if (!json_object_is_type(content, json_type_string)) {
        if (!json_object_is_type(content, json_type_array))
            return bad_type(err, p, content, "a string or an array of input_text parts");
        size_t n = json_object_array_length(content);
        for (size_t j = 0; j < n; j++) {
            json_object *part = json_object_array_get_idx(content, j);
            json_object *pt = json_object_is_type(part, json_type_object) ? get(part, "type")
                                                                          : NULL;
            const char *ts = pt && json_object_is_type(pt, json_type_string)
                                 ? json_object_get_string(pt)
                                 : "";
            json_object *tx = pt ? get(part, "text") : NULL;
            snprintf(p, sizeof(p), "input[%zu].content[%zu]", i, j);
            if (strcmp(ts, "input_text") != 0 && strcmp(ts, "output_text") != 0)
                return gw_llm_err(err, 400, p, "unsupported_value", "Unsupported '%s': only "
                                  "input_text and output_text parts are supported", p);
            if (tx == NULL || !json_object_is_type(tx, json_type_string))
                return gw_llm_err(err, 400, p, "missing_required_parameter", "Invalid '%s': "
                                  "a text part needs 'text', a string", p);
        }
    }
    gw_buf_t text = GW_BUF_INIT;
    content_text(content, &text);
    json_object *m = json_object_new_object();
    json_object_object_add(m, "role", json_object_new_string(r));
    json_object_object_add(m, "content", json_object_new_string_len(text.data ? text.data : "",
                                                                    (int)text.len));
    json_object_array_add(msgs, m);
    if (strcmp(r, "system") == 0 || strcmp(r, "developer") == 0) {
        if (system->len)
            gw_buf_puts(system, "\n\n");
        gw_buf_append(system, text.data ? text.data : "", text.len);
    } else if (strcmp(r, "user") == 0) {
        gw_buf_reset(prompt);
        gw_buf_append(prompt, text.data ? text.data : "", text.len);
    }
    gw_buf_free(&text);
    return 0;
}

static int resp_unsupported(json_object *root, gw_llm_err_t *err)
{
    json_object *tools = get(root, "tools");
    if (tools && (!json_object_is_type(tools, json_type_array) ||
                  json_object_array_length(tools) > 0))
        return gw_llm_err(err, 400, "tools", "unsupported_parameter", "Unsupported parameter: "
                          "'tools' on /v1/responses; use /v1/chat/completions for tools");
    if (get(root, "previous_response_id"))
        return gw_llm_err(err, 400, "previous_response_id", "unsupported_parameter",
                          "Unsupported parameter: 'previous_response_id' (responses are not "
                          "stored); send the conversation in 'input', or use an agent model "
                          "with 'user' to keep a session");
    return 0;
}

int gw_llm_resp_parse(const char *body, size_t len, gw_llm_resp_req_t *out, gw_llm_err_t *err)
{
    memset(out, 0, sizeof(*out));
    out->temperature = out->top_p = -1;
    json_object *root = parse_object(body, len, err);
    if (root == NULL)
        return -1;
    out->root = root;
    gw_buf_t system = GW_BUF_INIT, prompt = GW_BUF_INIT;
    json_object *chat = json_object_new_object(), *msgs = json_object_new_array();
    json_object_object_add(chat, "messages", msgs);
    int rc = check_model(root, &out->model, err);
    if (rc == 0)
        rc = check_bool(root, "stream", &out->stream, err);
    if (rc == 0)
        rc = check_string(root, "instructions", &out->instructions, err);
    if (rc == 0 && (rc = check_range(root, "temperature", 0, 2, err)) == 0 &&
        (rc = check_range(root, "top_p", 0, 1, err)) == 0)
        rc = check_int(root, "max_output_tokens", 1, 0, err);
    if (rc == 0)
        rc = check_string(root, "user", &out->user, err);
    if (rc == 0)
        rc = resp_unsupported(root, err);
    if (rc == 0 && out->instructions) {
        json_object *m = json_object_new_object();
        json_object_object_add(m, "role", json_object_new_string("system"));
        json_object_object_add(m, "content", json_object_new_string(out->instructions));
        json_object_array_add(msgs, m);
        gw_buf_puts(&system, out->instructions);
    }
    json_object *in = rc == 0 ? get(root, "input") : NULL;
    if (rc == 0 && in == NULL) {
        rc = gw_llm_err(err, 400, "input", "missing_required_parameter", "Missing required "
                        "parameter: 'input' (a string, or an array of message items).");
    } else if (rc == 0 && json_object_is_type(in, json_type_string)) {
        json_object *m = json_object_new_object();
        json_object_object_add(m, "role", json_object_new_string("user"));
        json_object_object_add(m, "content", json_object_get(in));
        json_object_array_add(msgs, m);
        gw_buf_append(&prompt, json_object_get_string(in),
                      (size_t)json_object_get_string_len(in));
    } else if (rc == 0 && json_object_is_type(in, json_type_array)) {
        size_t n = json_object_array_length(in);
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = resp_item(json_object_array_get_idx(in, i), i, msgs, &system, &prompt, err);
    } else if (rc == 0) {
        rc = bad_type(err, "input", in, "a string or an array of message items");
    }
    if (rc == 0 && prompt.len == 0)
        rc = gw_llm_err(err, 400, "input", "invalid_value", "Invalid 'input': no user text "
                        "(give a string, or a message item with role 'user' and text)");
    if (rc == 0) {
        json_object *v;
        if ((v = get(root, "temperature")) != NULL) {
            out->temperature = json_object_get_double(v);
            json_object_object_add(chat, "temperature", json_object_get(v));
        }
        if ((v = get(root, "top_p")) != NULL) {
            out->top_p = json_object_get_double(v);
            json_object_object_add(chat, "top_p", json_object_get(v));
        }
        if ((v = get(root, "max_output_tokens")) != NULL) {
            out->max_output_tokens = json_object_get_int64(v);
            json_object_object_add(chat, "max_tokens", json_object_get(v));
        }
        if (out->user)
            json_object_object_add(chat, "user", json_object_new_string(out->user));
        if (out->stream) { /* the usage for response.completed */
            json_object *so = json_object_new_object();
            json_object_object_add(so, "include_usage", json_object_new_boolean(1));
            json_object_object_add(chat, "stream_options", so);
        }
        const char *s = json_object_to_json_string_ext(chat, JSON_C_TO_STRING_PLAIN |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
        out->chat_body = strdup(s);
        out->chat_len = strlen(s);
        out->prompt = gw_buf_steal(&prompt);
        out->system = system.len ? gw_buf_steal(&system) : NULL;
        if (out->chat_body == NULL || out->prompt == NULL)
            rc = gw_llm_err(err, 500, NULL, NULL, "out of memory");
    }
    json_object_put(chat);
    gw_buf_free(&system);
    gw_buf_free(&prompt);
    if (rc != 0) {
        gw_llm_resp_free(out);
        return -1;
    }
    return 0;
}

void gw_llm_resp_free(gw_llm_resp_req_t *r)
{
    if (r->root)
        json_object_put(r->root);
    free(r->chat_body);
    free(r->prompt);
    free(r->system);
    memset(r, 0, sizeof(*r));
}
