/* config.c - storage-postgres: the `storage` section. `type` is the core's;
 * unknown keys are reported by the core. Every error goes through cfg_error
 * (file:line:column) and never shows the password. No I/O. Home loop. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "pg.h"

#define DEF_POOL 4
#define DEF_TIMEOUT_MS 5000
#define DEF_CONNECT_TIMEOUT_MS 5000
#define DEF_STARTUP_RETRY_S 10
#define DEF_PIPELINE 128

/* Lower-case identifiers only: they need no quoting anywhere. */
static int schema_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || !(islower((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_'))
            return 0;
    return strncmp(s, "pg_", 3) != 0; /* reserved for the system */
}

static int32_t read_int(pg_state_t *st, oc_config_t *cfg, const char *key, int64_t def,
                        int64_t min, int64_t max, uint32_t *out)
{
    int64_t v = def;
    if (st->host->cfg_int(st->self, cfg, key, def, min, max, &v) == OC_ECONFIG)
        return OC_ECONFIG;
    *out = (uint32_t)v;
    return OC_OK;
}

int32_t pg_config_read(pg_state_t *st, oc_config_t *cfg)
{
    const oc_host_api_t *h = st->host;
    if (cfg == NULL || h->cfg_type(cfg) != OC_CFG_MAP) {
        h->cfg_error(st->self, cfg,
                     "storage-postgres needs a storage section with a url, e.g. "
                     "url: postgresql://user:password@host:5432/dbname");
        return OC_ECONFIG;
    }
    pg_config_t *c = &st->cfg;
    const char *url = NULL, *schema = "public";
    int32_t rc = h->cfg_str(st->self, cfg, "url", NULL, &url);
    if (rc == OC_ECONFIG)
        return rc;
    oc_config_t *url_node = h->cfg_child(st->self, cfg, "url");
    if (url == NULL || url[0] == '\0') {
        h->cfg_error(st->self, url_node != NULL ? url_node : cfg,
                     "url is required: postgresql://user:password@host:5432/dbname "
                     "(put the password in an environment variable: ${PGPASSWORD})");
        return OC_ECONFIG;
    }
    char err[PG_TEXT_MAX];
    if (pg_url_parse(url, &c->url, err, sizeof err) != 0) {
        h->cfg_error(st->self, url_node, "%s", err);
        return OC_ECONFIG;
    }
    if (h->cfg_str(st->self, cfg, "schema", "public", &schema) == OC_ECONFIG ||
        read_int(st, cfg, "poolSize", DEF_POOL, 1, PG_POOL_MAX, &c->pool_size) != OC_OK ||
        read_int(st, cfg, "timeoutMs", DEF_TIMEOUT_MS, 50, 3600000, &c->timeout_ms) != OC_OK ||
        read_int(st, cfg, "connectTimeoutMs", DEF_CONNECT_TIMEOUT_MS, 50, 600000,
                 &c->connect_timeout_ms) != OC_OK ||
        read_int(st, cfg, "startupRetrySeconds", DEF_STARTUP_RETRY_S, 0, 3600,
                 &c->startup_retry_s) != OC_OK ||
        read_int(st, cfg, "pipelineDepth", DEF_PIPELINE, 1, 4096, &c->pipeline_depth) !=
            OC_OK)
        return OC_ECONFIG;
    if (!schema_ok(schema)) {
        h->cfg_error(st->self, h->cfg_child(st->self, cfg, "schema"),
                     "schema \"%s\" is not usable: write a lower-case identifier (letters, "
                     "digits and _, starting with a letter or _, at most 63 bytes, not pg_...)",
                     schema);
        return OC_ECONFIG;
    }
    snprintf(c->schema, sizeof c->schema, "%s", schema);
    return OC_OK;
}
