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

#endif
