/* server/metrics_listener.h - GET /metrics on its own port, on the main
 * loop, so scrapes never compete with the data plane. */
#ifndef GW_SERVER_METRICS_LISTENER_H
#define GW_SERVER_METRICS_LISTENER_H

#include "loop/loop.h"
#include "metrics/metrics.h"

typedef struct gw_metrics_listener_s gw_metrics_listener_t;

/* Main loop only. 0 or a negative errno (-EADDRINUSE). */
int gw_metrics_listener_open(gw_metrics_listener_t **out, gw_loop_t *loop, gw_metrics_t *metrics,
                             const char *host, int port, int *bound_port);
/* Closes and frees; done(data) afterwards (also when ml is NULL). */
void gw_metrics_listener_close(gw_metrics_listener_t *ml, void (*done)(void *data), void *data);

#endif
