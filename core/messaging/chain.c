/* messaging/chain.c - an agent's model chain: primary, then fallbacks, each
 * "provider/model" or an alias of agents.defaults.models. */
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "messaging/msg_int.h"

void gw_targets_free(gw_target_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].provider_name);
        free(t[i].model);
    }
    free(t);
}

static const char *unalias(const gw_config_t *c, const char *s)
{
    for (size_t i = 0; i < c->agent_defaults.model_count; i++) {
        const gw_model_alias_t *a = &c->agent_defaults.models[i];
        if (a->alias && strcmp(a->alias, s) == 0)
            return a->model;
    }
    return s;
}

static int add(gw_messaging_t *m, gw_target_t *t, size_t *n, const char *spec)
{
    const char *full = unalias(m->cfg, spec);
    const char *slash = strchr(full, '/');
    if (slash == NULL || slash == full || slash[1] == '\0') {
        gw_log(OC_LOG_WARN, "agent", "model \"%s\" is not provider/model; skipped", spec);
        return 0;
    }
    char *prov = strndup(full, (size_t)(slash - full));
    oc_plugin_t *p = prov ? gw_plugins_provider(m->ps, prov) : NULL;
    if (p == NULL) {
        gw_log(OC_LOG_WARN, "agent", "model \"%s\": no provider named \"%s\" in providers[]; "
               "skipped", spec, prov ? prov : "?");
        free(prov);
        return 0;
    }
    for (size_t i = 0; i < *n; i++) /* de-duplicated, first position kept */
        if (t[i].provider == p && strcmp(t[i].model, slash + 1) == 0) {
            free(prov);
            return 0;
        }
    t[*n].provider = p;
    t[*n].provider_name = prov;
    t[*n].model = strdup(slash + 1);
    (*n)++;
    return 0;
}

size_t gw_chain_resolve(gw_messaging_t *m, const gw_agent_cfg_t *agent, gw_target_t **out,
                        const char **why)
{
    const gw_config_t *c = m->cfg;
    const gw_model_cfg_t *mc = agent->model.primary ? &agent->model : &c->agent_defaults.model;
    *out = NULL;
    *why = NULL;
    size_t cap = 1 + mc->fallback_count + 1;
    gw_target_t *t = calloc(cap, sizeof(*t));
    if (t == NULL) {
        *why = "out of memory";
        return 0;
    }
    size_t n = 0;
    if (mc->primary) {
        add(m, t, &n, mc->primary);
        for (size_t i = 0; i < mc->fallback_count; i++)
            add(m, t, &n, mc->fallbacks[i]);
    } else if (c->provider_count > 0) {
        /* No model configured: the first provider's default model. */
        oc_plugin_t *p = gw_plugins_provider(m->ps, c->providers[0].name);
        const char *const *models = p && p->mod->k.provider.models
                                        ? p->mod->k.provider.models(p->state)
                                        : NULL;
        if (p) {
            t[0].provider = p;
            t[0].provider_name = strdup(c->providers[0].name);
            t[0].model = strdup(models && models[0] ? models[0] : "default");
            n = 1;
        }
    }
    if (n == 0) {
        free(t);
        *why = mc->primary ? "no provider of the agent's model chain is configured"
                           : "no model configured (set agents.defaults.model.primary)";
        return 0;
    }
    *out = t;
    return n;
}
