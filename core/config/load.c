/* config/load.c - finding, parsing, overriding and validating gateway.yaml. */
#include "config/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/schema.h"

/* Environment variables that override a file value (SPEC §5). Applied in
 * this order, so a later entry for the same key wins: OPENCLAW_PORT beats
 * OPENCLAW_GATEWAY_PORT. */
static const struct {
    const char *env, *path;
} env_overrides[] = {
    {"OPENCLAW_HOST", "server.host"},
    {"OPENCLAW_GATEWAY_PORT", "server.port"},
    {"OPENCLAW_PORT", "server.port"},
    {"OPENCLAW_LOG_LEVEL", "server.logLevel"},
    {"OPENCLAW_API_KEY", "auth.apiKey"},
    {"OPENCLAW_BEARER_TOKEN", "auth.bearerToken"},
    {"OPENCLAW_STORAGE_TYPE", "storage.type"},
};

/* Sets path to value with origin; a -EINVAL (the section is not a map) is
 * left for the schema to report on the section itself. */
static int override(gw_cfg_node_t *root, const char *path, const char *value,
                    const char *origin)
{
    int rc = gw_cfg_set_scalar(root, path, value, origin);
    return rc == -ENOMEM ? rc : 0;
}

static int apply_overrides(gw_cfg_node_t *root, const gw_config_opts_t *o)
{
    int rc = 0;
    char origin[64];
    for (size_t i = 0; rc == 0 && i < sizeof(env_overrides) / sizeof(env_overrides[0]); i++) {
        const char *v = getenv(env_overrides[i].env);
        if (v == NULL || *v == '\0') /* empty = unset, as "OPENCLAW_PORT= cmd" means */
            continue;
        snprintf(origin, sizeof(origin), "env %s", env_overrides[i].env);
        rc = override(root, env_overrides[i].path, v, origin);
    }
    if (rc == 0 && o->host)
        rc = override(root, "server.host", o->host, "flag --host");
    if (rc == 0 && o->port) {
        char port[32];
        snprintf(port, sizeof(port), "%d", o->port);
        rc = override(root, "server.port", port, "flag --port");
    }
    if (rc == 0 && o->log_level)
        rc = override(root, "server.logLevel", o->log_level, "command line");
    return rc;
}

