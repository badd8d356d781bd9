/* request.c - provider-openai: the upstream request (body and headers). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oai.h"

int32_t oai_request_body(const char *in, size_t len, const char *model, int stream, char **out,
                         size_t *out_len, char *err, size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    if (in == NULL || len == 0 || len > INT32_MAX) {
        snprintf(err, errlen, "the request has no body");
        return OC_EINVAL;
    }
    json_tokener *tok = json_tokener_new_ex(OAI_JSON_DEPTH);
    if (tok == NULL)
        return OC_ENOMEM;
    json_object *root = json_tokener_parse_ex(tok, in, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (root && used < len && (in[used] == ' ' || in[used] == '\t' || in[used] == '\r' ||
                                  in[used] == '\n' || in[used] == '\0'))
        used++;
    if (root == NULL || jerr != json_tokener_success || used < len ||
        !json_object_is_type(root, json_type_object)) {
        snprintf(err, errlen, "the request body is not a JSON object%s%s",
                 root == NULL ? ": " : "",
                 root == NULL ? json_tokener_error_desc(jerr) : "");
        json_object_put(root);
        return OC_EINVAL;
    }
    json_object *m = json_object_new_string(model);
    json_object *s = json_object_new_boolean(stream != 0);
    if (m == NULL || s == NULL || json_object_object_add(root, "model", m) != 0 ||
        json_object_object_add(root, "stream", s) != 0) {
        json_object_put(root);
        return OC_ENOMEM;
    }
    if (!stream) /* OpenAI refuses stream_options on a non-streaming request */
        json_object_object_del(root, "stream_options");
    size_t n = 0;
    const char *text = json_object_to_json_string_length(
        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    char *copy = text ? malloc(n + 1) : NULL;
    if (copy != NULL) {
        memcpy(copy, text, n + 1);
        *out = copy;
        *out_len = n;
    }
    json_object_put(root);
    return copy ? OC_OK : OC_ENOMEM;
}

size_t oai_request_headers(const oai_config_t *cfg, int stream, oc_http_header_t *hdrs)
{
    size_t n = 0;
    /* Configured headers win over ours (checked at init: never over the key). */
    if (!cfg->has_content_type)
        hdrs[n++] = (oc_http_header_t){"Content-Type", "application/json"};
    if (!cfg->has_accept)
        hdrs[n++] = (oc_http_header_t){"Accept", stream ? "text/event-stream" : "application/json"};
    if (cfg->authorization)
        hdrs[n++] = (oc_http_header_t){"Authorization", cfg->authorization};
    for (size_t i = 0; i < cfg->header_count; i++)
        hdrs[n++] = cfg->headers[i];
    return n;
}
