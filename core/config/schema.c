/* config/schema.c - the core sections: top level, server, plugins,
 * monitoring, storage.type, providers[] names. */
#include "config/schema.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB (1024 * 1024)

/* ---- helpers ------------------------------------------------------------ */

int gw_schema_dup(char **dst, const char *s)
{
    free(*dst);
    *dst = NULL;
    if (s == NULL)
        return 0;
    *dst = strdup(s);
    return *dst ? 0 : -ENOMEM;
}

int gw_schema_is_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return 0;
    }
    return n > 0 && n <= 64;
}

char *gw_schema_abs_path(const gw_config_t *c, const char *p)
{
    char *e = gw_config_expand_home(p);
    if (e == NULL || e[0] == '/')
        return e;
    gw_buf_t b = GW_BUF_INIT;
    int rc;
    const char *slash = c->path ? strrchr(c->path, '/') : NULL;
    if (slash) {
        rc = gw_buf_printf(&b, "%.*s/%s", (int)(slash - c->path), c->path, e);
    } else {
        char cwd[4096];
        rc = getcwd(cwd, sizeof(cwd)) ? gw_buf_printf(&b, "%s/%s", cwd, e) : -errno;
    }
    free(e);
    if (rc != 0) {
        gw_buf_free(&b);
        return NULL;
    }
    return gw_buf_steal(&b);
}

/* ---- top level ---------------------------------------------------------- */

int gw_schema_top(gw_config_t *c, gw_diag_t *d)
{
    static const char *const allowed[] = {"server", "auth", "plugins", "providers", "agents",
                                          "bindings", "channels", "session", "messages",
                                          "storage", "monitoring", "identity", NULL};
    const size_t n = sizeof(allowed) / sizeof(allowed[0]) - 1;
    for (size_t i = 0; i < c->root->len; i++) {
        const char *key = c->root->keys[i];
        size_t k = 0;
        /* "x-..." keys are free, as in docker-compose: a place for &anchors */
        if (strncmp(key, "x-", 2) == 0)
            continue;
        while (k < n && strcmp(allowed[k], key) != 0)
            k++;
        if (k == n)
            gw_cfg_report_unknown_key(c->root, i, allowed, n, d);
    }
    return 0;
}

/* ---- server ------------------------------------------------------------- */

static int is_hostname(const char *h)
{
    size_t label = 0, total = 0;
    int all_numeric = 1;
    for (const char *p = h; *p; p++, total++) {
        char ch = *p;
        if (ch == '.') {
            if (label == 0 || p[-1] == '-')
                return 0;
            label = 0;
            continue;
        }
        int alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        int digit = ch >= '0' && ch <= '9';
        if (!alpha && !digit && ch != '-')
            return 0;
        if (ch == '-' && label == 0)
            return 0;
        if (!digit)
            all_numeric = 0;
        if (++label > 63)
            return 0;
    }
    /* "300.1.1.1" is a broken IPv4 address, not a host name */
    return total > 0 && total <= 253 && label > 0 && !all_numeric;
}

/* The address to bind for `h`, malloc'd; NULL when `h` is not valid. */
static char *resolve_host(const char *h, int *nomem)
{
    unsigned char addr[16];
    char tmp[64];
    const char *r = NULL;
    if (strcmp(h, "loopback") == 0) {
        r = "127.0.0.1";
    } else if (strcmp(h, "lan") == 0) {
        r = "0.0.0.0";
    } else if (inet_pton(AF_INET, h, addr) == 1 || inet_pton(AF_INET6, h, addr) == 1) {
        r = h;
    } else if (h[0] == '[' && strlen(h) < sizeof(tmp) && h[strlen(h) - 1] == ']') {
        snprintf(tmp, sizeof(tmp), "%.*s", (int)strlen(h) - 2, h + 1);
        if (inet_pton(AF_INET6, tmp, addr) == 1)
            r = tmp;
    } else if (is_hostname(h)) {
        r = h;
    }
    if (r == NULL)
        return NULL;
    char *s = strdup(r);
    if (s == NULL)
        *nomem = 1;
    return s;
}

