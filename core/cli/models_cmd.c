/* cli/models_cmd.c - `openclaw models status [--json]`: the providers and
 * their models, the aliases and each agent's chain, as the gateway resolves
 * them (the same catalog code, core/llm), plus each provider's cooldown
 * state read from the running gateway (GET /health/detailed on its main
 * port; on loopback it needs no credentials). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "llm/llm.h"

static const char help_models[] =
    "usage: openclaw models status [--json] [--config PATH] [--dev]\n"
    "\n"
    "Shows the configured providers and their models, the aliases of\n"
    "agents.defaults.models and each agent's model chain (primary, then fallbacks),\n"
    "with each provider's cooldown state (ok, cooling, probing) from the running\n"
    "gateway, or \"not running\".\n";

typedef struct status_s {
    int json;
    int dev;
    json_object *providers; /* the running gateway's /health/detailed "providers", or NULL */
    const char *why;        /* why there is no state: "not running", ... */
    int pid;
} status_t;

/* Reads the cooldown state from the running gateway. */
static void read_state(status_t *st, const gw_config_t *cfg, json_object **health_out)
{
    gw_running_t r;
    *health_out = NULL;
    if (!gw_find_running(st->dev, &r)) {
        st->why = "not running";
        gw_running_free(&r);
        return;
    }
    st->pid = r.pid;
    const char *host = gw_jstr(r.state, "host");
    json_object *tlsv;
    int tls = json_object_object_get_ex(r.state, "tls", &tlsv) && json_object_get_boolean(tlsv);
    /* Beyond loopback /health/detailed wants credentials: the configured
     * key, when the configuration has one. */
    gw_cfg_node_t *key = gw_cfg_find(cfg->root, "auth.apiKey");
    gw_buf_t auth = GW_BUF_INIT, body = GW_BUF_INIT;
    if (key && key->scalar && key->scalar[0])
        gw_buf_printf(&auth, "Bearer %s", key->scalar);
    long code = gw_probe(host ? host : "127.0.0.1", (int)gw_jint(r.state, "port"), tls,
                         "/health/detailed", auth.data, &body);
    json_object *h = code == 200 && body.data ? json_tokener_parse(body.data) : NULL;
    json_object *p = NULL;
    if (h && json_object_object_get_ex(h, "providers", &p) &&
        json_object_is_type(p, json_type_object)) {
        st->providers = p;
        *health_out = h;
    } else {
        json_object_put(h);
        st->why = code == 0     ? "running, but not answering"
                  : code == 401 ? "running (its /health/detailed needs auth.apiKey)"
                                : "running, state unavailable";
    }
    gw_buf_free(&auth);
    gw_buf_free(&body);
    gw_running_free(&r);
}

static json_object *provider_state(const status_t *st, const char *name)
{
    json_object *v = NULL;
    if (st->providers && json_object_object_get_ex(st->providers, name, &v))
        return v;
    return NULL;
}

static void print_json(gw_llm_t *l, status_t *st)
{
    json_object *out = json_object_new_object();
    json_object_object_add(out, "running", json_object_new_boolean(st->pid > 0));
    if (st->pid > 0)
        json_object_object_add(out, "pid", json_object_new_int(st->pid));
    json_object *provs = json_object_new_array();
    for (size_t i = 0; i < l->nprovs; i++) {
        const gw_llm_provider_t *p = &l->provs[i];
        json_object *o = json_object_new_object(), *models = json_object_new_array();
        json_object_object_add(o, "name", json_object_new_string(p->name));
        json_object_object_add(o, "type", json_object_new_string(p->type));
        for (size_t k = 0; k < l->ntargets; k++)
            if (l->targets[k]->prov == p)
                json_object_array_add(models, json_object_new_string(l->targets[k]->model));
        json_object_object_add(o, "models", models);
        json_object *ps = provider_state(st, p->name), *v;
        if (ps) {
            static const char *const keys[] = {"state", "remainingMs", "consecutiveFailures",
                                               "cooldowns", NULL};
            for (size_t k = 0; keys[k]; k++)
                if (json_object_object_get_ex(ps, keys[k], &v))
                    json_object_object_add(o, keys[k], json_object_get(v));
        } else {
            json_object_object_add(o, "state", json_object_new_string(st->why ? st->why
                                                                              : "unknown"));
        }
        json_object_array_add(provs, o);
    }
    json_object_object_add(out, "providers", provs);
    json_object *aliases = json_object_new_object();
    for (size_t k = 0; k < l->ntargets; k++)
        if (l->targets[k]->alias)
            json_object_object_add(aliases, l->targets[k]->alias,
                                   json_object_new_string(l->targets[k]->id));
    json_object_object_add(out, "aliases", aliases);
    json_object *agents = json_object_new_array();
    for (size_t a = 0; a < l->cfg->agent_count; a++) {
        const gw_agent_cfg_t *ag = &l->cfg->agents[a];
        json_object *o = json_object_new_object(), *chain = json_object_new_array();
        const char *why = NULL;
        const gw_llm_chain_t *c = gw_llm_agent_chain(l, ag, &why);
        for (size_t k = 0; c && k < c->n; k++)
            json_object_array_add(chain, json_object_new_string(c->t[k]->id));
        json_object_object_add(o, "id", json_object_new_string(ag->id));
        json_object_object_add(o, "default", json_object_new_boolean(ag->is_default));
        json_object_object_add(o, "chain", chain);
        if (why)
            json_object_object_add(o, "problem", json_object_new_string(why));
        json_object_array_add(agents, o);
    }
    json_object_object_add(out, "agents", agents);
    printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(out);
}

