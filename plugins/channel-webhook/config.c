/* config.c - reads channels.webhook (see README.md, "Configuration").
 *
 * Only this plugin's keys are read. dmPolicy, allowFrom, groupPolicy,
 * groupAllowFrom, groups and mentionPatterns live in the same section but
 * belong to the core, which reads (and reports) them itself: touching them
 * here would hide a typo from the core's unknown-key report. */
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "webhook.h"

#define TIMEOUT_MIN_MS 100
#define TIMEOUT_MAX_MS 600000
#define MAX_BODY_MIN 64
#define MAX_BODY_MAX (64 * 1024 * 1024)
#define ACCOUNT_ID_MAX 64

/* What one map (the section, or one account) says; strings borrowed from
 * the config. NULL = not set there. */
typedef struct layer_s {
    oc_config_t *map;
    const char *secret;
    const char *url;
    int secret_reported; /* set but bad: already reported, do not say "missing" too */
    int url_reported;
} layer_t;

typedef struct reader_s {
    const oc_host_api_t *host;
    oc_plugin_t *self;
    int bad; /* a problem was reported */
} reader_t;

static int got(int32_t rc)
{
    return rc == OC_OK || rc == OC_ENOENT;
}

/* http:// or https://, a host, no spaces or control characters. The HTTP
 * client checks the rest when the call is made. */
static const char *url_problem(const char *u)
{
    size_t skip;
    if (strncasecmp(u, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(u, "https://", 8) == 0)
        skip = 8;
    else
        return "must be an http:// or https:// URL";
    if (u[skip] == '\0' || u[skip] == '/' || u[skip] == '?' || u[skip] == '#')
        return "has no host";
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return "contains a space or control character (percent-encode it)";
    return NULL;
}

/* Reads secret and callbackUrl of one map; reports bad values. */
static void read_layer(reader_t *r, oc_config_t *map, layer_t *out)
{
    const oc_host_api_t *h = r->host;
    memset(out, 0, sizeof *out);
    out->map = map;
    if (map == NULL)
        return;
    const char *v = NULL;
    int32_t rc = h->cfg_str(r->self, map, "secret", NULL, &v);
    if (rc == OC_OK && (v == NULL || v[0] == '\0')) {
        h->cfg_error(r->self, h->cfg_child(r->self, map, "secret"),
                     "must not be empty (the HMAC-SHA256 key shared with the sender; e.g. "
                     "`openssl rand -hex 32`)");
        r->bad = out->secret_reported = 1;
    } else if (rc == OC_OK) {
        out->secret = v;
    } else if (rc != OC_ENOENT) {
        r->bad = out->secret_reported = 1;
    }
    v = NULL;
    rc = h->cfg_str(r->self, map, "callbackUrl", NULL, &v);
    if (rc == OC_OK) {
        const char *why = v != NULL ? url_problem(v) : "must be an http:// or https:// URL";
        if (why != NULL) {
            h->cfg_error(r->self, h->cfg_child(r->self, map, "callbackUrl"), "%s", why);
            r->bad = out->url_reported = 1;
        } else {
            out->url = v;
        }
    } else if (rc != OC_ENOENT) {
        r->bad = out->url_reported = 1;
    }
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

/* Adds account `id`: its own layer over the top-level one. `where` is the
 * account's node (NULL for the implicit "default" account). */
static void add_account(reader_t *r, wh_config_t *cfg, const char *id, const layer_t *own,
                        const layer_t *top, oc_config_t *where)
{
    const oc_host_api_t *h = r->host;
    const char *secret = own->secret ? own->secret : top->secret;
    const char *url = own->url ? own->url : top->url;
    if (secret == NULL && !own->secret_reported && !top->secret_reported) {
        if (where != NULL)
            h->cfg_error(r->self, where, "no secret: set secret here or in channels.webhook");
        else
            h->cfg_error(r->self, top->map, "missing key 'secret' (required: the HMAC-SHA256 "
                                            "key shared with the sender)");
    }
    if (url == NULL && !own->url_reported && !top->url_reported) {
        if (where != NULL)
            h->cfg_error(r->self, where,
                         "no callbackUrl: set callbackUrl here or in channels.webhook");
        else
            h->cfg_error(r->self, top->map, "missing key 'callbackUrl' (required: the "
                                            "http(s) URL replies are POSTed to)");
    }
    if (secret == NULL || url == NULL)
        r->bad = 1;
    if (r->bad)
        return; /* go on reporting, stop building */
    wh_account_t *a = &cfg->accounts[cfg->account_count];
    a->id = dup_str(id);
    a->secret = dup_str(secret);
    a->secret_len = strlen(secret);
    a->callback_url = dup_str(url);
    cfg->account_count++;
    if (a->id == NULL || a->secret == NULL || a->callback_url == NULL) {
        h->cfg_error(r->self, where, "out of memory");
        r->bad = 1;
    }
}

static const char *account_id_problem(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > ACCOUNT_ID_MAX)
        return "must be 1 to 64 characters";
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return "may contain only letters, digits, '-', '_' and '.'";
    }
    return NULL;
}

