/* llm/catalog.c - the model catalog: targets, aliases and chains (see
 * llm.h). Built once on the main loop; read-only afterwards. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/llm_int.h"
#include "log/log.h"

static const char *unalias(const gw_config_t *c, const char *s)
{
    for (size_t i = 0; i < c->agent_defaults.model_count; i++) {
        const gw_model_alias_t *a = &c->agent_defaults.models[i];
        if (a->alias && strcmp(a->alias, s) == 0)
            return a->model;
    }
    return s;
}

static const gw_llm_provider_t *provider_named(const gw_llm_t *l, const char *name, size_t len)
{
    for (size_t i = 0; i < l->nprovs; i++)
        if (strlen(l->provs[i].name) == len && strncmp(l->provs[i].name, name, len) == 0)
            return &l->provs[i];
    return NULL;
}

/* The target "prov/model", created when missing (prov must exist). NULL
 * when the provider is unknown; *nomem on ENOMEM. */
static gw_llm_target_t *target_get(gw_llm_t *l, const gw_llm_provider_t *p, const char *model,
                                   int *nomem)
{
    size_t n = strlen(p->name) + 1 + strlen(model) + 1;
    char *id = malloc(n);
    if (id == NULL) {
        *nomem = 1;
        return NULL;
    }
    snprintf(id, n, "%s/%s", p->name, model);
    gw_llm_target_t *t = gw_map_get(&l->by_id, id);
    if (t) {
        free(id);
        return t;
    }
    gw_llm_target_t **a = realloc(l->targets, (l->ntargets + 1) * sizeof(*a));
    t = calloc(1, sizeof(*t));
    if (a)
        l->targets = a;
    if (a == NULL || t == NULL || gw_map_set(&l->by_id, id, t) != 0) {
        free(t);
        free(id);
        *nomem = 1;
        return NULL;
    }
    t->id = id;
    t->model = id + strlen(p->name) + 1;
    t->prov = p;
    l->targets[l->ntargets++] = t;
    return t;
}

/* A model reference from the config ("prov/model" or an alias) as a
 * target, or NULL (logged: `where` says whose chain loses it). */
static gw_llm_target_t *resolve(gw_llm_t *l, const char *spec, const char *where, int *nomem)
{
    const char *full = unalias(l->cfg, spec);
    const char *slash = strchr(full, '/');
    if (slash == NULL || slash == full || slash[1] == '\0') {
        gw_log(OC_LOG_WARN, "llm", "%s: model \"%s\" is not provider/model or an alias; "
               "skipped", where, spec);
        return NULL;
    }
    const gw_llm_provider_t *p = provider_named(l, full, (size_t)(slash - full));
    if (p == NULL) {
        gw_log(OC_LOG_WARN, "llm", "%s: model \"%s\": no provider named \"%.*s\" in "
               "providers[]; skipped", where, spec, (int)(slash - full), full);
        return NULL;
    }
    return target_get(l, p, slash + 1, nomem);
}

/* Appends t to chain c (capacity cap) unless it is there already. */
static void chain_add(gw_llm_chain_t *c, size_t cap, const gw_llm_target_t *t)
{
    if (t == NULL || c->n >= cap)
        return;
    for (size_t i = 0; i < c->n; i++)
        if (c->t[i] == t)
            return; /* de-duplicated: the first position is kept */
    c->t[c->n++] = t;
}

/* primary (may be NULL) then fallbacks, resolved into c. 0 or -ENOMEM. */
static int chain_build(gw_llm_t *l, gw_llm_chain_t *c, const gw_llm_target_t *first,
                       const gw_model_cfg_t *mc, const char *where)
{
    size_t cap = 2 + mc->fallback_count;
    c->t = calloc(cap, sizeof(*c->t));
    c->n = 0;
    if (c->t == NULL)
        return -ENOMEM;
    int nomem = 0;
    chain_add(c, cap, first);
    if (first == NULL && mc->primary)
        chain_add(c, cap, resolve(l, mc->primary, where, &nomem));
    for (size_t i = 0; i < mc->fallback_count && !nomem; i++)
        chain_add(c, cap, resolve(l, mc->fallbacks[i], where, &nomem));
    return nomem ? -ENOMEM : 0;
}