static void print_text(gw_llm_t *l, status_t *st)
{
    if (st->pid > 0 && st->providers)
        printf("Gateway: running (pid %d)\n\n", st->pid);
    else
        printf("Gateway: %s\n\n", st->why ? st->why : "unknown");
    printf("%-16s %-10s %-10s %-10s %-8s %s\n", "PROVIDER", "TYPE", "STATE", "REMAINING",
           "FAILURES", "MODELS");
    for (size_t i = 0; i < l->nprovs; i++) {
        const gw_llm_provider_t *p = &l->provs[i];
        json_object *ps = provider_state(st, p->name);
        char remaining[32] = "-", failures[16] = "-";
        const char *state = "-";
        if (ps) {
            state = gw_jstr(ps, "state") ? gw_jstr(ps, "state") : "?";
            int64_t ms = gw_jint(ps, "remainingMs");
            if (ms > 0)
                snprintf(remaining, sizeof(remaining), "%.1fs", (double)ms / 1000.0);
            snprintf(failures, sizeof(failures), "%lld",
                     (long long)gw_jint(ps, "consecutiveFailures"));
        }
        printf("%-16s %-10s %-10s %-10s %-8s ", p->name, p->type, state, remaining, failures);
        int n = 0;
        for (size_t k = 0; k < l->ntargets; k++)
            if (l->targets[k]->prov == p)
                printf("%s%s", n++ ? ", " : "", l->targets[k]->model);
        printf("%s\n", n ? "" : "(none)");
    }
    if (l->nprovs == 0)
        printf("(no providers configured)\n");
    printf("\nALIASES\n");
    int na = 0;
    for (size_t k = 0; k < l->ntargets; k++)
        if (l->targets[k]->alias) {
            printf("  %-20s -> %s\n", l->targets[k]->alias, l->targets[k]->id);
            na++;
        }
    if (na == 0)
        printf("  (none)\n");
    printf("\nAGENTS (model chain: primary, then fallbacks)\n");
    for (size_t a = 0; a < l->cfg->agent_count; a++) {
        const gw_agent_cfg_t *ag = &l->cfg->agents[a];
        const char *why = NULL;
        const gw_llm_chain_t *c = gw_llm_agent_chain(l, ag, &why);
        gw_buf_t chain = GW_BUF_INIT;
        gw_llm_chain_text(c, &chain);
        printf("  %-20s %s%s\n", ag->id, c ? chain.data : why,
               ag->is_default ? "   (default)" : "");
        gw_buf_free(&chain);
    }
}

static void show(gw_llm_t *l, void *data)
{
    status_t *st = data;
    json_object *health = NULL;
    read_state(st, l->cfg, &health);
    if (st->json)
        print_json(l, st);
    else
        print_text(l, st);
    json_object_put(health);
}

int gw_cli_models(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(help_models, argc < 2 ? stderr : stdout);
        return argc < 2 ? GW_EXIT_USAGE : GW_EXIT_OK;
    }
    if (strcmp(argv[1], "status") != 0) {
        fprintf(stderr, "openclaw models: unknown command '%s' (try: models status)\n", argv[1]);
        return GW_EXIT_USAGE;
    }
    gw_cli_opts_t o;
    int rc = gw_cli_parse(argc - 1, argv + 1, &o, GW_CLI_CONFIG | GW_CLI_JSON, help_models);
    if (rc >= 0)
        return rc;
    status_t st = {.json = o.json, .dev = o.start.cfg.dev};
    return gw_gateway_with_catalog(&o.start.cfg, show, &st);
}
