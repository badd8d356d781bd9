/* gateway/gateway.h - one gateway process: load, check, start, serve, drain.
 * Main thread only. */
#ifndef GW_GATEWAY_GATEWAY_H
#define GW_GATEWAY_GATEWAY_H

#include "config/config.h"

/* Exit codes (SPEC §4). */
#define GW_EXIT_OK 0
#define GW_EXIT_RUNTIME 1
#define GW_EXIT_USAGE 2
#define GW_EXIT_CONFIG 78

typedef struct gw_start_opts_s {
    gw_config_opts_t cfg;
    int verbose;
    int force;      /* take the port over from a gateway of ours */
    int ready_fd;   /* --daemon: report "ready" or the failure here; -1 = none */
    int argc;       /* the command line, kept for `gateway restart` */
    char **argv;
} gw_start_opts_t;

/* Runs the gateway until SIGTERM/SIGINT. Returns the exit code; problems
 * are printed to stderr (and to ready_fd). */
int gw_gateway_run(const gw_start_opts_t *o);

/* `gateway validate`: config, plugin load, init and destroy, nothing
 * started. Prints every problem; returns 0 or 78. quiet: print only
 * problems. */
int gw_gateway_validate(const gw_config_opts_t *o, int quiet);

/* `plugins list`: the plugins of the config, with their metadata. */
int gw_gateway_plugins_list(const gw_config_opts_t *o, int json);

/* `models status`: loads the configuration and the plugins (init only,
 * as validate does; nothing starts), builds the model catalog the gateway
 * would (core/llm) and calls fn(llm, data) with it. Returns 0, or an exit
 * code with the problems printed to stderr. Main thread. */
struct gw_llm_s;
int gw_gateway_with_catalog(const gw_config_opts_t *o, void (*fn)(struct gw_llm_s *llm, void *data),
                            void *data);

/* Admin access to the storage, for commands that work whether or not a
 * gateway is running (`pairing list|approve`): loads the configuration and
 * plugins, starts only the storage plugin and waits until it is healthy.
 * Main thread only; one at a time. */
typedef struct gw_admin_s gw_admin_t;
/* 0, or an exit code with the problems printed to stderr. */
int gw_admin_open(const gw_config_opts_t *o, gw_admin_t **out);
/* The storage (host-owned), valid until gw_admin_close. */
const struct oc_storage_s *gw_admin_storage(gw_admin_t *a);
/* Runs the event loop until *flag becomes non-zero. */
void gw_admin_wait(gw_admin_t *a, const int *flag);
/* Stops the storage and frees everything. */
void gw_admin_close(gw_admin_t *a);

#endif