/* Every provider's listed models, then every model the configuration
 * names: all targets exist before chains point at them. */
static int collect_targets(gw_llm_t *l)
{
    const gw_config_t *c = l->cfg;
    int nomem = 0;
    for (size_t i = 0; i < l->nprovs && !nomem; i++) {
        gw_llm_provider_t *p = &l->provs[i];
        const oc_provider_ops_t *ops = p->plugin ? &p->plugin->mod->k.provider : NULL;
        const char *const *models = ops && ops->models ? ops->models(p->plugin->state) : NULL;
        for (size_t k = 0; models && models[k] && !nomem; k++)
            target_get(l, p, models[k], &nomem);
    }
    const gw_agent_defaults_cfg_t *ad = &c->agent_defaults;
    for (size_t i = 0; i < ad->model_count && !nomem; i++)
        resolve(l, ad->models[i].model, "agents.defaults.models", &nomem);
    if (ad->model.primary && !nomem)
        resolve(l, ad->model.primary, "agents.defaults.model", &nomem);
    for (size_t i = 0; i < ad->model.fallback_count && !nomem; i++)
        resolve(l, ad->model.fallbacks[i], "agents.defaults.model", &nomem);
    for (size_t a = 0; a < c->agent_count && !nomem; a++) {
        const gw_model_cfg_t *mc = &c->agents[a].model;
        if (mc->primary)
            resolve(l, mc->primary, c->agents[a].id, &nomem);
        for (size_t i = 0; i < mc->fallback_count && !nomem; i++)
            resolve(l, mc->fallbacks[i], c->agents[a].id, &nomem);
    }
    return nomem ? -ENOMEM : 0;
}

static int add_aliases(gw_llm_t *l)
{
    const gw_agent_defaults_cfg_t *ad = &l->cfg->agent_defaults;
    for (size_t i = 0; i < ad->model_count; i++) {
        const gw_model_alias_t *a = &ad->models[i];
        if (a->alias == NULL)
            continue;
        gw_llm_target_t *t = gw_map_get(&l->by_id, a->model);
        if (t == NULL)
            continue; /* its provider is unknown: warned about in resolve */
        t->alias = a->alias;
        if (gw_map_get(&l->by_id, a->alias) == NULL &&
            gw_map_set(&l->by_id, a->alias, t) != 0)
            return -ENOMEM;
    }
    return 0;
}

/* No model configured anywhere: the first provider's first model, as a
 * fresh install with one provider expects. */
static const gw_llm_target_t *first_provider_model(gw_llm_t *l, int *nomem)
{
    if (l->nprovs == 0)
        return NULL;
    gw_llm_provider_t *p = &l->provs[0];
    for (size_t i = 0; i < l->ntargets; i++)
        if (l->targets[i]->prov == p)
            return l->targets[i];
    return target_get(l, p, "default", nomem);
}

static int build_agent_chains(gw_llm_t *l)
{
    const gw_config_t *c = l->cfg;
    size_t n = c->agent_count ? c->agent_count : 1;
    l->agent_chains = calloc(n, sizeof(*l->agent_chains));
    l->agent_why = calloc(n, sizeof(*l->agent_why));
    if (l->agent_chains == NULL || l->agent_why == NULL)
        return -ENOMEM;
    for (size_t a = 0; a < c->agent_count; a++) {
        const gw_agent_cfg_t *ag = &c->agents[a];
        const gw_model_cfg_t *mc = ag->model.primary ? &ag->model : &c->agent_defaults.model;
        int nomem = 0;
        const gw_llm_target_t *first = NULL;
        if (mc->primary == NULL)
            first = first_provider_model(l, &nomem);
        if (nomem || chain_build(l, &l->agent_chains[a], first, mc, ag->id) != 0)
            return -ENOMEM;
        if (l->agent_chains[a].n == 0)
            l->agent_why[a] = mc->primary ? "no provider of the agent's model chain is "
                                            "configured"
                                          : "no model configured (set "
                                            "agents.defaults.model.primary)";
    }
    return 0;
}

