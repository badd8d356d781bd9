/* plugin/host_io.c - the host's io_start / io_update / io_stop (ABI 1.2):
 * readiness of a socket a plugin owns (libpq, hiredis), on the calling
 * thread's loop, through a uv_poll handle.
 *
 * Loop only: every function runs on the loop that started the watch. The
 * handle is freed in its close callback; the oc_io_t lives in the same block,
 * so io_stop only marks it closed and the plugin never hears of it again. */
#include <stdlib.h>

#include <uv.h>

#include "log/log.h"
#include "loop/loop.h"
#include "plugin/plugins.h"

struct oc_io_s {
    uv_poll_t handle;
    oc_plugin_t *self; /* borrowed: for log lines */
    oc_io_cb cb;
    void *data;
    uint32_t events; /* what the watch asks for (OC_IO_*); 0 = paused */
    int closing;
};

static int uv_events(uint32_t events)
{
    return ((events & OC_IO_READ) ? UV_READABLE : 0) | ((events & OC_IO_WRITE) ? UV_WRITABLE : 0);
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    oc_io_t *io = h->data;
    if (io->closing)
        return;
    int32_t st = OC_OK;
    uint32_t ready = 0;
    if (status < 0) {
        /* Let the plugin's own read or write find out what went wrong. */
        st = OC_EIO;
        ready = io->events;
    } else {
        ready = ((events & UV_READABLE) ? OC_IO_READ : 0) |
                ((events & UV_WRITABLE) ? OC_IO_WRITE : 0);
        ready &= io->events;
    }
    if (ready != 0 || st != OC_OK)
        io->cb(io->data, st, ready); /* may stop the watch: io is not touched after */
}

oc_io_t *gw_host_io_start(oc_plugin_t *self, int fd, uint32_t events, oc_io_cb cb, void *data)
{
    const char *who = self != NULL ? self->name : "plugin";
    gw_loop_t *l = gw_loop_current();
    if (l == NULL || cb == NULL || fd < 0 || (events & ~(OC_IO_READ | OC_IO_WRITE)) != 0) {
        gw_log(OC_LOG_ERROR, who,
               "io_start: %s", l == NULL ? "called off a gateway loop thread"
                               : cb == NULL ? "no callback"
                               : fd < 0     ? "bad file descriptor"
                                            : "unknown events");
        return NULL;
    }
    oc_io_t *io = calloc(1, sizeof(*io));
    if (io == NULL)
        return NULL;
    io->self = self;
    io->cb = cb;
    io->data = data;
    io->events = events;
    int rc = uv_poll_init_socket(l->uv, &io->handle, fd);
    if (rc != 0) {
        gw_log(OC_LOG_ERROR, who, "io_start: cannot watch descriptor %d: %s", fd,
               uv_strerror(rc));
        free(io);
        return NULL;
    }
    io->handle.data = io;
    if (events != 0 && (rc = uv_poll_start(&io->handle, uv_events(events), on_poll)) != 0) {
        gw_log(OC_LOG_ERROR, who, "io_start: cannot watch descriptor %d: %s", fd,
               uv_strerror(rc));
        io->closing = 1;
        uv_close((uv_handle_t *)&io->handle, on_closed);
        return NULL;
    }
    return io;
}

int32_t gw_host_io_update(oc_io_t *io, uint32_t events)
{
    if (io == NULL || io->closing || (events & ~(OC_IO_READ | OC_IO_WRITE)) != 0)
        return OC_EINVAL;
    if (events == io->events)
        return OC_OK;
    int rc = events == 0 ? uv_poll_stop(&io->handle)
                         : uv_poll_start(&io->handle, uv_events(events), on_poll);
    if (rc != 0)
        return OC_EINVAL;
    io->events = events;
    return OC_OK;
}

void gw_host_io_stop(oc_io_t *io)
{
    if (io == NULL || io->closing)
        return;
    io->closing = 1;
    /* Closing a poll handle also removes the descriptor from the loop's
     * poller at once, so the plugin may close the descriptor right away. */
    uv_close((uv_handle_t *)&io->handle, on_closed);
}