static int validate(gw_config_t *c, gw_diag_t *d)
{
    /* Order matters: monitoring checks server.port, models check providers,
     * bindings check agents. */
    int (*const steps[])(gw_config_t *, gw_diag_t *) = {
        gw_schema_top,       gw_schema_server,    gw_schema_plugins,   gw_schema_monitoring,
        gw_schema_storage,   gw_schema_providers, gw_schema_agents,    gw_schema_bindings,
        gw_schema_session,   gw_schema_messages,  gw_schema_identity,
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        int rc = steps[i](c, d);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Parses (text != NULL: from memory) or reads the file, then the rest. */
static int load(const gw_config_opts_t *o, const char *name, const char *text,
                gw_config_t **out, gw_diag_t *d)
{
    static const gw_config_opts_t none;
    gw_diag_t local = GW_DIAG_INIT;
    if (o == NULL)
        o = &none;
    if (d == NULL)
        d = &local;
    size_t errors = d->count;
    *out = NULL;

    gw_config_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    c->dev = o->dev;
    int rc = 0;
    c->state_dir = gw_config_state_dir(o->dev);
    if (c->state_dir == NULL) {
        gw_diag_add(d, NULL, 0, 0, "cannot find the home directory for the state directory "
                    "(set HOME or OPENCLAW_STATE_DIR)");
        rc = -ENOENT;
        goto done;
    }

    if (text) {
        rc = gw_cfg_parse_string(name, text, &c->root, d);
    } else {
        int explicit_ = 0;
        char *path = gw_config_path(o, &explicit_);
        struct stat st;
        if (path == NULL) {
            gw_diag_add(d, NULL, 0, 0, "cannot find the home directory for the default config "
                        "path (set HOME, or use --config PATH)");
            rc = -ENOENT;
        } else if (!explicit_ && stat(path, &st) != 0 && errno == ENOENT) {
            c->root = gw_cfg_new_root(NULL); /* no file: all defaults */
            rc = c->root ? 0 : -ENOMEM;
        } else {
            rc = gw_cfg_parse_file(path, &c->root, d);
            if (c->root) {
                c->path = realpath(path, NULL);
                if (c->path == NULL)
                    rc = gw_schema_dup(&c->path, path);
            }
        }
        free(path);
    }
    /* A tree with value problems is still validated, to report everything. */
    int soft = rc == -EINVAL && c->root != NULL;
    if (soft)
        rc = 0;
    if (rc == 0)
        rc = apply_overrides(c->root, o);
    if (rc == 0)
        rc = validate(c, d);
    if (rc == 0 && soft)
        rc = -EINVAL;
    if (rc == 0 && d->count > errors)
        rc = -EINVAL;
done:
    if (d == &local) {
        gw_diag_free(&local);
    }
    if (rc != 0) {
        gw_config_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int gw_config_load(const gw_config_opts_t *o, gw_config_t **out, gw_diag_t *d)
{
    return load(o, NULL, NULL, out, d);
}

int gw_config_load_string(const gw_config_opts_t *o, const char *name, const char *yaml,
                          gw_config_t **out, gw_diag_t *d)
{
    return load(o, name, yaml ? yaml : "", out, d);
}

const gw_agent_cfg_t *gw_config_agent(const gw_config_t *c, const char *id)
{
    for (size_t i = 0; c && id && i < c->agent_count; i++)
        if (c->agents[i].id && strcmp(c->agents[i].id, id) == 0)
            return &c->agents[i];
    return NULL;
}

const gw_provider_cfg_t *gw_config_provider(const gw_config_t *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->provider_count; i++)
        if (strcmp(c->providers[i].name, name) == 0)
            return &c->providers[i];
    return NULL;
}

static void free_model(gw_model_cfg_t *m)
{
    free(m->primary);
    gw_strv_free(m->fallbacks, m->fallback_count);
}

void gw_config_free(gw_config_t *c)
{
    if (c == NULL)
        return;
    gw_cfg_free(c->root);
    free(c->path);
    free(c->state_dir);
    free(c->host);
    gw_strv_free(c->cors_origins, c->cors_origin_count);
    free(c->tls_cert_path);
    free(c->tls_key_path);
    free(c->control_ui_base_path);
    gw_strv_free(c->plugin_paths, c->plugin_path_count);
    gw_strv_free(c->plugin_load, c->plugin_load_count);
    free(c->storage_type);
    for (size_t i = 0; i < c->provider_count; i++) {
        free(c->providers[i].name);
        free(c->providers[i].type);
    }
    free(c->providers);
    gw_agent_defaults_cfg_t *ad = &c->agent_defaults;
    free_model(&ad->model);
    for (size_t i = 0; i < ad->model_count; i++) {
        free(ad->models[i].model);
        free(ad->models[i].alias);
    }
    free(ad->models);
    free(ad->system_prompt);
    for (size_t i = 0; i < c->agent_count; i++) {
        gw_agent_cfg_t *a = &c->agents[i];
        free(a->id);
        free(a->name);
        free(a->system_prompt);
        free_model(&a->model);
        gw_strv_free(a->mention_patterns, a->mention_pattern_count);
    }
    free(c->agents);
    for (size_t i = 0; i < c->binding_count; i++) {
        gw_binding_cfg_t *b = &c->bindings[i];
        free(b->agent_id);
        free(b->channel);
        free(b->account_id);
        free(b->peer_id);
    }
    free(c->bindings);
    gw_strv_free(c->session.reset_triggers, c->session.reset_trigger_count);
    free(c->identity.name);
    free(c->identity.theme);
    free(c->identity.emoji);
    free(c);
}
