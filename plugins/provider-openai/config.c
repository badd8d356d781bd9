/* config.c - provider-openai: the providers[] entry of one instance.
 *
 * Every problem is reported (not only the first), each at its node with
 * file:line:col through the host. Secrets (apiKey, header values) never
 * appear in a message. Everything kept is copied: the config tree is only
 * valid until the next reload. */
#define _GNU_SOURCE /* strcasestr */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oai.h"

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

static int is_tchar(unsigned char c)
{
    return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_token(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return 0;
    return 1;
}

/* Marks a subtree read, so a value already reported as wrong is not also
 * reported key by key as unknown. */
static void mark_read(oai_state_t *st, oc_config_t *node)
{
    const oc_host_api_t *h = st->host;
    int32_t t = h->cfg_type(node);
    if (t != OC_CFG_MAP && t != OC_CFG_LIST)
        return;
    for (size_t i = 0; i < h->cfg_len(node); i++)
        mark_read(st, h->cfg_at(st->self, node, i));
}

/* apiKey: optional (local servers need none); "" counts as not set so
 * ${OPENAI_API_KEY:-} works. */
static int read_api_key(oai_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    const char *key = NULL;
    if (h->cfg_str(st->self, cfg, "apiKey", NULL, &key) == OC_ECONFIG)
        return -1;
    if (key == NULL || key[0] == '\0')
        return 0;
    oc_config_t *n = h->cfg_child(st->self, cfg, "apiKey");
    size_t len = strlen(key);
    if (has_ctl(key)) {
        h->cfg_error(st->self, n, "contains control characters (a trailing newline from a "
                                  "secret file?); the value is not shown");
        return -1;
    }
    if (isspace((unsigned char)key[0]) || isspace((unsigned char)key[len - 1])) {
        h->cfg_error(st->self, n, "has leading or trailing whitespace; the value is not shown");
        return -1;
    }
    size_t alen = sizeof "Bearer " - 1 + len + 1;
    st->cfg.authorization = malloc(alen);
    if (st->cfg.authorization == NULL)
        return -1;
    snprintf(st->cfg.authorization, alen, "Bearer %s", key);
    st->cfg.api_key = st->cfg.authorization + sizeof "Bearer " - 1;
    return 0;
}

/* baseUrl: http(s), no blanks; trailing '/' dropped. A query (Azure's
 * ?api-version=...) stays after the path. */
static int read_base_url(oai_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    const char *u = NULL;
    if (h->cfg_str(st->self, cfg, "baseUrl", OAI_DEFAULT_BASE_URL, &u) == OC_ECONFIG)
        return -1;
    oc_config_t *n = h->cfg_child(st->self, cfg, "baseUrl");
    size_t scheme = strncasecmp(u, "https://", 8) == 0  ? 8
                    : strncasecmp(u, "http://", 7) == 0 ? 7
                                                         : 0;
    if (scheme == 0 || u[scheme] == '\0' || u[scheme] == '/' || u[scheme] == '?') {
        h->cfg_error(st->self, n, "expected an http:// or https:// URL with a host, like "
                                  "https://api.openai.com/v1, got \"%.80s\"", u);
        return -1;
    }
    for (const char *c = u; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f) {
            h->cfg_error(st->self, n, "the URL contains a space or control character");
            return -1;
        }
    size_t qat = strcspn(u, "?#");
    size_t plen = qat;
    while (plen > scheme && u[plen - 1] == '/')
        plen--;
    const char *query = u[qat] == '?' ? u + qat : "";
    size_t qlen = strcspn(query, "#");
    st->cfg.base_url = strndup(u, plen);
    size_t ulen = plen + sizeof "/chat/completions" - 1 + qlen + 1;
    st->cfg.url = malloc(ulen);
    if (st->cfg.base_url == NULL || st->cfg.url == NULL)
        return -1;
    snprintf(st->cfg.url, ulen, "%.*s/chat/completions%.*s", (int)plen, u, (int)qlen, query);
    return 0;
}

/* model (default model) and models (what the models op lists). */
static int read_models(oai_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    const char *model = NULL;
    int bad = 0;
    if (h->cfg_str(st->self, cfg, "model", NULL, &model) == OC_ECONFIG)
        bad = 1;
    if (model != NULL && model[0] == '\0') {
        h->cfg_error(st->self, h->cfg_child(st->self, cfg, "model"),
                     "must not be empty (leave it out when requests name the model)");
        bad = 1;
        model = NULL;
    }
    if (model && (st->cfg.model = dup_str(model)) == NULL)
        return -1;

    oc_config_t *list = h->cfg_child(st->self, cfg, "models");
    int32_t type = h->cfg_type(list);
    size_t n = type == OC_CFG_LIST ? h->cfg_len(list) : 0;
    if (list != NULL && type != OC_CFG_LIST && type != OC_CFG_NULL) {
        h->cfg_error(st->self, list, "expected a list of model ids, like [gpt-4o, gpt-4o-mini]");
        mark_read(st, list);
        bad = 1;
    }
    if (type != OC_CFG_LIST && st->cfg.model != NULL)
        n = 1; /* default: [model] */
    st->cfg.models = calloc(n + 1, sizeof *st->cfg.models);
    if (st->cfg.models == NULL)
        return -1;
    if (type != OC_CFG_LIST) {
        if (n == 1 && (st->cfg.models[0] = dup_str(st->cfg.model)) == NULL)
            return -1;
        return bad ? -1 : 0;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        oc_config_t *item = h->cfg_at(st->self, list, i);
        const char *id = h->cfg_scalar(item);
        if (id == NULL || id[0] == '\0' || has_ctl(id)) {
            h->cfg_error(st->self, item, "expected a model id (a non-empty string)");
            mark_read(st, item);
            bad = 1;
            continue;
        }
        if ((st->cfg.models[k++] = strdup(id)) == NULL)
            return -1;
    }
    return bad ? -1 : 0;
}

/* headers: a map of extra request headers. */
static int read_headers(oai_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    oc_config_t *map = h->cfg_child(st->self, cfg, "headers");
    int32_t type = h->cfg_type(map);
    if (map == NULL || type == OC_CFG_NULL)
        return 0;
    if (type != OC_CFG_MAP) {
        h->cfg_error(st->self, map, "expected a map of header names to values, like "
                                    "{OpenAI-Organization: org-123}");
        mark_read(st, map);
        return -1;
    }
    size_t n = h->cfg_len(map);
    st->cfg.headers = calloc(n ? n : 1, sizeof *st->cfg.headers);
    if (st->cfg.headers == NULL)
        return -1;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        oc_config_t *v = h->cfg_at(st->self, map, i);
        const char *name = h->cfg_key_at(map, i);
        const char *value = h->cfg_scalar(v);
        if (name == NULL || !is_token(name)) {
            h->cfg_error(st->self, v, "\"%.60s\" is not a valid header name", name ? name : "");
            bad = 1;
            continue;
        }
        if (value == NULL) {
            h->cfg_error(st->self, v, "expected a string value for header %s", name);
            mark_read(st, v);
            bad = 1;
            continue;
        }
        if (has_ctl(value)) {
            h->cfg_error(st->self, v, "the value of header %s contains a line break or control "
                                      "character; the value is not shown", name);
            bad = 1;
            continue;
        }
        if (strcasecmp(name, "content-length") == 0 || strcasecmp(name, "transfer-encoding") == 0 ||
            strcasecmp(name, "host") == 0) {
            h->cfg_error(st->self, v, "header %s is set by the HTTP client; remove it", name);
            bad = 1;
            continue;
        }
        if (strcasecmp(name, "authorization") == 0 && st->cfg.authorization != NULL) {
            h->cfg_error(st->self, v, "Authorization is also set by apiKey; keep one of them");
            bad = 1;
            continue;
        }
        if (strcasecmp(name, "content-type") == 0)
            st->cfg.has_content_type = 1;
        if (strcasecmp(name, "accept") == 0)
            st->cfg.has_accept = 1;
        oc_http_header_t *o = &st->cfg.headers[st->cfg.header_count++];
        o->name = strdup(name);
        o->value = strdup(value);
        if (o->name == NULL || o->value == NULL)
            return -1;
    }
    return bad ? -1 : 0;
}

