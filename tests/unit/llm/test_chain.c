/* Unit tests for llm/catalog.c: targets from the providers' models and the
 * configuration, aliases, a target's proxy chain (the target, then the
 * default fallbacks, de-duplicated), agents' chains, the agent model forms
 * and /v1/models. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"
#include "llm/llm.h"
#include "log/log.h"

static fake_prov_t provs[3] = {
    {.name = "openai", .models = {"gpt-4o", "gpt-4o-mini", NULL}},
    {.name = "backup", .models = {"llama", NULL}},
    {.name = "local", .models = {NULL}},
};

static const char yaml[] =
    "providers:\n"
    "  - {name: openai, type: fake}\n"
    "  - {name: backup, type: fake}\n"
    "  - {name: local, type: fake}\n"
    "agents:\n"
    "  defaults:\n"
    "    model: {primary: fast, fallbacks: [backup/llama, openai/gpt-4o-mini, local/tiny]}\n"
    "    models:\n"
    "      \"openai/gpt-4o-mini\": {alias: fast}\n"
    "      \"openai/o3\": {alias: deep}\n"
    "  list:\n"
    "    - {id: main, default: true}\n"
    "    - id: coder\n"
    "      model: {primary: deep, fallbacks: [fast, openai/o3]}\n";

static gw_config_t *cfg;
static gw_plugins_t ps;
static gw_llm_t *l;

static void setup(void)
{
    gw_log_set_stderr(0);
    cfg = fake_config(yaml);
    fake_plugins(&ps, provs, 3);
    cr_assert_eq(gw_llm_new(&l, cfg, &ps, NULL, NULL), 0);
}

static void teardown(void)
{
    gw_llm_free(l);
    fake_plugins_free(&ps);
    gw_config_free(cfg);
}

static const char *chain_str(const gw_llm_chain_t *c)
{
    static char out[512];
    gw_buf_t b = GW_BUF_INIT;
    gw_llm_chain_text(c, &b);
    snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
    gw_buf_free(&b);
    return out;
}

static const gw_llm_target_t *T(const char *id)
{
    return gw_llm_target(l, id, strlen(id));
}

TestSuite(chain, .init = setup, .fini = teardown);

Test(chain, targets_from_models_and_configuration)
{
    cr_assert_not_null(T("openai/gpt-4o"));
    cr_assert_not_null(T("openai/gpt-4o-mini"));
    cr_assert_not_null(T("backup/llama"));
    cr_assert_not_null(T("openai/o3"), "agents.defaults.models keys are targets");
    cr_assert_not_null(T("local/tiny"), "models named by chains are targets");
    cr_assert_null(T("openai/unknown"), "a model nothing configures is unknown");
    cr_assert_null(T("nope/gpt-4o"));
    cr_assert_null(T(""));
    cr_assert_str_eq(T("openai/gpt-4o")->model, "gpt-4o");
    cr_assert_str_eq(T("openai/gpt-4o")->prov->name, "openai");
}

Test(chain, aliases_name_targets)
{
    cr_assert_eq(T("fast"), T("openai/gpt-4o-mini"));
    cr_assert_eq(T("deep"), T("openai/o3"));
    cr_assert_str_eq(T("openai/o3")->alias, "deep");
    /* Lookups take a length: a prefix of an id is not the id. */
    cr_assert_eq(gw_llm_target(l, "fastest", 4), T("fast"));
}

Test(chain, target_chain_is_target_then_default_fallbacks_deduplicated)
{
    cr_assert_str_eq(chain_str(&T("openai/gpt-4o")->chain),
                     "openai/gpt-4o -> backup/llama -> openai/gpt-4o-mini -> local/tiny");
    cr_assert_str_eq(chain_str(&T("openai/gpt-4o-mini")->chain),
                     "openai/gpt-4o-mini -> backup/llama -> local/tiny");
    cr_assert_str_eq(chain_str(&T("fast")->chain),
                     "openai/gpt-4o-mini -> backup/llama -> local/tiny",
                     "an alias resolves to its target's chain");
}

Test(chain, agent_chains)
{
    const char *why = NULL;
    const gw_llm_chain_t *c = gw_llm_agent_chain(l, gw_config_agent(cfg, "main"), &why);
    cr_assert_not_null(c);
    cr_assert_str_eq(chain_str(c), "openai/gpt-4o-mini -> backup/llama -> local/tiny",
                     "agents.defaults.model, aliases resolved, de-duplicated");
    c = gw_llm_agent_chain(l, gw_config_agent(cfg, "coder"), &why);
    cr_assert_str_eq(chain_str(c), "openai/o3 -> openai/gpt-4o-mini",
                     "the agent's own model: primary, then its fallbacks");
}

Test(chain, agent_model_forms)
{
    const gw_agent_cfg_t *a = NULL;
    cr_assert_eq(gw_llm_agent_model(l, "openclaw", &a), 1);
    cr_assert_str_eq(a->id, "main");
    cr_assert_eq(gw_llm_agent_model(l, "openclaw/default", &a), 1);
    cr_assert_str_eq(a->id, "main");
    cr_assert_eq(gw_llm_agent_model(l, "openclaw/coder", &a), 1);
    cr_assert_str_eq(a->id, "coder");
    cr_assert_eq(gw_llm_agent_model(l, "openclaw:coder", &a), 1);
    cr_assert_str_eq(a->id, "coder");
    cr_assert_eq(gw_llm_agent_model(l, "agent:main", &a), 1);
    cr_assert_str_eq(a->id, "main");
    cr_assert_eq(gw_llm_agent_model(l, "openclaw/nobody", &a), 1);
    cr_assert_null(a, "an agent form with an unknown id names no agent");
    cr_assert_eq(gw_llm_agent_model(l, "openai/gpt-4o", &a), 0);
    cr_assert_eq(gw_llm_agent_model(l, "fast", &a), 0);
}