static int server_host(gw_config_t *c, gw_cfg_node_t *s, gw_diag_t *d)
{
    const char *def = c->dev ? GW_DEFAULT_DEV_HOST : GW_DEFAULT_HOST;
    const char *h = def;
    if (gw_cfg_get_str(s, "host", def, &h, d) == -EINVAL)
        h = def;
    int nomem = 0;
    c->host = resolve_host(h, &nomem);
    if (nomem)
        return -ENOMEM;
    if (c->host == NULL) {
        gw_cfg_error(d, gw_cfg_lookup(s, "host"), "expected an IP address, a host name, "
                     "\"loopback\" or \"lan\", got \"%s\" (for example 127.0.0.1, ::1 or "
                     "gateway.internal)", h);
        return gw_schema_dup(&c->host, def);
    }
    return 0;
}

static int valid_origin(const char *o)
{
    if (strcmp(o, "*") == 0)
        return 1;
    const char *rest = !strncmp(o, "http://", 7) ? o + 7 : !strncmp(o, "https://", 8) ? o + 8
                                                                                    : NULL;
    if (rest == NULL || *rest == '\0')
        return 0;
    for (; *rest; rest++)
        if (*rest == '/' || *rest == ' ' || *rest == '?' || *rest == '#')
            return 0;
    return 1;
}

static int server_cors(gw_config_t *c, gw_cfg_node_t *s, gw_diag_t *d)
{
    static const char *const any[] = {"*"};
    gw_cfg_node_t *cors = NULL;
    gw_cfg_get_map(s, "cors", &cors, d);
    gw_cfg_get_bool(cors, "enabled", 1, &c->cors_enabled, d);
    const char **origins = NULL;
    size_t n = 0;
    int rc = gw_cfg_get_str_list(cors, "origins", &origins, &n, d);
    if (rc == -ENOMEM)
        return rc;
    if (rc != 0) {
        origins = NULL;
        rc = gw_strv_dup(&c->cors_origins, &c->cors_origin_count, any, 1);
        return rc;
    }
    gw_cfg_node_t *list = gw_cfg_lookup(cors, "origins");
    for (size_t i = 0; i < n; i++)
        if (!valid_origin(origins[i]))
            gw_cfg_error(d, list->items[i], "expected \"*\" or an origin like "
                         "https://app.example.com, got \"%s\" (scheme://host[:port], no path "
                         "or trailing /)", origins[i]);
    rc = gw_strv_dup(&c->cors_origins, &c->cors_origin_count, origins, n);
    free(origins);
    return rc;
}

static int server_limits(gw_config_t *c, gw_cfg_node_t *s, gw_diag_t *d)
{
    gw_cfg_node_t *l = NULL;
    int64_t v;
    gw_cfg_get_map(s, "limits", &l, d);
    gw_cfg_get_int(l, "maxBodyBytes", 20 * MIB, 1, 1024 * MIB, &v, d);
    c->max_body_bytes = (uint64_t)v;
    gw_cfg_get_int(l, "maxHeaderBytes", 16384, 1024, MIB, &v, d);
    c->max_header_bytes = (uint32_t)v;
    gw_cfg_get_int(l, "headerTimeoutMs", 10000, 100, 3600000, &v, d);
    c->header_timeout_ms = (uint32_t)v;
    gw_cfg_get_int(l, "idleTimeoutMs", 60000, 100, 86400000, &v, d);
    c->idle_timeout_ms = (uint32_t)v;
    /* SSE comments while an upstream is silent, so proxies and clients do
     * not time the stream out; 0 turns them off. */
    gw_cfg_get_int(l, "streamKeepAliveMs", 15000, 0, 3600000, &v, d);
    c->stream_keepalive_ms = (uint32_t)v;
    /* A streamed provider call with no chunk by then fails over; 0 = only
     * the provider's own timeoutMs bounds it. */
    gw_cfg_get_int(l, "firstTokenTimeoutMs", 0, 0, 3600000, &v, d);
    c->first_token_timeout_ms = (uint32_t)v;
    return 0;
}

