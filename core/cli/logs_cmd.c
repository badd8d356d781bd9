/* cli/logs_cmd.c - `openclaw logs [--follow]`: the gateway log file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/buf.h"

static const char help_logs[] =
    "usage: openclaw logs [--follow] [--dev]\n"
    "\n"
    "Prints the gateway log ($OPENCLAW_STATE_DIR/gateway.log); --follow keeps printing\n"
    "new lines as they are written (Ctrl-C to stop).\n";

static int copy_out(int fd)
{
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
            return -1;
    fflush(stdout);
    return n < 0 ? -1 : 0;
}

int gw_cli_logs(int argc, char **argv)
{
    gw_cli_opts_t o;
    int rc = gw_cli_parse(argc, argv, &o, GW_CLI_FOLLOW, help_logs);
    if (rc >= 0)
        return rc;
    char *dir = gw_config_state_dir(o.start.cfg.dev);
    gw_buf_t path = GW_BUF_INIT;
    gw_buf_printf(&path, "%s/gateway.log", dir ? dir : ".");
    free(dir);
    int fd = open(path.data, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "openclaw logs: cannot open %s: %s (has the gateway run yet?)\n",
                path.data, strerror(errno));
        gw_buf_free(&path);
        return GW_EXIT_RUNTIME;
    }
    rc = copy_out(fd) == 0 ? GW_EXIT_OK : GW_EXIT_RUNTIME;
    if (o.follow && rc == GW_EXIT_OK) {
        /* Block on inotify rather than polling the file. */
        int in = inotify_init1(IN_CLOEXEC);
        if (in < 0 || inotify_add_watch(in, path.data, IN_MODIFY) < 0) {
            fprintf(stderr, "openclaw logs: cannot watch %s: %s\n", path.data, strerror(errno));
            rc = GW_EXIT_RUNTIME;
        } else {
            char ev[4096];
            while (read(in, ev, sizeof(ev)) > 0)
                if (copy_out(fd) != 0)
                    break;
        }
        if (in >= 0)
            close(in);
    }
    close(fd);
    gw_buf_free(&path);
    return rc;
}
