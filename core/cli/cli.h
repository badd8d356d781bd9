/* cli/cli.h - command-line parsing and the gateway commands. */
#ifndef GW_CLI_CLI_H
#define GW_CLI_CLI_H

#include <json-c/json.h>
#include <stdint.h>

#include "gateway/gateway.h"
#include "util/buf.h"

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

/* The running gateway, as its state files describe it (cli/running.c). */
typedef struct gw_running_s {
    json_object *state; /* owned: gateway.json; NULL when not running */
    int pid;
    char *state_dir;    /* owned */
} gw_running_t;
/* 1 when a gateway of the state directory (--dev picks it) runs; fills r
 * either way (free with gw_running_free). */
int gw_find_running(int dev, gw_running_t *r);
void gw_running_free(gw_running_t *r);
/* Members of a JSON object: a string (or NULL), an integer (or 0). */
const char *gw_jstr(json_object *o, const char *key);
int64_t gw_jint(json_object *o, const char *key);
/* GET <scheme>://host:port/path of our own listener (0.0.0.0 and :: are
 * reached on loopback), 3 s timeout; authorization (may be NULL) is sent as
 * the Authorization header. The body goes to body. Returns the HTTP status,
 * or 0 when nothing answered. */
long gw_probe(const char *host, int port, int tls, const char *path, const char *authorization,
              gw_buf_t *body);

int gw_cli_gateway(int argc, char **argv);
int gw_cli_models(int argc, char **argv);
int gw_cli_logs(int argc, char **argv);
int gw_cli_pairing(int argc, char **argv);

#endif
