/* request.c - provider-anthropic: an OpenAI chat.completions request
 * translated into an Anthropic Messages request (the body; messages.c
 * does the messages), and the request headers. Pure: any thread.
 *
 * What maps where is in README.md ("Request translation"). Every refusal
 * names the member and says what is wrong; members Anthropic has no use
 * for are dropped. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ant.h"

typedef struct tr_s {
    char *err;
    size_t errlen;
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

static int is_number(json_object *o)
{
    return ant_is(o, json_type_int) || ant_is(o, json_type_double);
}

/* ---- tools -------------------------------------------------------------- */

static int32_t tools_of(tr_t *t, json_object *tools, json_object **out)
{
    *out = NULL;
    if (tools == NULL || ant_is(tools, json_type_null))
        return OC_OK;
    if (!ant_is(tools, json_type_array))
        return refuse(t, "tools must be an array of {type: function, function: {...}}");
    if (json_object_array_length(tools) == 0)
        return OC_OK;
    json_object *list = json_object_new_array();
    if (list == NULL)
        return OC_ENOMEM;
    int32_t rc = OC_OK;
    for (size_t i = 0; rc == OC_OK && i < json_object_array_length(tools); i++) {
        json_object *tool = json_object_array_get_idx(tools, i);
        json_object *fn = ant_member(tool, "function");
        const char *type = ant_str_member(tool, "type");
        json_object *name = ant_member(fn, "name");
        json_object *desc = ant_member(fn, "description");
        json_object *params = ant_member(fn, "parameters");
        if (type == NULL || strcmp(type, "function") != 0) {
            rc = refuse(t, "tools[%zu].type \"%.40s\" is not supported (function tools only)",
                        i, type ? type : "");
            break;
        }
        if (!ant_is(name, json_type_string) || json_object_get_string_len(name) == 0) {
            rc = refuse(t, "tools[%zu].function.name must be a non-empty string", i);
            break;
        }
        if (desc != NULL && !ant_is(desc, json_type_null) && !ant_is(desc, json_type_string)) {
            rc = refuse(t, "tools[%zu].function.description must be a string", i);
            break;
        }
        if (params != NULL && !ant_is(params, json_type_null) &&
            !ant_is(params, json_type_object)) {
            rc = refuse(t, "tools[%zu].function.parameters must be a JSON Schema object", i);
            break;
        }
        json_object *o = json_object_new_object();
        json_object *schema = ant_is(params, json_type_object) ? json_object_get(params)
                                                               : json_object_new_object();
        /* Anthropic requires a schema; without parameters: any object. */
        if (o == NULL || schema == NULL ||
            (!ant_is(params, json_type_object) &&
             ant_put(schema, "type", json_object_new_string("object"))) ||
            ant_put(o, "name", json_object_get(name)) ||
            (ant_is(desc, json_type_string) && ant_put(o, "description", json_object_get(desc)))) {
            json_object_put(o);
            json_object_put(schema);
            rc = OC_ENOMEM;
            break;
        }
        if (ant_put(o, "input_schema", schema) != OC_OK) {
            json_object_put(o);
            rc = OC_ENOMEM;
        } else if (ant_push(list, o) != OC_OK) {
            rc = OC_ENOMEM;
        }
    }
    if (rc != OC_OK) {
        json_object_put(list);
        return rc;
    }
    *out = list;
    return OC_OK;
}

/* Whether `name` is one of the translated tools. */
static int has_tool(json_object *tools, const char *name)
{
    for (size_t i = 0; i < json_object_array_length(tools); i++)
        if (strcmp(ant_str_member(json_object_array_get_idx(tools, i), "name"), name) == 0)
            return 1;
    return 0;
}

/* tool_choice and parallel_tool_calls as Anthropic's tool_choice (*out
 * NULL: leave it out). tools is NULL when the request has none. */