/* Values an upstream might echo back that must never reach an error text:
 * the key, and header values whose name says they are credentials. */
static int collect_secrets(oai_config_t *c)
{
    c->secrets = calloc(c->header_count + 2, sizeof *c->secrets);
    if (c->secrets == NULL)
        return -1;
    size_t n = 0;
    if (c->api_key)
        c->secrets[n++] = c->api_key;
    static const char *const words[] = {"key", "token", "auth", "secret", "password", NULL};
    for (size_t i = 0; i < c->header_count; i++)
        for (size_t w = 0; words[w]; w++)
            if (strcasestr(c->headers[i].name, words[w]) != NULL) {
                c->secrets[n++] = c->headers[i].value;
                break;
            }
    return 0;
}

int32_t oai_config_read(oai_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    if (cfg == NULL || h->cfg_type(cfg) != OC_CFG_MAP) {
        h->cfg_error(st->self, cfg, "expected a providers[] entry (a map)");
        return OC_ECONFIG;
    }
    int bad = 0;
    int64_t timeout = OAI_DEFAULT_TIMEOUT_MS, retries = 0;
    if (h->cfg_int(st->self, cfg, "timeoutMs", OAI_DEFAULT_TIMEOUT_MS, 1, OAI_MAX_TIMEOUT_MS,
                   &timeout) == OC_ECONFIG)
        bad = 1;
    if (h->cfg_int(st->self, cfg, "maxRetries", 0, 0, OAI_MAX_RETRIES, &retries) == OC_ECONFIG)
        bad = 1;
    st->cfg.timeout_ms = (uint32_t)timeout;
    st->cfg.max_retries = (uint32_t)retries;
    /* Each reader reports its own problems; keep going to report them all. */
    if (read_api_key(st, cfg) != 0)
        bad = 1;
    if (read_base_url(st, cfg) != 0)
        bad = 1;
    if (read_models(st, cfg) != 0)
        bad = 1;
    if (read_headers(st, cfg) != 0)
        bad = 1;
    if (!bad && collect_secrets(&st->cfg) != 0)
        return OC_ENOMEM;
    return bad ? OC_ECONFIG : OC_OK;
}

void oai_config_free(oai_config_t *c)
{
    free(c->base_url);
    free(c->url);
    free(c->model);
    for (size_t i = 0; c->models && c->models[i]; i++)
        free(c->models[i]);
    free(c->models);
    if (c->authorization) {
        /* The key must not linger in freed memory. */
        volatile char *p = c->authorization;
        while (*p)
            *p++ = '\0';
        free(c->authorization);
    }
    for (size_t i = 0; i < c->header_count; i++) {
        free((char *)c->headers[i].name);
        free((char *)c->headers[i].value);
    }
    free(c->headers);
    free(c->secrets);
    memset(c, 0, sizeof *c);
}
