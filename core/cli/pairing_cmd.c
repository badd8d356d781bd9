/* cli/pairing_cmd.c - `openclaw pairing list [channel] [--json]` and
 * `openclaw pairing approve <channel> <code>`.
 *
 * Both act on the storage directly, so they work the same whether a gateway
 * is running or not: the storage is the source of truth, and a running
 * gateway looks the allow list up there for every unknown sender. */
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openclaw/plugin.h>

#include "cli/cli.h"
#include "loop/loop.h"
#include "plugin/plugins.h"

static const char help_pairing[] =
    "usage: openclaw pairing list [channel] [--json] [--config PATH] [--dev]\n"
    "       openclaw pairing approve <channel> <code> [--config PATH] [--dev]\n"
    "\n"
    "DM pairing: under dmPolicy \"pairing\" an unknown sender gets an 8-character code\n"
    "(valid 1 h) and is not answered until the owner approves it. `list` shows the\n"
    "pending requests; `approve` adds the sender to the channel's allow list, so their\n"
    "next message is answered. Works with the gateway running or stopped.\n";

typedef struct op_s {
    int done;
    int32_t status;
    int json;
    json_object *out;
    char *sender, *account;
} op_t;

static void fmt_time(uint64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void on_list(void *data, int32_t status, const oc_pairing_t *const *items, size_t count)
{
    op_t *op = data;
    op->status = status;
    op->done = 1;
    if (status != OC_OK)
        return;
    if (op->json) {
        op->out = json_object_new_array();
        for (size_t i = 0; i < count; i++) {
            const oc_pairing_t *p = items[i];
            json_object *o = json_object_new_object();
            json_object_object_add(o, "channel", json_object_new_string(p->channel));
            json_object_object_add(o, "account", json_object_new_string(p->account));
            json_object_object_add(o, "code", json_object_new_string(p->code));
            json_object_object_add(o, "senderId", json_object_new_string(p->sender_id));
            json_object_object_add(o, "createdAt", json_object_new_int64((int64_t)p->created_ms));
            json_object_object_add(o, "lastSeenAt",
                                   json_object_new_int64((int64_t)p->last_seen_ms));
            json_object_object_add(o, "expiresAt", json_object_new_int64((int64_t)p->expires_ms));
            json_object_array_add(op->out, o);
        }
        return;
    }
    if (count == 0) {
        printf("No pending pairing requests.\n");
        return;
    }
    printf("%-12s %-12s %-10s %-24s %-19s %s\n", "CHANNEL", "ACCOUNT", "CODE", "SENDER",
           "REQUESTED", "EXPIRES");
    for (size_t i = 0; i < count; i++) {
        const oc_pairing_t *p = items[i];
        char c[32], e[32];
        fmt_time(p->created_ms, c, sizeof(c));
        fmt_time(p->expires_ms, e, sizeof(e));
        printf("%-12s %-12s %-10s %-24s %-19s %s\n", p->channel, p->account, p->code,
               p->sender_id, c, e);
    }
    printf("\nApprove with: openclaw pairing approve <channel> <code>\n");
}

static void on_approve(void *data, int32_t status, const oc_pairing_t *req, int32_t created)
{
    op_t *op = data;
    (void)created;
    op->status = status;
    op->done = 1;
    if (status == OC_OK && req) {
        op->sender = strdup(req->sender_id);
        op->account = strdup(req->account);
    }
}

int gw_cli_pairing(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(help_pairing, argc < 2 ? stderr : stdout);
        return argc < 2 ? GW_EXIT_USAGE : GW_EXIT_OK;
    }
    const char *sub = argv[1];
    int list = strcmp(sub, "list") == 0, approve = strcmp(sub, "approve") == 0;
    if (!list && !approve) {
        fprintf(stderr, "openclaw pairing: unknown command '%s' (try: pairing list, pairing "
                "approve <channel> <code>)\n", sub);
        return GW_EXIT_USAGE;
    }
    gw_cli_opts_t o;
    int rc = gw_cli_parse(argc - 1, argv + 1, &o,
                          GW_CLI_CONFIG | GW_CLI_ARGS | (list ? GW_CLI_JSON : 0), help_pairing);
    if (rc >= 0)
        return rc;
    if ((list && o.nargs > 1) || (approve && o.nargs != 2)) {
        fprintf(stderr, "openclaw pairing %s: %s\n%s", sub,
                list ? "at most one argument (a channel)" : "expected <channel> <code>",
                help_pairing);
        return GW_EXIT_USAGE;
    }
    char code[16] = "";
    if (approve) {
        size_t n = strlen(o.args[1]);
        if (n != 8) {
            fprintf(stderr, "openclaw pairing approve: \"%s\" is not a pairing code (8 "
                    "characters from ABCDEFGHJKLMNPQRSTUVWXYZ23456789)\n", o.args[1]);
            return GW_EXIT_USAGE;
        }
        for (size_t i = 0; i < n; i++)
            code[i] = (char)toupper((unsigned char)o.args[1][i]);
    }
    gw_admin_t *a;
    rc = gw_admin_open(&o.start.cfg, &a);
    if (rc != 0)
        return rc;
    const oc_storage_t *st = gw_admin_storage(a);
    op_t op = {.json = o.json, .status = OC_OK};
    int32_t r;
    if (list)
        r = st->ops->pairing_list(st->state, o.nargs ? o.args[0] : NULL, gw_wall_ms(), on_list,
                                  &op);
    else
        r = st->ops->pairing_approve(st->state, o.args[0], code, gw_wall_ms(), on_approve, &op);
    if (r != OC_PENDING && r != OC_OK) {
        op.status = r;
        op.done = 1;
    }
    gw_admin_wait(a, &op.done);
    int code_out = GW_EXIT_OK;
    if (op.status == OC_ENOENT && approve) {
        fprintf(stderr, "openclaw pairing approve: no pending request with code %s on channel "
                "%s (codes expire after 1 h; see `openclaw pairing list %s`)\n", code,
                o.args[0], o.args[0]);
        code_out = GW_EXIT_RUNTIME;
    } else if (op.status != OC_OK) {
        fprintf(stderr, "openclaw pairing %s: storage error: %s\n", sub,
                gw_host_api.strerror(op.status));
        code_out = GW_EXIT_RUNTIME;
    } else if (list && op.out) {
        printf("%s\n", json_object_to_json_string_ext(op.out, JSON_C_TO_STRING_PRETTY |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
    } else if (approve) {
        printf("Approved %s on %s (account %s): their next message will be answered.\n",
               op.sender ? op.sender : "?", o.args[0], op.account ? op.account : "?");
    }
    json_object_put(op.out);
    free(op.sender);
    free(op.account);
    gw_admin_close(a);
    return code_out;
}