static int32_t tool_choice_of(tr_t *t, json_object *in, json_object *parallel,
                              json_object *tools, json_object **out)
{
    *out = NULL;
    const char *type = NULL, *name = NULL;
    if (in == NULL || ant_is(in, json_type_null)) {
        type = "auto";
    } else if (ant_is(in, json_type_string)) {
        const char *s = json_object_get_string(in);
        type = strcmp(s, "auto") == 0       ? "auto"
               : strcmp(s, "none") == 0     ? "none"
               : strcmp(s, "required") == 0 ? "any"
                                            : NULL;
        if (type == NULL)
            return refuse(t, "tool_choice \"%.40s\" is not one of auto, none, required or "
                             "{type: function, function: {name}}", s);
    } else if (ant_is(in, json_type_object)) {
        const char *ty = ant_str_member(in, "type");
        name = ant_str_member(ant_member(in, "function"), "name");
        if (ty == NULL || strcmp(ty, "function") != 0 || name == NULL || name[0] == '\0')
            return refuse(t, "tool_choice must be {type: function, function: {name: ...}} "
                             "when it is an object");
        type = "tool";
    } else {
        return refuse(t, "tool_choice must be a string or an object");
    }
    if (parallel != NULL && !ant_is(parallel, json_type_null) &&
        !ant_is(parallel, json_type_boolean))
        return refuse(t, "parallel_tool_calls must be true or false");
    if (tools == NULL) {
        if (strcmp(type, "any") == 0 || strcmp(type, "tool") == 0)
            return refuse(t, "tool_choice requires a tool call but the request has no tools");
        return OC_OK; /* auto or none without tools: nothing to say */
    }
    if (name != NULL && !has_tool(tools, name))
        return refuse(t, "tool_choice names function \"%.60s\", which is not in tools", name);
    int serial = parallel != NULL && ant_is(parallel, json_type_boolean) &&
                 !json_object_get_boolean(parallel);
    if (strcmp(type, "auto") == 0 && !serial && (in == NULL || ant_is(in, json_type_null)))
        return OC_OK; /* Anthropic's default is auto too */
    json_object *o = json_object_new_object();
    if (o == NULL || ant_put(o, "type", json_object_new_string(type)) ||
        (name && ant_put(o, "name", json_object_new_string(name))) ||
        (serial && strcmp(type, "none") != 0 &&
         ant_put(o, "disable_parallel_tool_use", json_object_new_boolean(1)))) {
        json_object_put(o);
        return OC_ENOMEM;
    }
    *out = o;
    return OC_OK;
}

/* ---- scalars ------------------------------------------------------------ */

static int absent(json_object *v)
{
    return v == NULL || ant_is(v, json_type_null);
}

/* A number in [0, 1] copied as it came, or refused. */
static int32_t unit_number(tr_t *t, json_object *in, const char *key, json_object *out,
                           const char *why)
{
    json_object *v = ant_member(in, key);
    if (absent(v))
        return OC_OK;
    if (!is_number(v))
        return refuse(t, "%s must be a number from 0 to 1", key);
    double d = json_object_get_double(v);
    if (d < 0 || d > 1)
        return refuse(t, "%s %g is out of range: Anthropic accepts 0 to 1%s", key, d, why);
    return ant_put(out, key, json_object_get(v));
}

static int32_t max_tokens_of(tr_t *t, const ant_config_t *cfg, json_object *in, json_object *out)
{
    json_object *v = ant_member(in, "max_completion_tokens");
    const char *key = "max_completion_tokens";
    if (absent(v)) {
        v = ant_member(in, "max_tokens");
        key = "max_tokens";
    }
    if (absent(v))
        return ant_put(out, "max_tokens", json_object_new_int64(cfg->max_tokens));
    if (!ant_is(v, json_type_int) || json_object_get_int64(v) < 1)
        return refuse(t, "%s must be a positive integer", key);
    return ant_put(out, "max_tokens", json_object_get(v));
}

static int32_t stop_of(tr_t *t, json_object *in, json_object *out)
{
    json_object *v = ant_member(in, "stop");
    if (absent(v))
        return OC_OK;
    json_object *list = NULL;
    if (ant_is(v, json_type_string)) {
        list = json_object_new_array();
        if (list == NULL || ant_push(list, json_object_get(v)) != OC_OK) {
            json_object_put(list);
            return OC_ENOMEM;
        }
    } else if (ant_is(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++)
            if (!ant_is(json_object_array_get_idx(v, i), json_type_string))
                return refuse(t, "stop[%zu] must be a string", i);
        if (json_object_array_length(v) == 0)
            return OC_OK;
        list = json_object_get(v);
    } else {
        return refuse(t, "stop must be a string or an array of strings");
    }
    return ant_put(out, "stop_sequences", list);
}

