/* config/config.h - the gateway's typed configuration (gateway.yaml, SPEC §5).
 *
 * gw_config_load finds the file (--config, else $OPENCLAW_CONFIG_PATH, else
 * ~/.openclaw/gateway.yaml), parses it, applies environment variables and
 * command-line flags into the tree (precedence: flag > env > file >
 * default), validates every core section strictly and fills gw_config_t.
 * Sections owned by plugins (auth, channels, storage other than `type`,
 * providers[] entries other than `name`/`type`) are left in `root`,
 * unmarked, for the plugins to read through the host API.
 *
 * Ownership: gw_config_t owns every string and array in it and the tree
 * `root`; gw_config_free releases all of it. Not thread-safe: load on one
 * thread; a loaded config may then be read (not marked) from any thread. */
#ifndef GW_CONFIG_CONFIG_H
#define GW_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "config/get.h"
#include "config/node.h"
#include "config/parse.h"
#include "util/diag.h"

/* server.reload.mode */
#define GW_RELOAD_HYBRID 1
#define GW_RELOAD_HOT 2
#define GW_RELOAD_RESTART 3
#define GW_RELOAD_OFF 4

/* session.dmScope */
#define GW_DM_SCOPE_MAIN 1
#define GW_DM_SCOPE_PER_PEER 2
#define GW_DM_SCOPE_PER_CHANNEL_PEER 3
#define GW_DM_SCOPE_PER_ACCOUNT_CHANNEL_PEER 4

/* session.reset.mode */
#define GW_RESET_NONE 1
#define GW_RESET_DAILY 2
#define GW_RESET_IDLE 3

/* messages.queue.mode and .drop */
#define GW_QUEUE_FOLLOWUP 1
#define GW_QUEUE_COLLECT 2
#define GW_QUEUE_INTERRUPT 3
#define GW_QUEUE_DROP_OLD 1
#define GW_QUEUE_DROP_NEW 2

/* bindings[].match.peer.kind (0 = no peer in the match) */
#define GW_PEER_DIRECT 1
#define GW_PEER_GROUP 2

/* Defaults that callers and docs need to agree on. */
#define GW_DEFAULT_PORT 3000
#define GW_DEFAULT_DEV_PORT 19001
#define GW_DEFAULT_HOST "0.0.0.0"
#define GW_DEFAULT_DEV_HOST "127.0.0.1"
#define GW_DEFAULT_METRICS_PORT 9090
#define GW_DEFAULT_AGENT_ID "main"

typedef struct gw_config_opts_s {
    const char *path;      /* --config; NULL: $OPENCLAW_CONFIG_PATH, else
                              ~/.openclaw/gateway.yaml (~/.openclaw-dev/ with --dev) */
    const char *host;      /* --host or NULL */
    int port;              /* --port or 0 */
    const char *log_level; /* or NULL; --verbose maps to "debug" (caller does that) */
    int dev;               /* --dev */
} gw_config_opts_t;

/* A model choice: "provider/model" or an alias from agents.defaults.models. */
typedef struct gw_model_cfg_s {
    char *primary; /* NULL = not set (agents: use agents.defaults.model) */
    char **fallbacks;
    size_t fallback_count;
} gw_model_cfg_t;

typedef struct gw_model_alias_s {
    char *model; /* "provider/model" (the key in agents.defaults.models) */
    char *alias; /* NULL when none */
} gw_model_alias_t;

typedef struct gw_agent_defaults_cfg_s {
    gw_model_cfg_t model;
    gw_model_alias_t *models;
    size_t model_count;
    char *system_prompt;  /* NULL when not set */
    int history_limit;    /* turns of transcript sent; default 50 */
    int timeout_seconds;  /* per turn; default 600 */
    int max_concurrent;   /* runs across sessions; default 4 */
} gw_agent_defaults_cfg_t;

typedef struct gw_agent_cfg_s {
    char *id;            /* [a-z0-9_-]+, unique */
    char *name;          /* NULL when not set */
    char *system_prompt; /* NULL = agents.defaults.systemPrompt */
    int is_default;
    gw_model_cfg_t model; /* primary NULL = agents.defaults.model */
    char **mention_patterns; /* POSIX extended regexes, checked with regcomp */
    size_t mention_pattern_count;
} gw_agent_cfg_t;

typedef struct gw_binding_cfg_s {
    char *agent_id;   /* names an agent of `agents` */
    char *channel;    /* required */
    char *account_id; /* NULL = any */
    int peer_kind;    /* 0 (no peer), GW_PEER_DIRECT or GW_PEER_GROUP */
    char *peer_id;    /* set when peer_kind != 0; "*" = any peer of that kind */
} gw_binding_cfg_t;

typedef struct gw_provider_cfg_s {
    char *name;           /* [a-z0-9_-]+, unique; models are "name/model" */
    char *type;           /* the provider plugin: openai, anthropic, mock, ... */
    gw_cfg_node_t *node;  /* borrowed from root: the entry, for the plugin */
} gw_provider_cfg_t;

typedef struct gw_session_cfg_s {
    int dm_scope;           /* GW_DM_SCOPE_*; default main */
    int reset_mode;         /* GW_RESET_*; default none */
    int reset_at_hour;      /* 0..23, default 4 */
    int reset_idle_minutes; /* >= 1, default 60 */
    char **reset_triggers;  /* default "/new", "/reset" */
    size_t reset_trigger_count;
} gw_session_cfg_t;

