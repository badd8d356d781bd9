/* config.c - provider-anthropic: the providers[] entry of one instance.
 *
 * Every problem is reported (not only the first), each at its node with
 * file:line:col through the host. Secrets (apiKey, header values) never
 * appear in a message. Everything kept is copied: the config tree is only
 * valid until the next reload. Runs on the home loop, from init. */
#define _GNU_SOURCE /* strcasestr */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ant.h"

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

static int is_token(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!isalnum(c) && strchr("!#$%&'*+-.^_`|~", c) == NULL)
            return 0;
    }
    return 1;
}

/* Marks a subtree read, so a value already reported as wrong is not also
 * reported key by key as unknown. */
static void mark_read(ant_state_t *st, oc_config_t *node)
{
    const oc_host_api_t *h = st->host;
    int32_t t = h->cfg_type(node);
    if (t != OC_CFG_MAP && t != OC_CFG_LIST)
        return;
    for (size_t i = 0; i < h->cfg_len(node); i++)
        mark_read(st, h->cfg_at(st->self, node, i));
}

/* apiKey: optional (a proxy may add it); "" counts as not set so
 * ${ANTHROPIC_API_KEY:-} works. */
static int read_api_key(ant_state_t *st, oc_config_t *cfg)
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
    st->cfg.api_key = strdup(key);
    return st->cfg.api_key ? 0 : -1;
}

/* baseUrl: http(s), no blanks; a trailing '/' and a trailing "/v1" are
 * dropped (both https://api.anthropic.com and .../v1 are common), and
 * "/v1/messages" is appended. A query stays after the path. */
