/* config.c - storage-redis: the `storage` section (H, init; no I/O).
 *
 *   url                  required: redis://[user:password@]host:port/db
 *   keyPrefix            "openclaw:": every key the plugin touches starts with it
 *   timeoutMs            5000: per operation, from the call to its callback
 *   connectTimeoutMs     5000: TCP connect plus the handshake
 *   startupRetrySeconds  10: how long start retries an unreachable server
 *
 * Every error names the key (file:line:column through cfg_error) and never
 * shows the password. */
#include <stdlib.h>
#include <string.h>

#include "rd.h"

#define RD_DEFAULT_PREFIX "openclaw:"
#define RD_PREFIX_MAX 128

static int prefix_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > RD_PREFIX_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f)
            return 0;
    return 1;
}

static int32_t read_url(rd_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    const char *text = NULL;
    int32_t rc = h->cfg_str(st->self, cfg, "url", NULL, &text);
    if (rc == OC_ECONFIG)
        return rc;
    oc_config_t *node = h->cfg_child(st->self, cfg, "url");
    if (text == NULL || text[0] == '\0') {
        h->cfg_error(st->self, node != NULL ? node : cfg,
                     "url is required: write storage.url: redis://host:6379/0 "
                     "(redis://[user:password@]host:port/db)");
        return OC_ECONFIG;
    }
    char err[RD_TEXT_MAX];
    if (rd_url_parse(text, &st->cfg.url, err, sizeof err) != 0) {
        h->cfg_error(st->self, node, "%s", err);
        return OC_ECONFIG;
    }
    return OC_OK;
}

int32_t rd_config_read(rd_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    if (cfg == NULL || h->cfg_type(cfg) != OC_CFG_MAP) {
        h->cfg_error(st->self, cfg,
                     "storage must be a map with at least url: redis://host:6379/0");
        return OC_ECONFIG;
    }
    const char *prefix = RD_DEFAULT_PREFIX;
    int64_t timeout = 5000, connect = 5000, retry = 10;
    if (h->cfg_str(st->self, cfg, "keyPrefix", RD_DEFAULT_PREFIX, &prefix) == OC_ECONFIG ||
        h->cfg_int(st->self, cfg, "timeoutMs", 5000, 100, 600000, &timeout) == OC_ECONFIG ||
        h->cfg_int(st->self, cfg, "connectTimeoutMs", 5000, 100, 600000, &connect) ==
            OC_ECONFIG ||
        h->cfg_int(st->self, cfg, "startupRetrySeconds", 10, 0, 3600, &retry) == OC_ECONFIG)
        return OC_ECONFIG;
    if (prefix == NULL || !prefix_ok(prefix)) {
        h->cfg_error(st->self, h->cfg_child(st->self, cfg, "keyPrefix"),
                     "keyPrefix must be 1 to %d bytes without spaces or control characters, "
                     "e.g. \"openclaw:\"",
                     RD_PREFIX_MAX);
        return OC_ECONFIG;
    }
    if (read_url(st, cfg) != OC_OK)
        return OC_ECONFIG;
    st->cfg.prefix = strdup(prefix);
    if (st->cfg.prefix == NULL)
        return OC_ENOMEM;
    st->cfg.timeout_ms = (uint64_t)timeout;
    st->cfg.connect_timeout_ms = (uint64_t)connect;
    st->cfg.startup_retry_ms = (uint64_t)retry * 1000u;
    return OC_OK;
}

void rd_config_free(rd_config_t *c)
{
    rd_url_free(&c->url);
    free(c->prefix);
    c->prefix = NULL;
}
