/* llm/llm.h - the LLM core shared by the OpenAI-compatible HTTP API
 * (core/server) and agent turns (core/messaging): the model catalog and its
 * chains, the provider cooldown table, and the provider metric families.
 *
 * The catalog is built once at start from the configuration and the provider
 * instances, and is immutable afterwards:
 *  - a target is one "provider/model": every model a provider instance lists
 *    (its `models` op), every key of agents.defaults.models, and every model
 *    an agent chain names;
 *  - an alias (agents.defaults.models {"prov/model": {alias}}) names a target;
 *  - a target's chain (the proxy path): the target, then
 *    agents.defaults.model.fallbacks, de-duplicated;
 *  - an agent's chain: its own model (primary, fallbacks), else
 *    agents.defaults.model, else the first provider's first model.
 * This is the one chain resolver: the API and messaging both use it.
 *
 * Threads: gw_llm_new/gw_llm_free and gw_llm_set_agent_runner on the main
 * loop; everything else is thread-safe (reads of immutable data, atomics,
 * the cooldown table). */
#ifndef GW_LLM_LLM_H
#define GW_LLM_LLM_H

#include <openclaw/plugin.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "llm/cooldown.h"
#include "loop/loop.h"
#include "metrics/metrics.h"
#include "plugin/plugins.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/map.h"

/* Test-only: multiplies the cooldown steps (30 s, 1 min, 5 min), read once
 * by gw_llm_new. "0.01" turns 30 s into 300 ms; "0" makes every cooldown
 * end at once (each next request probes). Never set it in production. */
#define GW_LLM_COOLDOWN_SCALE_ENV "OPENCLAW_TEST_COOLDOWN_SCALE"

typedef struct gw_llm_s gw_llm_t;
typedef struct gw_llm_target_s gw_llm_target_t;
typedef struct gw_llm_agent_job_s gw_llm_agent_job_t; /* llm/agent_job.h */

/* Outcome label values, indexed by OC_PROV_ERR_* (0 and out of range:
 * "error"). */
#define GW_LLM_OUTCOMES 9
const char *gw_llm_outcome(int32_t error_class);

typedef struct gw_llm_provider_s {
    const char *name;    /* providers[].name; borrowed from the config */
    const char *type;    /* providers[].type */
    oc_plugin_t *plugin; /* borrowed: the instance */
    int multi_loop;      /* its descriptor has OC_PLUGIN_F_MULTI_LOOP */
    size_t idx;          /* position in the catalog: its cooldown slot */
    gw_series_t *chunk_gap; /* openclaw_provider_chunk_gap_seconds{provider} */
} gw_llm_provider_t;

typedef struct gw_llm_chain_s {
    const gw_llm_target_t **t; /* owned by the catalog */
    size_t n;
} gw_llm_chain_t;

/* Metric series of a target, resolved on first use (registry-owned). */
typedef struct gw_llm_series_s {
    _Atomic(gw_series_t *) calls[GW_LLM_OUTCOMES];
    _Atomic(gw_series_t *) duration, ttft, tokens_in, tokens_out;
} gw_llm_series_t;

struct gw_llm_target_s {
    char *id;                      /* "provider/model"; owned */
    const char *model;             /* the upstream model id (inside id) */
    const gw_llm_provider_t *prov; /* borrowed from the catalog */
    const char *alias;             /* from agents.defaults.models, or NULL */
    gw_llm_chain_t chain;          /* this target, then the default fallbacks */
    gw_llm_series_t series;
};

typedef struct gw_llm_metrics_s {
    gw_metric_t *calls, *duration, *ttft, *chunk_gap, *tokens, *fallbacks;
    gw_metric_t *cooldown, *cooldowns, *overhead;
} gw_llm_metrics_t;

/* Runs an OpenAI API agent job on the main loop (installed by the gateway
 * from messaging). Returns 0 (the job's answer comes through it), or a
 * negative errno when it cannot be queued (the caller answers 503). */
typedef int (*gw_llm_agent_submit_fn)(void *ctx, gw_llm_agent_job_t *job);

struct gw_llm_s {
    const gw_config_t *cfg; /* borrowed */
    gw_loop_t *home;        /* borrowed: the main loop */
    gw_llm_provider_t *provs;
    size_t nprovs;
    gw_llm_target_t **targets; /* owned, in catalog order */
    size_t ntargets;
    gw_map_t by_id;            /* "provider/model" and aliases -> target (borrowed) */
    gw_llm_chain_t *agent_chains; /* parallel to cfg->agents */
    const char **agent_why;       /* why an agent's chain is empty, or NULL */
    gw_cooldown_t *cooldown;
    double cooldown_scale;
    gw_llm_metrics_t m;
    char *models_json;         /* the /v1/models body */
    gw_llm_agent_submit_fn agent_submit;
    void *agent_ctx;
};

/* Builds the catalog from cfg and the provider instances of ps (created and
 * initialised: their `models` op must answer), registers the metric
 * families in metrics (NULL: no metrics) and reads
 * OPENCLAW_TEST_COOLDOWN_SCALE. home is the main loop (for providers
 * without OC_PLUGIN_F_MULTI_LOOP). Problems that make a chain lose a model
 * are logged as warnings. 0, or -ENOMEM. Main loop. */
int gw_llm_new(gw_llm_t **out, const gw_config_t *cfg, gw_plugins_t *ps, gw_metrics_t *metrics,
               gw_loop_t *home);
void gw_llm_free(gw_llm_t *l);

/* Installs where agent jobs go. Main loop, before the server starts. */
void gw_llm_set_agent_runner(gw_llm_t *l, gw_llm_agent_submit_fn fn, void *ctx);

/* The target of a "provider/model" id or an alias (len bytes of model, not
 * NUL-terminated), or NULL. */
const gw_llm_target_t *gw_llm_target(const gw_llm_t *l, const char *model, size_t len);

/* The agent a model names: "openclaw", "openclaw/default" (the default
 * agent), "openclaw/<id>", "openclaw:<id>", "agent:<id>". Returns 1 when
 * model has one of these forms (then *agent is the agent, or NULL when no
 * agent has that id), 0 otherwise. A configured provider/model id wins over
 * these forms (check gw_llm_target first). */
int gw_llm_agent_model(const gw_llm_t *l, const char *model, const gw_agent_cfg_t **agent);

/* An agent's chain (borrowed), or NULL with *why set when it has none. */
const gw_llm_chain_t *gw_llm_agent_chain(const gw_llm_t *l, const gw_agent_cfg_t *agent,
                                         const char **why);

/* The /v1/models list body (borrowed, built once). */
const char *gw_llm_models_json(const gw_llm_t *l);
/* One model object of the list for an id (agents' ids, targets, aliases)
 * into out. 0, or -ENOENT. */
int gw_llm_model_json(const gw_llm_t *l, const char *id, gw_buf_t *out);

/* The "providers" object of /health/detailed: {"<name>": {"type", "state":
 * "ok"|"cooling"|"probing", "remainingMs", "consecutiveFailures",
 * "cooldowns", "models": [...]}}; also refreshes the cooldown gauges. Sets
 * *all_down when every provider is cooling or probing. Appends to out. */
int gw_llm_providers_json(const gw_llm_t *l, gw_buf_t *out, int *all_down);

/* The chain rendered for people: "a/b -> c/d" (appended). */
void gw_llm_chain_text(const gw_llm_chain_t *c, gw_buf_t *out);

/* Seconds on the monotonic clock (for metrics). Thread-safe. */
double gw_llm_now(void);

#endif