/* A readable file path from map.key (required), made absolute. */
static int tls_path(gw_config_t *c, gw_cfg_node_t *tls, const char *key, char **out,
                    gw_diag_t *d)
{
    const char *p = NULL;
    int rc = gw_cfg_get_str(tls, key, NULL, &p, d);
    if (rc == -ENOENT)
        gw_cfg_missing(d, tls, key, "server.tls needs both certPath and keyPath, PEM files");
    if (rc != 0)
        return 0;
    *out = gw_schema_abs_path(c, p);
    if (*out == NULL)
        return -ENOMEM;
    if (access(*out, R_OK) != 0)
        gw_cfg_error(d, gw_cfg_lookup(tls, key), "cannot read %s: %s", *out, strerror(errno));
    return 0;
}

static int server_tls(gw_config_t *c, gw_cfg_node_t *s, gw_diag_t *d)
{
    gw_cfg_node_t *tls = NULL;
    if (gw_cfg_get_map(s, "tls", &tls, d) != 0)
        return 0;
    int rc = tls_path(c, tls, "certPath", &c->tls_cert_path, d);
    if (rc == 0)
        rc = tls_path(c, tls, "keyPath", &c->tls_key_path, d);
    return rc;
}

static int server_reload(gw_config_t *c, gw_cfg_node_t *s, gw_diag_t *d)
{
    static const char *const modes[] = {"hybrid", "hot", "restart", "off", NULL};
    gw_cfg_node_t *r = NULL;
    const char *m = "hybrid";
    int64_t v;
    gw_cfg_get_map(s, "reload", &r, d);
    gw_cfg_get_enum(r, "mode", modes, "hybrid", &m, d);
    for (int i = 0; modes[i]; i++)
        if (strcmp(m, modes[i]) == 0)
            c->reload_mode = GW_RELOAD_HYBRID + i;
    gw_cfg_get_int(r, "debounceMs", 300, 0, 60000, &v, d);
    c->reload_debounce_ms = (uint32_t)v;
    return 0;
}

static int valid_base_path(const char *p)
{
    if (p[0] != '/')
        return 0;
    for (; *p; p++)
        if (*p == ' ' || *p == '?' || *p == '#' || *p == '%' || (unsigned char)*p < 0x20)
            return 0;
    return 1;
}

static int server_control_ui(gw_config_t *c, gw_cfg_node_t *s, gw_diag_t *d)
{
    gw_cfg_node_t *ui = NULL;
    const char *bp = "/openclaw";
    gw_cfg_get_map(s, "controlUi", &ui, d);
    gw_cfg_get_bool(ui, "enabled", 1, &c->control_ui_enabled, d);
    if (gw_cfg_get_str(ui, "basePath", "/openclaw", &bp, d) == 0 && !valid_base_path(bp)) {
        gw_cfg_error(d, gw_cfg_lookup(ui, "basePath"), "expected a URL path starting with /, "
                     "got \"%s\" (for example /openclaw)", bp);
        bp = "/openclaw";
    }
    int rc = gw_schema_dup(&c->control_ui_base_path, bp);
    if (rc != 0)
        return rc;
    /* "/openclaw/" and "/openclaw" name the same mount */
    size_t n = strlen(c->control_ui_base_path);
    while (n > 1 && c->control_ui_base_path[n - 1] == '/')
        c->control_ui_base_path[--n] = '\0';
    return 0;
}