static int read_base_url(ant_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    const char *u = NULL;
    if (h->cfg_str(st->self, cfg, "baseUrl", ANT_DEFAULT_BASE_URL, &u) == OC_ECONFIG)
        return -1;
    oc_config_t *n = h->cfg_child(st->self, cfg, "baseUrl");
    size_t scheme = strncasecmp(u, "https://", 8) == 0  ? 8
                    : strncasecmp(u, "http://", 7) == 0 ? 7
                                                         : 0;
    if (scheme == 0 || u[scheme] == '\0' || u[scheme] == '/' || u[scheme] == '?' ||
        u[scheme] == '#') {
        h->cfg_error(st->self, n, "expected an http:// or https:// URL with a host, like "
                                  "https://api.anthropic.com, got \"%.80s\"", u);
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
    if (plen >= scheme + 4 && strncmp(u + plen - 3, "/v1", 3) == 0)
        plen -= 3;
    while (plen > scheme && u[plen - 1] == '/')
        plen--;
    const char *query = u[qat] == '?' ? u + qat : "";
    size_t qlen = strcspn(query, "#");
    st->cfg.base_url = strndup(u, plen);
    size_t ulen = plen + sizeof "/v1/messages" - 1 + qlen + 1;
    st->cfg.url = malloc(ulen);
    if (st->cfg.base_url == NULL || st->cfg.url == NULL)
        return -1;
    snprintf(st->cfg.url, ulen, "%.*s/v1/messages%.*s", (int)plen, u, (int)qlen, query);
    return 0;
}

/* anthropicVersion: a date, YYYY-MM-DD (the API refuses anything else). */
static int read_api_version(ant_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    const char *v = NULL;
    if (h->cfg_str(st->self, cfg, "anthropicVersion", ANT_DEFAULT_API_VERSION, &v) ==
        OC_ECONFIG)
        return -1;
    int ok = strlen(v) == 10 && v[4] == '-' && v[7] == '-';
    for (size_t i = 0; ok && i < 10; i++)
        ok = i == 4 || i == 7 || isdigit((unsigned char)v[i]);
    if (!ok) {
        h->cfg_error(st->self, h->cfg_child(st->self, cfg, "anthropicVersion"),
                     "expected an API version date like %s, got \"%.40s\"",
                     ANT_DEFAULT_API_VERSION, v);
        return -1;
    }
    st->cfg.api_version = strdup(v);
    return st->cfg.api_version ? 0 : -1;
}

/* model (default model) and models (what the models op lists). */
static int read_models(ant_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    const char *model = NULL;
    int bad = 0;
    if (h->cfg_str(st->self, cfg, "model", NULL, &model) == OC_ECONFIG)
        bad = 1;
    if (model != NULL && (model[0] == '\0' || has_ctl(model))) {
        h->cfg_error(st->self, h->cfg_child(st->self, cfg, "model"),
                     "expected a model id like claude-sonnet-4-20250514 (leave it out when "
                     "requests name the model)");
        bad = 1;
        model = NULL;
    }
    if (model && (st->cfg.model = strdup(model)) == NULL)
        return -1;

    oc_config_t *list = h->cfg_child(st->self, cfg, "models");
    int32_t type = h->cfg_type(list);
    size_t n = type == OC_CFG_LIST ? h->cfg_len(list) : 0;
    if (list != NULL && type != OC_CFG_LIST && type != OC_CFG_NULL) {
        h->cfg_error(st->self, list, "expected a list of model ids, like "
                                     "[claude-sonnet-4-20250514, claude-3-5-haiku-latest]");
        mark_read(st, list);
        bad = 1;
    }
    if (type != OC_CFG_LIST && st->cfg.model != NULL)
        n = 1; /* default: [model] */
    st->cfg.models = calloc(n + 1, sizeof *st->cfg.models);
    if (st->cfg.models == NULL)
        return -1;
    if (type != OC_CFG_LIST) {
        if (n == 1 && (st->cfg.models[0] = strdup(st->cfg.model)) == NULL)
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

/* Why header `name` may not be configured, or NULL when it may. */
static const char *refused_header(const ant_state_t *st, const char *name)
{
    if (strcasecmp(name, "content-length") == 0 || strcasecmp(name, "transfer-encoding") == 0 ||
        strcasecmp(name, "host") == 0)
        return "is set by the HTTP client; remove it";
    if (strcasecmp(name, "anthropic-version") == 0)
        return "is set by anthropicVersion; set that instead";
    if (strcasecmp(name, "x-api-key") == 0 && st->cfg.api_key != NULL)
        return "is also set by apiKey; keep one of them";
    return NULL;
}

/* headers: a map of extra request headers (anthropic-beta, ...). */
static int read_headers(ant_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    oc_config_t *map = h->cfg_child(st->self, cfg, "headers");
    int32_t type = h->cfg_type(map);
    if (map == NULL || type == OC_CFG_NULL)
        return 0;
    if (type != OC_CFG_MAP) {
        h->cfg_error(st->self, map, "expected a map of header names to values, like "
                                    "{anthropic-beta: prompt-caching-2024-07-31}");
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
        const char *why = NULL;
        if (name == NULL || !is_token(name)) {
            h->cfg_error(st->self, v, "\"%.60s\" is not a valid header name", name ? name : "");
            bad = 1;
        } else if (value == NULL) {
            h->cfg_error(st->self, v, "expected a string value for header %s", name);
            mark_read(st, v);
            bad = 1;
        } else if (has_ctl(value)) {
            h->cfg_error(st->self, v, "the value of header %s contains a line break or control "
                                      "character; the value is not shown", name);
            bad = 1;
        } else if ((why = refused_header(st, name)) != NULL) {
            h->cfg_error(st->self, v, "header %s %s", name, why);
            bad = 1;
        } else {
            st->cfg.has_content_type |= strcasecmp(name, "content-type") == 0;
            st->cfg.has_accept |= strcasecmp(name, "accept") == 0;
            oc_http_header_t *o = &st->cfg.headers[st->cfg.header_count++];
            o->name = strdup(name);
            o->value = strdup(value);
            if (o->name == NULL || o->value == NULL)
                return -1;
        }
    }
    return bad ? -1 : 0;
}

/* Values an upstream might echo back that must never reach an error text:
 * the key, and header values whose name says they are credentials. */
static int collect_secrets(ant_config_t *c)
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

int32_t ant_config_read(ant_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    if (cfg == NULL || h->cfg_type(cfg) != OC_CFG_MAP) {
        h->cfg_error(st->self, cfg, "expected a providers[] entry (a map)");
        return OC_ECONFIG;
    }
    int bad = 0;
    int64_t timeout = ANT_DEFAULT_TIMEOUT_MS, retries = 0, max_tokens = ANT_DEFAULT_MAX_TOKENS;
    if (h->cfg_int(st->self, cfg, "timeoutMs", ANT_DEFAULT_TIMEOUT_MS, 1, ANT_MAX_TIMEOUT_MS,
                   &timeout) == OC_ECONFIG)
        bad = 1;
    if (h->cfg_int(st->self, cfg, "maxRetries", 0, 0, ANT_MAX_RETRIES, &retries) == OC_ECONFIG)
        bad = 1;
    if (h->cfg_int(st->self, cfg, "maxTokens", ANT_DEFAULT_MAX_TOKENS, 1, ANT_MAX_MAX_TOKENS,
                   &max_tokens) == OC_ECONFIG)
        bad = 1;
    st->cfg.timeout_ms = (uint32_t)timeout;
    st->cfg.max_retries = (uint32_t)retries;
    st->cfg.max_tokens = (uint32_t)max_tokens;
    /* Each reader reports its own problems; keep going to report them all.
     * The key first: read_headers checks x-api-key against it. */
    if (read_api_key(st, cfg) != 0)
        bad = 1;
    if (read_base_url(st, cfg) != 0)
        bad = 1;
    if (read_api_version(st, cfg) != 0)
        bad = 1;
    if (read_models(st, cfg) != 0)
        bad = 1;
    if (read_headers(st, cfg) != 0)
        bad = 1;
    if (!bad && collect_secrets(&st->cfg) != 0)
        return OC_ENOMEM;
    return bad ? OC_ECONFIG : OC_OK;
}

static void wipe_free(char *s)
{
    if (s == NULL)
        return;
    volatile char *p = s; /* the key must not linger in freed memory */
    while (*p)
        *p++ = '\0';
    free(s);
}

void ant_config_free(ant_config_t *c)
{
    free(c->base_url);
    free(c->url);
    free(c->model);
    for (size_t i = 0; c->models && c->models[i]; i++)
        free(c->models[i]);
    free(c->models);
    wipe_free(c->api_key);
    free(c->api_version);
    for (size_t i = 0; i < c->header_count; i++) {
        free((char *)c->headers[i].name);
        wipe_free((char *)c->headers[i].value);
    }
    free(c->headers);
    free(c->secrets);
    memset(c, 0, sizeof *c);
}
