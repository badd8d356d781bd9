/* server/http.h - shared helpers for h2o request handlers. */
#ifndef GW_SERVER_HTTP_H
#define GW_SERVER_HTTP_H

#include <h2o.h>

#include "server/server.h"

/* Route ids: bounded metric label values. */
typedef enum gw_route_id_e {
    GW_ROUTE_HEALTH = 1,
    GW_ROUTE_HEALTHZ,
    GW_ROUTE_READYZ,
    GW_ROUTE_HEALTH_DETAILED,
    GW_ROUTE_MODELS,
    GW_ROUTE_MODEL,
    GW_ROUTE_CHAT,
    GW_ROUTE_RESPONSES,
    GW_ROUTE_OTHER,
} gw_route_id_t;

typedef struct gw_http_req_s {
    gw_server_t *srv;
    h2o_req_t *req;
    gw_route_id_t route;
    int v1;              /* use the OpenAI error shape */
    int loopback;        /* peer is 127.0.0.0/8 or ::1 */
    char peer[64];
    double started;      /* seconds, monotonic */
    const char *label;   /* metric label overriding route's (route table entries) */
} gw_http_req_t;

/* Sends a response with the standard headers; records the metrics. body is
 * copied. */
void gw_http_send(gw_http_req_t *r, int status, const char *content_type, const char *body,
                  size_t len);
/* The standard headers of every response (nosniff, referrer policy, CORS):
 * for responses not sent through gw_http_send (streams). */
void gw_http_std_headers(gw_http_req_t *r);
/* Counts a response in the HTTP metrics (requests by status, duration so
 * far): gw_http_send does it; streams call it when they end. */
void gw_http_count(gw_http_req_t *r, int status);
/* The metric label of the request's route. */
const char *gw_http_route_label(const gw_http_req_t *r);

/* Sends the error shape of the route ({"error":{...}} on /v1, else
 * {"ok":false,"error":{...}}). */
void gw_http_error(gw_http_req_t *r, int status, const char *type, const char *message);

/* Hands a request for a route-table entry to the main loop (server/
 * exchange.c); the answer comes back through the host's http_respond. 0, or
 * a negative errno after an error response was sent. Worker thread. */
int gw_exchange_dispatch(gw_http_req_t *r, const gw_route_t *route);

/* POST /v1/chat/completions and POST /v1/responses (server/completions.c,
 * server/responses.c): authorised, the gateway ready. Worker thread. */
void gw_completions_handle(gw_http_req_t *r);
void gw_responses_handle(gw_http_req_t *r);

/* Main-port request entry (server/routes.c). */
int gw_http_on_req(h2o_handler_t *self, h2o_req_t *req);

double gw_mono_seconds(void);

#endif