int gw_schema_server(gw_config_t *c, gw_diag_t *d)
{
    static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
    static const char *const formats[] = {"pretty", "json", NULL};
    gw_cfg_node_t *s = NULL;
    int64_t v;
    const char *str;
    gw_cfg_get_map(c->root, "server", &s, d);

    int rc = server_host(c, s, d);
    if (rc != 0)
        return rc;
    gw_cfg_get_int(s, "port", c->dev ? GW_DEFAULT_DEV_PORT : GW_DEFAULT_PORT, 1, 65535, &v, d);
    c->port = (int)v;
    gw_cfg_get_enum(s, "logLevel", levels, "info", &str, d);
    for (int i = 0; levels[i]; i++)
        if (strcmp(str, levels[i]) == 0)
            c->log_level = OC_LOG_DEBUG + i;
    gw_cfg_get_enum(s, "logFormat", formats, "pretty", &str, d);
    c->log_json = strcmp(str, "json") == 0;

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    ncpu = ncpu < 1 ? 1 : ncpu > 256 ? 256 : ncpu;
    gw_cfg_get_int(s, "workers", ncpu, 1, 256, &v, d);
    c->workers = (int)v;

    if ((rc = server_cors(c, s, d)) != 0 || (rc = server_limits(c, s, d)) != 0 ||
        (rc = server_tls(c, s, d)) != 0 || (rc = server_reload(c, s, d)) != 0 ||
        (rc = server_control_ui(c, s, d)) != 0)
        return rc;
    gw_cfg_report_unused(s, d);
    return 0;
}

/* ---- plugins ------------------------------------------------------------ */

static int is_plugin_name(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return 0;
    return 1;
}

static int plugin_load_list(gw_config_t *c, gw_cfg_node_t *p, gw_diag_t *d)
{
    const char **v = NULL;
    size_t n = 0;
    int rc = gw_cfg_get_str_list(p, "load", &v, &n, d);
    if (rc != 0)
        return rc == -ENOMEM ? rc : 0;
    gw_cfg_node_t *list = gw_cfg_lookup(p, "load");
    c->plugin_load = calloc(n ? n : 1, sizeof(char *));
    if (c->plugin_load == NULL) {
        free(v);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        gw_cfg_node_t *it = list->items[i];
        int is_path = strchr(v[i], '/') != NULL || v[i][0] == '~';
        if (!is_path && !is_plugin_name(v[i])) {
            gw_cfg_error(d, it, "expected a plugin name (like provider-openai) or a path to a "
                         ".so file, got \"%s\"", v[i]);
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(v[i], v[j]) == 0) {
                gw_cfg_error(d, it, "plugin \"%s\" is listed twice (also at line %d; keep one)",
                             v[i], list->items[j]->line);
                break;
            }
        char *s = is_path ? gw_schema_abs_path(c, v[i]) : strdup(v[i]);
        if (s == NULL)
            rc = -ENOMEM;
        else
            c->plugin_load[c->plugin_load_count++] = s;
    }
    free(v);
    return rc;
}

int gw_schema_plugins(gw_config_t *c, gw_diag_t *d)
{
    gw_cfg_node_t *p = NULL;
    const char **v = NULL;
    size_t n = 0;
    gw_cfg_get_map(c->root, "plugins", &p, d);
    int rc = gw_cfg_get_str_list(p, "path", &v, &n, d);
    if (rc == -ENOMEM)
        return rc;
    if (rc == 0) {
        c->plugin_paths = calloc(n ? n : 1, sizeof(char *));
        rc = c->plugin_paths ? 0 : -ENOMEM;
        for (size_t i = 0; i < n && rc == 0; i++) {
            c->plugin_paths[i] = gw_schema_abs_path(c, v[i]);
            if (c->plugin_paths[i] == NULL)
                rc = -ENOMEM;
            else
                c->plugin_path_count++;
        }
        free(v);
        if (rc != 0)
            return rc;
    }
    if ((rc = plugin_load_list(c, p, d)) != 0)
        return rc;
    gw_cfg_report_unused(p, d);
    return 0;
}

/* ---- monitoring --------------------------------------------------------- */

int gw_schema_monitoring(gw_config_t *c, gw_diag_t *d)
{
    gw_cfg_node_t *m = NULL;
    int64_t v;
    gw_cfg_get_map(c->root, "monitoring", &m, d);
    gw_cfg_get_bool(m, "healthCheck", 1, &c->health_check, d);
    if (gw_cfg_get_int(m, "metricsPort", GW_DEFAULT_METRICS_PORT, 0, 65535, &v, d) == 0 &&
        v != 0 && v == c->port)
        gw_cfg_error(d, gw_cfg_lookup(m, "metricsPort"), "port %d is also server.port (metrics "
                     "get their own listener: pick another port, or 0 to turn it off)", c->port);
    c->metrics_port = (int)v;
    gw_cfg_report_unused(m, d);
    return 0;
}