static int32_t scalars(tr_t *t, json_object *in, json_object *out)
{
    json_object *n = ant_member(in, "n");
    if (!absent(n) && (!ant_is(n, json_type_int) || json_object_get_int64(n) != 1))
        return refuse(t, "n must be 1: Anthropic returns one choice per request (send n "
                         "requests instead)");
    int32_t rc = unit_number(t, in, "temperature", out, " (OpenAI's 0 to 2 has no equivalent "
                                                        "above 1)");
    if (rc == OC_OK)
        rc = unit_number(t, in, "top_p", out, "");
    json_object *k = ant_member(in, "top_k"); /* not OpenAI's, but vLLM-style clients send it */
    if (rc == OC_OK && !absent(k)) {
        if (!ant_is(k, json_type_int) || json_object_get_int64(k) < 0)
            return refuse(t, "top_k must be a non-negative integer");
        rc = ant_put(out, "top_k", json_object_get(k));
    }
    if (rc == OC_OK)
        rc = stop_of(t, in, out);
    json_object *user = ant_member(in, "user");
    if (rc == OC_OK && !absent(user)) {
        if (!ant_is(user, json_type_string))
            return refuse(t, "user must be a string");
        json_object *meta = json_object_new_object();
        if (meta == NULL || ant_put(meta, "user_id", json_object_get(user)) != OC_OK) {
            json_object_put(meta);
            return OC_ENOMEM;
        }
        rc = ant_put(out, "metadata", meta);
    }
    return rc;
}

/* ---- the whole body ----------------------------------------------------- */

static int32_t translate(tr_t *t, const ant_config_t *cfg, json_object *in, const char *model,
                         int stream, json_object *out)
{
    /* Messages first: a request without them is refused before anything
     * else is looked at. */
    ant_buf_t system = {0};
    json_object *messages = NULL;
    int32_t rc = ant_messages(ant_member(in, "messages"), &messages, &system, t->err,
                             t->errlen);
    if (rc == OC_OK)
        rc = ant_put(out, "model", json_object_new_string(model));
    if (rc == OC_OK)
        rc = max_tokens_of(t, cfg, in, out);
    if (rc == OC_OK && system.len > 0)
        rc = ant_put(out, "system", json_object_new_string_len(system.data, (int)system.len));
    ant_buf_free(&system);
    if (rc != OC_OK) {
        json_object_put(messages);
        return rc;
    }
    if (ant_put(out, "messages", messages) != OC_OK)
        return OC_ENOMEM;
    json_object *tools = NULL, *choice = NULL;
    rc = tools_of(t, ant_member(in, "tools"), &tools);
    if (rc == OC_OK)
        rc = tool_choice_of(t, ant_member(in, "tool_choice"),
                            ant_member(in, "parallel_tool_calls"), tools, &choice);
    if (rc == OC_OK && tools != NULL) {
        rc = ant_put(out, "tools", tools);
        tools = NULL;
    }
    if (rc == OC_OK && choice != NULL) {
        rc = ant_put(out, "tool_choice", choice);
        choice = NULL;
    }
    json_object_put(tools);
    json_object_put(choice);
    if (rc == OC_OK)
        rc = scalars(t, in, out);
    if (rc == OC_OK)
        rc = ant_put(out, "stream", json_object_new_boolean(stream != 0));
    return rc;
}

int32_t ant_request_body(const ant_config_t *cfg, const char *in, size_t len, const char *model,
                         int stream, char **out, size_t *out_len, int *include_usage,
                         char *err, size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    *include_usage = 0;
    tr_t t = {.err = err, .errlen = errlen};
    if (errlen > 0)
        err[0] = '\0';
    json_object *root = ant_json_parse(in, len);
    if (!ant_is(root, json_type_object)) {
        json_object_put(root);
        return refuse(&t, "the request body is not a JSON object");
    }
    json_object *opts = ant_member(root, "stream_options");
    json_object *iu = ant_member(opts, "include_usage");
    *include_usage = ant_is(iu, json_type_boolean) && json_object_get_boolean(iu);
    json_object *o = json_object_new_object();
    int32_t rc = o ? translate(&t, cfg, root, model, stream, o) : OC_ENOMEM;
    if (rc == OC_OK && (*out = ant_json_dump(o, out_len)) == NULL)
        rc = OC_ENOMEM;
    json_object_put(o);
    json_object_put(root);
    return rc;
}

size_t ant_request_headers(const ant_config_t *cfg, int stream, oc_http_header_t *hdrs)
{
    size_t n = 0;
    /* Configured headers win over ours (checked at init: never over the key
     * or the version). */
    if (!cfg->has_content_type)
        hdrs[n++] = (oc_http_header_t){"Content-Type", "application/json"};
    if (!cfg->has_accept)
        hdrs[n++] = (oc_http_header_t){"Accept", stream ? "text/event-stream" : "application/json"};
    hdrs[n++] = (oc_http_header_t){"anthropic-version", cfg->api_version};
    if (cfg->api_key)
        hdrs[n++] = (oc_http_header_t){"x-api-key", cfg->api_key};
    for (size_t i = 0; i < cfg->header_count; i++)
        hdrs[n++] = cfg->headers[i];
    return n;
}