static int build_target_chains(gw_llm_t *l)
{
    const gw_model_cfg_t *def = &l->cfg->agent_defaults.model;
    gw_model_cfg_t fallbacks_only = {NULL, def->fallbacks, def->fallback_count};
    /* Chains may create targets (a fallback no provider lists): walk by
     * index, and give late ones their chain too. */
    for (size_t i = 0; i < l->ntargets; i++) {
        gw_llm_target_t *t = l->targets[i];
        if (chain_build(l, &t->chain, t, &fallbacks_only, "agents.defaults.model.fallbacks") != 0)
            return -ENOMEM;
    }
    return 0;
}

int gw_llm_catalog_build(gw_llm_t *l, gw_plugins_t *ps)
{
    const gw_config_t *c = l->cfg;
    l->provs = calloc(c->provider_count ? c->provider_count : 1, sizeof(*l->provs));
    if (l->provs == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < c->provider_count; i++) {
        gw_llm_provider_t *p = &l->provs[l->nprovs];
        p->name = c->providers[i].name;
        p->type = c->providers[i].type;
        p->plugin = ps ? gw_plugins_provider(ps, p->name) : NULL;
        if (p->plugin == NULL) {
            gw_log(OC_LOG_WARN, "llm", "provider %s has no running instance; its models are "
                   "left out", p->name);
            continue;
        }
        p->multi_loop = (p->plugin->mod->desc.flags & OC_PLUGIN_F_MULTI_LOOP) != 0;
        p->idx = l->nprovs++;
    }
    int rc = collect_targets(l);
    if (rc == 0)
        rc = add_aliases(l);
    if (rc == 0)
        rc = build_agent_chains(l);
    if (rc == 0)
        rc = build_target_chains(l);
    return rc;
}

void gw_llm_catalog_free(gw_llm_t *l)
{
    for (size_t i = 0; i < l->ntargets; i++) {
        free(l->targets[i]->chain.t);
        free(l->targets[i]->id);
        free(l->targets[i]);
    }
    free(l->targets);
    gw_map_free(&l->by_id);
    for (size_t a = 0; l->agent_chains && a < l->cfg->agent_count; a++)
        free(l->agent_chains[a].t);
    free(l->agent_chains);
    free(l->agent_why);
    free(l->provs);
}

/* ---- lookups ---- */

const gw_llm_target_t *gw_llm_target(const gw_llm_t *l, const char *model, size_t len)
{
    char key[256];
    if (len == 0 || len >= sizeof(key))
        return NULL; /* no configured id is that long */
    memcpy(key, model, len);
    key[len] = '\0';
    return gw_map_get(&l->by_id, key);
}

int gw_llm_agent_model(const gw_llm_t *l, const char *model, const gw_agent_cfg_t **agent)
{
    const gw_config_t *c = l->cfg;
    const char *id = NULL;
    *agent = NULL;
    if (strcmp(model, "openclaw") == 0 || strcmp(model, "openclaw/default") == 0) {
        *agent = &c->agents[c->default_agent];
        return 1;
    }
    if (strncmp(model, "openclaw/", 9) == 0 || strncmp(model, "openclaw:", 9) == 0)
        id = model + 9;
    else if (strncmp(model, "agent:", 6) == 0)
        id = model + 6;
    if (id == NULL)
        return 0;
    *agent = gw_config_agent(c, id);
    return 1;
}

const gw_llm_chain_t *gw_llm_agent_chain(const gw_llm_t *l, const gw_agent_cfg_t *agent,
                                         const char **why)
{
    size_t i = (size_t)(agent - l->cfg->agents);
    *why = NULL;
    if (i >= l->cfg->agent_count) {
        *why = "unknown agent";
        return NULL;
    }
    if (l->agent_chains[i].n == 0) {
        *why = l->agent_why[i];
        return NULL;
    }
    return &l->agent_chains[i];
}

void gw_llm_chain_text(const gw_llm_chain_t *c, gw_buf_t *out)
{
    for (size_t i = 0; c && i < c->n; i++) {
        gw_buf_puts(out, i ? " -> " : "");
        gw_buf_puts(out, c->t[i]->id);
    }
}