/* ---- storage, auth, channels: only their shape -------------------------- */

/* Checks that a plugin-owned section is a map without marking anything. */
static void plugin_section_shape(gw_config_t *c, const char *key, gw_diag_t *d)
{
    gw_cfg_node_t *n = gw_cfg_lookup(c->root, key);
    if (n && n->type != OC_CFG_MAP && n->type != OC_CFG_NULL)
        gw_cfg_error(d, n, "expected a map, got %s (write the keys indented under '%s:')",
                     gw_cfg_type_name(n), key);
}

int gw_schema_storage(gw_config_t *c, gw_diag_t *d)
{
    static const char *const types[] = {"sqlite", "postgres", "redis", NULL};
    gw_cfg_node_t *s = NULL;
    const char *t = "sqlite";
    plugin_section_shape(c, "auth", d);
    plugin_section_shape(c, "channels", d);
    gw_cfg_get_map(c->root, "storage", &s, d);
    gw_cfg_get_enum(s, "type", types, "sqlite", &t, d);
    return gw_schema_dup(&c->storage_type, t);
}

/* ---- providers[]: name and type; the rest is the provider plugin's ------- */

int gw_schema_providers(gw_config_t *c, gw_diag_t *d)
{
    gw_cfg_node_t *list = NULL;
    if (gw_cfg_get_list(c->root, "providers", &list, d) != 0)
        return 0;
    c->providers = calloc(list->len ? list->len : 1, sizeof(*c->providers));
    if (c->providers == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < list->len; i++) {
        gw_cfg_node_t *e = list->items[i];
        const char *name = NULL, *type = NULL;
        if (e->type != OC_CFG_MAP) {
            gw_cfg_error(d, e, "expected a map like {name: openai, type: openai, apiKey: ...}, "
                         "got %s", gw_cfg_type_name(e));
            continue;
        }
        int rn = gw_cfg_get_str(e, "name", NULL, &name, d);
        int rt = gw_cfg_get_str(e, "type", NULL, &type, d);
        if (rn == -ENOENT)
            gw_cfg_missing(d, e, "name", "models are referenced as <name>/<model>");
        if (rt == -ENOENT)
            gw_cfg_missing(d, e, "type", "the provider plugin: openai, anthropic, mock, ...");
        if (rn == 0 && !gw_schema_is_id(name)) {
            gw_cfg_error(d, gw_cfg_lookup(e, "name"), "expected a name of a-z, 0-9, _ and -, "
                         "got \"%s\"", name);
            rn = -EINVAL;
        }
        if (rt == 0 && !gw_schema_is_id(type)) {
            gw_cfg_error(d, gw_cfg_lookup(e, "type"), "expected a provider type of a-z, 0-9, _ "
                         "and - (openai, anthropic, mock, ...), got \"%s\"", type);
            rt = -EINVAL;
        }
        if (rn == 0) {
            for (size_t j = 0; j < c->provider_count; j++)
                if (strcmp(c->providers[j].name, name) == 0) {
                    gw_cfg_error(d, gw_cfg_lookup(e, "name"), "duplicate provider name \"%s\" "
                                 "(also %s at line %d; names must be unique)", name,
                                 c->providers[j].node->path, c->providers[j].node->line);
                    rn = -EINVAL;
                    break;
                }
        }
        if (rn != 0 || rt != 0)
            continue;
        gw_provider_cfg_t *p = &c->providers[c->provider_count];
        if (gw_schema_dup(&p->name, name) != 0 || gw_schema_dup(&p->type, type) != 0) {
            free(p->name);
            p->name = NULL;
            return -ENOMEM;
        }
        p->node = e;
        c->provider_count++;
    }
    return 0;
}