Test(chain, models_list_and_lookup)
{
    const char *j = gw_llm_models_json(l);
    cr_assert(strncmp(j, "{\"object\":\"list\",\"data\":[", 25) == 0, "%s", j);
    static const char *const ids[] = {"\"openclaw\"", "\"openclaw/default\"", "\"openclaw/main\"",
                                      "\"openclaw/coder\"", "\"openai/gpt-4o\"",
                                      "\"backup/llama\"", "\"local/tiny\"", "\"fast\"",
                                      "\"deep\""};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        cr_assert(strstr(j, ids[i]) != NULL, "%s lists %s", j, ids[i]);
    gw_buf_t b = GW_BUF_INIT;
    cr_assert_eq(gw_llm_model_json(l, "backup/llama", &b), 0);
    cr_assert_str_eq(b.data, "{\"id\":\"backup/llama\",\"object\":\"model\",\"created\":0,"
                             "\"owned_by\":\"backup\",\"permission\":[]}");
    gw_buf_reset(&b);
    cr_assert_eq(gw_llm_model_json(l, "openclaw/default", &b), 0);
    cr_assert_eq(gw_llm_model_json(l, "openai/nothing", &b), -ENOENT);
    gw_buf_free(&b);
}

Test(chain, providers_health_json)
{
    gw_buf_t b = GW_BUF_INIT;
    int down = -1;
    gw_llm_providers_json(l, &b, &down);
    cr_assert_eq(down, 0);
    cr_assert(strstr(b.data, "\"openai\":{\"type\":\"fake\",\"state\":\"ok\",\"remainingMs\":0,"
                             "\"consecutiveFailures\":0,\"cooldowns\":0,\"models\":[\"gpt-4o\","
                             "\"gpt-4o-mini\",\"o3\"]}") != NULL, "%s", b.data);
    for (size_t i = 0; i < l->nprovs; i++)
        gw_cooldown_failure(l->cooldown, i, 0, 0, gw_now_ms());
    gw_buf_reset(&b);
    gw_llm_providers_json(l, &b, &down);
    cr_assert_eq(down, 1, "every provider cooling: all down");
    cr_assert(strstr(b.data, "\"state\":\"cooling\"") != NULL, "%s", b.data);
    gw_buf_free(&b);
}

/* A configuration without any model: the first provider's first model. */
Test(chain_defaults, first_provider_model_when_nothing_is_configured)
{
    gw_log_set_stderr(0);
    gw_config_t *c = fake_config("providers:\n  - {name: backup, type: fake}\n");
    gw_plugins_t p;
    fake_prov_t one[1] = {{.name = "backup", .models = {"llama", "mistral", NULL}}};
    fake_plugins(&p, one, 1);
    gw_llm_t *x = NULL;
    cr_assert_eq(gw_llm_new(&x, c, &p, NULL, NULL), 0);
    const char *why = NULL;
    const gw_llm_chain_t *ch = gw_llm_agent_chain(x, &c->agents[0], &why);
    cr_assert_not_null(ch);
    cr_assert_str_eq(chain_str(ch), "backup/llama");
    gw_llm_free(x);
    fake_plugins_free(&p);
    gw_config_free(c);
    /* No provider at all: no chain, and why. */
    c = fake_config("agents:\n  list: [{id: main}]\n");
    fake_plugins(&p, NULL, 0);
    cr_assert_eq(gw_llm_new(&x, c, &p, NULL, NULL), 0);
    cr_assert_null(gw_llm_agent_chain(x, &c->agents[0], &why));
    cr_assert_str_eq(why, "no model configured (set agents.defaults.model.primary)");
    gw_llm_free(x);
    fake_plugins_free(&p);
    gw_config_free(c);
}

/* A fallback naming a provider that has no instance is left out. */
Test(chain_defaults, missing_provider_instance_is_skipped)
{
    gw_log_set_stderr(0);
    gw_config_t *c = fake_config("providers:\n  - {name: a, type: fake}\n"
                                 "  - {name: b, type: fake}\n"
                                 "agents:\n  defaults:\n"
                                 "    model: {primary: a/x, fallbacks: [b/y]}\n");
    gw_plugins_t p;
    fake_prov_t one[1] = {{.name = "a", .models = {NULL}}};
    fake_plugins(&p, one, 1); /* b has no instance */
    gw_llm_t *x = NULL;
    cr_assert_eq(gw_llm_new(&x, c, &p, NULL, NULL), 0);
    const char *why = NULL;
    cr_assert_str_eq(chain_str(gw_llm_agent_chain(x, &c->agents[0], &why)), "a/x");
    cr_assert_null(gw_llm_target(x, "b/y", 3));
    gw_llm_free(x);
    fake_plugins_free(&p);
    gw_config_free(c);
}