typedef struct gw_queue_cfg_s {
    int mode;             /* GW_QUEUE_*; default collect */
    uint32_t debounce_ms; /* default 1000 */
    uint32_t cap;         /* backlog per session, >= 1, default 20 */
    int drop;             /* GW_QUEUE_DROP_*; default old */
} gw_queue_cfg_t;

typedef struct gw_identity_cfg_s {
    char *name, *theme, *emoji; /* NULL when not set */
} gw_identity_cfg_t;

typedef struct gw_config_s {
    gw_cfg_node_t *root; /* the whole tree (plugin sections included) */
    char *path;          /* absolute path of the file read; NULL when defaults only */
    char *state_dir;     /* absolute: $OPENCLAW_STATE_DIR, else ~/.openclaw
                            (~/.openclaw-dev with --dev) */
    int dev;
    char *host;          /* resolved: "loopback" -> "127.0.0.1", "lan" -> "0.0.0.0";
                            else an IPv4/IPv6 literal (no brackets) or a host name */
    int port;
    int log_level;       /* OC_LOG_* */
    int log_json;        /* server.logFormat: json */
    int cors_enabled;
    char **cors_origins;
    size_t cors_origin_count;
    int workers;                /* default: number of CPUs, 1..256 */
    uint64_t max_body_bytes;    /* server.limits.maxBodyBytes, default 20 MiB */
    uint32_t max_header_bytes;  /* server.limits.maxHeaderBytes, default 16384 */
    uint32_t header_timeout_ms; /* server.limits.headerTimeoutMs, default 10000 */
    uint32_t idle_timeout_ms;   /* server.limits.idleTimeoutMs, default 60000 */
    uint32_t stream_keepalive_ms; /* server.limits.streamKeepAliveMs, default 15000; 0 = off */
    uint32_t first_token_timeout_ms; /* server.limits.firstTokenTimeoutMs, default 0 = none */
    char *tls_cert_path, *tls_key_path; /* NULL when server.tls is absent; absolute */
    int reload_mode;            /* GW_RELOAD_*; default hybrid */
    uint32_t reload_debounce_ms; /* default 300 */
    int control_ui_enabled;
    char *control_ui_base_path; /* "/openclaw"; starts with '/', no trailing '/' (except "/") */
    char **plugin_paths;        /* plugins.path, absolute; empty = the caller's default */
    size_t plugin_path_count;
    char **plugin_load;         /* plugins.load: names, or paths (made absolute) */
    size_t plugin_load_count;
    char *storage_type;         /* sqlite|postgres|redis, default sqlite */
    int health_check;           /* monitoring.healthCheck, default 1 */
    int metrics_port;           /* monitoring.metricsPort, default 9090; 0 = no metrics listener */

    gw_provider_cfg_t *providers;
    size_t provider_count;
    gw_agent_defaults_cfg_t agent_defaults;
    gw_agent_cfg_t *agents; /* never empty: default one agent "main" */
    size_t agent_count;
    size_t default_agent;   /* index in agents: default: true, else the first */
    gw_binding_cfg_t *bindings;
    size_t binding_count;
    gw_session_cfg_t session;
    gw_queue_cfg_t queue;
    gw_identity_cfg_t identity;
} gw_config_t;

/* Loads and validates. 0 and *out (free with gw_config_free); or a negative
 * errno and *out = NULL, with every problem found in `d`: -ENOENT (an
 * explicit --config / OPENCLAW_CONFIG_PATH file does not exist), -EINVAL
 * (anything wrong in the configuration), another -errno (file unreadable),
 * -ENOMEM. Every non-zero result except -ENOMEM is a configuration error
 * (exit 78). The default path missing means all defaults. */
int gw_config_load(const gw_config_opts_t *o, gw_config_t **out, gw_diag_t *d);
/* Same from a string (tests, the SDK test host): `name` is the file name in
 * messages; o->path is ignored; c->path is NULL. */
int gw_config_load_string(const gw_config_opts_t *o, const char *name, const char *yaml,
                          gw_config_t **out, gw_diag_t *d);
void gw_config_free(gw_config_t *c);

/* The config file path per SPEC §4 (malloc'd): o->path, else
 * $OPENCLAW_CONFIG_PATH, else ~/.openclaw/gateway.yaml (~/.openclaw-dev/
 * with --dev). *explicit_ (may be NULL) is set when it came from the flag or
 * the environment. NULL when the home directory is unknown, or ENOMEM. */
char *gw_config_path(const gw_config_opts_t *o, int *explicit_);
/* The state directory (malloc'd, absolute): $OPENCLAW_STATE_DIR, else
 * ~/.openclaw, or ~/.openclaw-dev when `dev`. NULL when the home directory
 * is unknown, or ENOMEM. */
char *gw_config_state_dir(int dev);
/* "~" and "~/x" -> "$HOME", "$HOME/x" (the passwd entry when HOME is
 * unset); anything else copied. malloc'd; NULL on ENOMEM or unknown home. */
char *gw_config_expand_home(const char *path);

/* The agent with this id, or NULL. */
const gw_agent_cfg_t *gw_config_agent(const gw_config_t *c, const char *id);
/* The provider entry with this name, or NULL. */
const gw_provider_cfg_t *gw_config_provider(const gw_config_t *c, const char *name);

#endif