static void read_accounts(reader_t *r, wh_config_t *cfg, oc_config_t *accounts,
                          const layer_t *top)
{
    const oc_host_api_t *h = r->host;
    size_t n = h->cfg_len(accounts);
    if (n == 0) {
        h->cfg_error(r->self, accounts,
                     "is empty: list at least one account, or remove 'accounts' for a "
                     "single account named \"default\"");
        r->bad = 1;
        return;
    }
    cfg->accounts = calloc(n, sizeof *cfg->accounts);
    if (cfg->accounts == NULL) {
        h->cfg_error(r->self, accounts, "out of memory");
        r->bad = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *id = h->cfg_key_at(accounts, i);
        oc_config_t *node = h->cfg_at(r->self, accounts, i);
        const char *why = id != NULL ? account_id_problem(id) : "is not a valid account id";
        if (why != NULL) {
            h->cfg_error(r->self, node, "account id '%s' %s", id ? id : "", why);
            r->bad = 1;
            continue;
        }
        int32_t t = h->cfg_type(node);
        if (t != OC_CFG_MAP && t != OC_CFG_NULL) {
            h->cfg_error(r->self, node, "must be a map {secret, callbackUrl} (both optional)");
            r->bad = 1;
            continue;
        }
        layer_t own;
        read_layer(r, t == OC_CFG_MAP ? node : NULL, &own);
        add_account(r, cfg, id, &own, top, node);
    }
}

int32_t wh_config_read(const oc_host_api_t *host, oc_plugin_t *self, oc_config_t *section,
                       wh_config_t *out)
{
    memset(out, 0, sizeof *out);
    reader_t r = {.host = host, .self = self};
    int32_t t = section != NULL ? host->cfg_type(section) : OC_CFG_NULL;
    if (t != OC_CFG_MAP) {
        host->cfg_error(self, section,
                        t == OC_CFG_NULL
                            ? "channels.webhook is not set: secret and callbackUrl are required"
                            : "must be a map (secret, callbackUrl, accounts, ...)");
        return OC_ECONFIG;
    }

    int32_t b = 1;
    int64_t v = 0;
    if (got(host->cfg_bool(self, section, "enabled", 1, &b)))
        out->enabled = b != 0;
    else
        r.bad = 1;
    if (got(host->cfg_int(self, section, "timeoutMs", WH_DEFAULT_TIMEOUT_MS, TIMEOUT_MIN_MS,
                          TIMEOUT_MAX_MS, &v)))
        out->timeout_ms = (uint32_t)v;
    else
        r.bad = 1;
    if (got(host->cfg_int(self, section, "maxBodyBytes", WH_DEFAULT_MAX_BODY, MAX_BODY_MIN,
                          MAX_BODY_MAX, &v)))
        out->max_body_bytes = (size_t)v;
    else
        r.bad = 1;

    layer_t top;
    read_layer(&r, section, &top);
    oc_config_t *accounts = host->cfg_child(self, section, "accounts");
    int32_t at = accounts != NULL ? host->cfg_type(accounts) : OC_CFG_NULL;
    if (at == OC_CFG_NULL) {
        out->accounts = calloc(1, sizeof *out->accounts);
        if (out->accounts == NULL) {
            host->cfg_error(self, section, "out of memory");
            r.bad = 1;
        } else {
            layer_t none = {0};
            add_account(&r, out, WH_DEFAULT_ACCOUNT, &none, &top, NULL);
        }
    } else if (at != OC_CFG_MAP) {
        host->cfg_error(self, accounts, "must be a map: account id -> {secret, callbackUrl}");
        r.bad = 1;
    } else {
        read_accounts(&r, out, accounts, &top);
    }

    if (r.bad) {
        wh_config_free(out);
        return OC_ECONFIG;
    }
    return OC_OK;
}

void wh_config_free(wh_config_t *cfg)
{
    for (size_t i = 0; cfg->accounts != NULL && i < cfg->account_count; i++) {
        wh_account_t *a = &cfg->accounts[i];
        if (a->secret != NULL)
            gnutls_memset(a->secret, 0, a->secret_len);
        free(a->id);
        free(a->secret);
        free(a->callback_url);
    }
    free(cfg->accounts);
    memset(cfg, 0, sizeof *cfg);
}

const wh_account_t *wh_config_account(const wh_config_t *cfg, const char *id)
{
    if (id == NULL) {
        if (cfg->account_count == 1)
            return &cfg->accounts[0];
        id = WH_DEFAULT_ACCOUNT;
    }
    for (size_t i = 0; i < cfg->account_count; i++)
        if (strcmp(cfg->accounts[i].id, id) == 0)
            return &cfg->accounts[i];
    return NULL;
}

void wh_config_account_list(const wh_config_t *cfg, char *buf, size_t len)
{
    static const char more[] = ", ...";
    size_t used = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->account_count; i++) {
        const char *id = cfg->accounts[i].id;
        size_t need = (i ? 2 : 0) + strlen(id);
        /* Room for ", ..." is kept while more ids follow, so a cut always fits. */
        size_t reserve = i + 1 < cfg->account_count ? sizeof more - 1 : 0;
        if (used + need + reserve + 1 > len) {
            const char *tail = i ? more : more + 2;
            if (used + strlen(tail) + 1 <= len)
                memcpy(buf + used, tail, strlen(tail) + 1);
            return;
        }
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", id);
    }
}
