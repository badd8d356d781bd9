/* cli/cli.h - command-line parsing and the gateway commands. */
#ifndef GW_CLI_CLI_H
#define GW_CLI_CLI_H

#include "gateway/gateway.h"

/* Which options a command accepts. */
#define GW_CLI_CONFIG 0x1u /* --config, --dev */
#define GW_CLI_START 0x2u  /* --port --host --daemon --verbose --force */
#define GW_CLI_JSON 0x4u   /* --json */
#define GW_CLI_DEEP 0x8u   /* --deep */
#define GW_CLI_FOLLOW 0x10u /* --follow */
#define GW_CLI_ARGS 0x20u   /* positional arguments (at most GW_CLI_MAX_ARGS) */
#define GW_CLI_MAX_ARGS 4

typedef struct gw_cli_opts_s {
    gw_start_opts_t start; /* start.cfg holds --config/--port/--host/--dev */
    int daemon;
    int json;
    int deep;
    int follow;
    char *args[GW_CLI_MAX_ARGS]; /* borrowed from argv */
    int nargs;
} gw_cli_opts_t;

/* Parses argv[1..] (argv[0] is the command word). Returns -1 to go on, or
 * an exit code (--help printed: 0; bad usage: 2). */
int gw_cli_parse(int argc, char **argv, gw_cli_opts_t *o, unsigned accept, const char *help);

int gw_cli_gateway(int argc, char **argv);
int gw_cli_logs(int argc, char **argv);
int gw_cli_pairing(int argc, char **argv);

#endif
