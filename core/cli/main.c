/* cli/main.c - the `openclaw` command line (SPEC §4). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openclaw/version.h>

#include "cli/cli.h"
#include "gateway/gateway.h"

static const char usage_top[] =
    "usage: openclaw <command> [options]\n"
    "\n"
    "OpenClaw-compatible gateway between chat channels and LLM providers.\n"
    "\n"
    "commands:\n"
    "  gateway [start]     start the gateway (foreground; --daemon to detach)\n"
    "  gateway stop        stop the running gateway gracefully\n"
    "  gateway restart     stop, then start again with the same arguments\n"
    "  gateway status      is it running: pid, version, uptime, listeners (--json, --deep)\n"
    "  gateway validate    check the configuration and plugins without starting\n"
    "  plugins list        the plugins the configuration loads (--json)\n"
    "  logs                print the gateway log (--follow)\n"
    "  pairing list        pending DM pairing requests ([channel], --json)\n"
    "  pairing approve     approve one: pairing approve <channel> <code>\n"
    "  models status       providers, models, aliases, agent chains, cooldowns (--json)\n"
    "\n"
    "  --version           print the version\n"
    "  --help              this text; `openclaw <command> --help` for a command\n"
    "\n"
    "Configuration: --config PATH, else $OPENCLAW_CONFIG_PATH, else ~/.openclaw/gateway.yaml.\n"
    "State (pid file, log, sqlite): $OPENCLAW_STATE_DIR, else ~/.openclaw.\n"
    "Exit codes: 0 ok, 1 runtime failure, 2 usage error, 78 configuration error.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "openclaw: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nrun `openclaw --help` for usage\n");
    return GW_EXIT_USAGE;
}

static int cmd_plugins(int argc, char **argv)
{
    static const char help[] =
        "usage: openclaw plugins list [--json] [--config PATH] [--dev]\n"
        "\n"
        "Lists the plugins named in plugins.load: name, kind, version, the ABI it was\n"
        "built for, and its file. Reads descriptors only; nothing is initialised.\n";
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? GW_EXIT_USAGE : GW_EXIT_OK;
    }
    if (strcmp(argv[1], "list") != 0)
        return usage_error("unknown plugins command '%s' (try: plugins list)", argv[1]);
    gw_cli_opts_t o;
    int rc = gw_cli_parse(argc - 1, argv + 1, &o, GW_CLI_CONFIG | GW_CLI_JSON, help);
    if (rc >= 0)
        return rc;
    return gw_gateway_plugins_list(&o.start.cfg, o.json);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_top, stderr);
        return GW_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 || strcmp(cmd, "version") == 0) {
        printf("openclaw %s (plugin ABI %d.%d)\n", OPENCLAW_VERSION, OC_ABI_MAJOR, OC_ABI_MINOR);
        return GW_EXIT_OK;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_top, stdout);
        return GW_EXIT_OK;
    }
    if (strcmp(cmd, "gateway") == 0)
        return gw_cli_gateway(argc - 1, argv + 1);
    if (strcmp(cmd, "plugins") == 0)
        return cmd_plugins(argc - 1, argv + 1);
    if (strcmp(cmd, "logs") == 0)
        return gw_cli_logs(argc - 1, argv + 1);
    if (strcmp(cmd, "pairing") == 0)
        return gw_cli_pairing(argc - 1, argv + 1);
    if (strcmp(cmd, "models") == 0)
        return gw_cli_models(argc - 1, argv + 1);
    return usage_error("unknown command '%s'", cmd);
}
