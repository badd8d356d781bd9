/* server/routes.c - the main port's routes: health, readiness, models, and
 * the auth gate in front of every non-public route. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "llm/oai_json.h"
#include "log/log.h"
#include "server/http.h"
#include "util/buf.h"

typedef struct handler_s {
    h2o_handler_t super;
    gw_server_t *srv;
} handler_t;

double gw_mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *route_label(gw_route_id_t r)
{
    switch (r) {
    case GW_ROUTE_HEALTH: return "/health";
    case GW_ROUTE_HEALTHZ: return "/healthz";
    case GW_ROUTE_READYZ: return "/readyz";
    case GW_ROUTE_HEALTH_DETAILED: return "/health/detailed";
    case GW_ROUTE_MODELS: return "/v1/models";
    case GW_ROUTE_MODEL: return "/v1/models/{id}";
    case GW_ROUTE_CHAT: return "/v1/chat/completions";
    case GW_ROUTE_RESPONSES: return "/v1/responses";
    default: return "other";
    }
}

static const char *method_label(const h2o_req_t *req)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS",
                                        "PATCH"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (h2o_memis(req->method.base, req->method.len, known[i], strlen(known[i])))
            return known[i];
    return "OTHER";
}

static void add_header(h2o_req_t *req, const h2o_token_t *tok, const char *v)
{
    h2o_add_header(&req->pool, &req->res.headers, tok, NULL, v, strlen(v));
}

/* Headers h2o 2.2 has no token for. name must be a static string. */
static void add_header_str(h2o_req_t *req, const char *name, const char *v)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 0, NULL, v,
                          strlen(v));
}

static void add_cors(gw_http_req_t *r)
{
    const gw_config_t *c = r->srv->cfg;
    h2o_req_t *req = r->req;
    if (!c->cors_enabled)
        return;
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("origin"), -1);
    if (i < 0)
        return;
    h2o_iovec_t origin = req->headers.entries[i].value;
    for (size_t k = 0; k < c->cors_origin_count; k++) {
        const char *o = c->cors_origins[k];
        if (strcmp(o, "*") == 0) {
            add_header(req, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
            return;
        }
        if (h2o_memis(origin.base, origin.len, o, strlen(o))) {
            char *copy = h2o_mem_alloc_pool(&req->pool, origin.len + 1);
            memcpy(copy, origin.base, origin.len);
            copy[origin.len] = '\0';
            add_header(req, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, copy);
            add_header(req, H2O_TOKEN_VARY, "Origin");
            return;
        }
    }
}

const char *gw_http_route_label(const gw_http_req_t *r)
{
    return r->label ? r->label : route_label(r->route);
}

void gw_http_std_headers(gw_http_req_t *r)
{
    add_header_str(r->req, "x-content-type-options", "nosniff");
    add_header_str(r->req, "referrer-policy", "no-referrer");
    add_cors(r);
}

void gw_http_count(gw_http_req_t *r, int status)
{
    char code[8];
    snprintf(code, sizeof(code), "%d", status);
    const char *label = gw_http_route_label(r);
    const char *lv[] = {label, r->req ? method_label(r->req) : "POST", code};
    gw_metric_add(r->srv->m_requests, lv, 1);
    const char *dv[] = {label};
    gw_metric_observe(r->srv->m_duration, dv, gw_mono_seconds() - r->started);
}

static const char *reason_of(int status)
{
    switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
    }
}

void gw_http_send(gw_http_req_t *r, int status, const char *content_type, const char *body,
                  size_t len)
{
    h2o_req_t *req = r->req;
    req->res.status = status;
    req->res.reason = reason_of(status);
    if (content_type)
        add_header(req, H2O_TOKEN_CONTENT_TYPE, content_type);
    add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
    gw_http_std_headers(r);
    gw_http_count(r, status);
    /* Without a length, h2o 2.2's chunked filter frames only 200s and
     * closes the connection after any other status (a 202 from a webhook,
     * a 404): keep-alive clients would reconnect for every message. */
    req->res.content_length = len;
    h2o_send_inline(req, body, len);
}

void gw_http_error(gw_http_req_t *r, int status, const char *type, const char *message)
{
    gw_buf_t b = GW_BUF_INIT;
    if (r->v1) {
        gw_buf_puts(&b, "{\"error\":{\"message\":");
        gw_buf_json_str(&b, message);
        gw_buf_puts(&b, ",\"type\":");
        gw_buf_json_str(&b, type);
        gw_buf_puts(&b, ",\"code\":");
        gw_buf_json_str(&b, type);
        gw_buf_puts(&b, "}}");
    } else {
        gw_buf_puts(&b, "{\"ok\":false,\"error\":{\"type\":");
        gw_buf_json_str(&b, type);
        gw_buf_puts(&b, ",\"message\":");
        gw_buf_json_str(&b, message);
        gw_buf_puts(&b, "}}");
    }
    gw_http_send(r, status, "application/json", b.data, b.len);
    gw_buf_free(&b);
}

static void send_json(gw_http_req_t *r, int status, const char *json)
{
    gw_http_send(r, status, "application/json", json, strlen(json));
}

/* ---- auth gate ---- */

/* Header i (or NULL when i < 0) as a NUL-terminated copy in the request pool. */
static char *header_copy(h2o_req_t *req, ssize_t i)
{
    if (i < 0)
        return NULL;
    h2o_iovec_t v = req->headers.entries[i].value;
    char *s = h2o_mem_alloc_pool(&req->pool, v.len + 1);
    memcpy(s, v.base, v.len);
    s[v.len] = '\0';
    return s;
}

/* Returns 1 when the caller may go on; otherwise the response was sent. */
static int authorize(gw_http_req_t *r)
{
    gw_server_t *s = r->srv;
    oc_auth_request_t ar = {
        .struct_size = sizeof(ar),
        .remote_is_loopback = r->loopback,
        .remote_addr = r->peer,
        .method = method_label(r->req),
        .path = r->label ? r->label : route_label(r->route),
        .authorization = header_copy(r->req, h2o_find_header(&r->req->headers,
                                                             H2O_TOKEN_AUTHORIZATION, -1)),
        .api_key = header_copy(r->req, h2o_find_header_by_str(&r->req->headers,
                                                               H2O_STRLIT("x-api-key"), -1)),
    };
    oc_auth_result_t res;
    memset(&res, 0, sizeof(res));
    res.struct_size = sizeof(res);
    int rc = gw_plugins_authenticate(s->plugins, &ar, &res);
    if (rc == OC_OK)
        return 1;
    /* No auth plugin holds a credential: the gateway only listens on
     * loopback (start-up refuses anything else), so loopback is trusted. */
    if (rc == OC_DECLINED && !gw_plugins_has_auth(s->plugins) && r->loopback)
        return 1;
    const char *lv[] = {rc == OC_ELIMIT ? "rate_limited" : ar.authorization || ar.api_key
                                                               ? "invalid"
                                                               : "missing"};
    gw_metric_add(s->m_auth_failures, lv, 1);
    if (rc == OC_ELIMIT) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%u", res.retry_after_s ? res.retry_after_s : 1);
        char *v = h2o_mem_alloc_pool(&r->req->pool, strlen(ra) + 1);
        memcpy(v, ra, strlen(ra) + 1);
        add_header(r->req, H2O_TOKEN_RETRY_AFTER, v);
        gw_http_error(r, 429, "rate_limited",
                      "Too many failed authentication attempts. Please try again later.");
        return 0;
    }
    gw_log(OC_LOG_DEBUG, "http", "401 for %s from %s: %s", route_label(r->route), r->peer,
           res.reason[0] ? res.reason : "no credentials");
    add_header(r->req, H2O_TOKEN_WWW_AUTHENTICATE, "Bearer");
    gw_http_error(r, 401, "unauthorized",
                  "Unauthorized: send Authorization: Bearer <key> or X-API-Key: <key>");
    return 0;
}

/* ---- handlers ---- */

static void handle_health(gw_http_req_t *r)
{
    gw_server_t *s = r->srv;
    char body[160];
    uint64_t up = (gw_now_ms() - s->started_mono) / 1000;
    int n = snprintf(body, sizeof(body), "{\"status\":\"ok\",\"uptime\":%llu,\"version\":\"%s\"}",
                     (unsigned long long)up, OPENCLAW_VERSION);
    gw_http_send(r, 200, "application/json", body, (size_t)n);
}

static void handle_readyz(gw_http_req_t *r)
{
    gw_server_t *s = r->srv;
    if (atomic_load(&s->draining))
        send_json(r, 503, "{\"ready\":false,\"status\":\"draining\"}");
    else if (!atomic_load(&s->ready))
        send_json(r, 503, "{\"ready\":false,\"status\":\"starting\"}");
    else if (atomic_load(&s->storage_down))
        send_json(r, 503, "{\"ready\":false,\"status\":\"storage unavailable\"}");
    else
        send_json(r, 200, "{\"ready\":true,\"status\":\"ready\"}");
}

static void handle_detailed(gw_http_req_t *r)
{
    gw_server_t *s = r->srv;
    pthread_mutex_lock(&s->snap_lock);
    gw_buf_t b = GW_BUF_INIT;
    gw_buf_puts(&b, s->detailed_json ? s->detailed_json : "{\"status\":\"starting\"}");
    int degraded = s->degraded;
    pthread_mutex_unlock(&s->snap_lock);
    int ready = atomic_load(&s->ready) && !atomic_load(&s->draining);
    (void)degraded; /* degraded is still 200: the gateway serves, with less */
    gw_http_send(r, ready ? 200 : 503, "application/json", b.data, b.len);
    gw_buf_free(&b);
}

static void handle_models(gw_http_req_t *r)
{
    send_json(r, 200, gw_llm_models_json(r->srv->llm));
}

/* The id is the rest of the normalised path: h2o decodes %2F, so
 * /v1/models/openclaw%2Fdefault and /v1/models/openclaw/default are one. */
static void handle_model(gw_http_req_t *r, const char *id, size_t idlen)
{
    char *idz = h2o_mem_alloc_pool(&r->req->pool, idlen + 1);
    memcpy(idz, id, idlen);
    idz[idlen] = '\0';
    gw_buf_t b = GW_BUF_INIT;
    if (gw_llm_model_json(r->srv->llm, idz, &b) == 0) {
        gw_http_send(r, 200, "application/json", b.data, b.len);
    } else {
        gw_buf_t msg = GW_BUF_INIT;
        gw_buf_printf(&msg, "The model '%s' does not exist (GET /v1/models lists the models)",
                      idz);
        gw_buf_reset(&b);
        gw_llm_error_json(&b, msg.data, "invalid_request_error", "model", "model_not_found");
        gw_http_send(r, 404, "application/json", b.data, b.len);
        gw_buf_free(&msg);
    }
    gw_buf_free(&b);
}

/* POST /v1/chat/completions and /v1/responses. */
static void handle_llm(gw_http_req_t *r)
{
    gw_server_t *s = r->srv;
    h2o_req_t *req = r->req;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        add_header(req, H2O_TOKEN_ALLOW, "POST");
        gw_http_error(r, 405, "invalid_request_error", "Method Not Allowed: use POST");
        return;
    }
    if (!authorize(r))
        return;
    if (!atomic_load(&s->ready) || atomic_load(&s->draining)) {
        add_header(req, H2O_TOKEN_RETRY_AFTER, "1");
        gw_http_error(r, 503, "unavailable", atomic_load(&s->draining)
                                                 ? "the gateway is shutting down"
                                                 : "the gateway is starting");
        return;
    }
    if (r->route == GW_ROUTE_CHAT)
        gw_completions_handle(r);
    else
        gw_responses_handle(r);
}

static void peer_of(h2o_req_t *req, char *out, size_t outlen, int *loopback)
{
    struct sockaddr_storage ss;
    socklen_t sl = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    *loopback = 0;
    snprintf(out, outlen, "unknown");
    if (sl == 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, out, (socklen_t)outlen);
        *loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)outlen);
        *loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
                    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127);
    }
}

static int path_is(h2o_iovec_t p, const char *s)
{
    return h2o_memis(p.base, p.len, s, strlen(s));
}

int gw_http_on_req(h2o_handler_t *self, h2o_req_t *req)
{
    handler_t *h = (handler_t *)self;
    gw_http_req_t r = {.srv = h->srv, .req = req, .route = GW_ROUTE_OTHER};
    r.started = gw_mono_seconds();
    peer_of(req, r.peer, sizeof(r.peer), &r.loopback);
    h2o_iovec_t p = req->path_normalized;
    int get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
              h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    int options = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("OPTIONS"));
    const char *allow = "GET, HEAD";

    if (path_is(p, "/health"))
        r.route = GW_ROUTE_HEALTH;
    else if (path_is(p, "/healthz"))
        r.route = GW_ROUTE_HEALTHZ;
    else if (path_is(p, "/readyz"))
        r.route = GW_ROUTE_READYZ;
    else if (path_is(p, "/health/detailed"))
        r.route = GW_ROUTE_HEALTH_DETAILED;
    else if (path_is(p, "/v1/models"))
        r.route = GW_ROUTE_MODELS;
    else if (p.len > 11 && memcmp(p.base, "/v1/models/", 11) == 0)
        r.route = GW_ROUTE_MODEL;
    else if (path_is(p, "/v1/chat/completions"))
        r.route = GW_ROUTE_CHAT;
    else if (path_is(p, "/v1/responses"))
        r.route = GW_ROUTE_RESPONSES;
    r.v1 = p.len >= 4 && memcmp(p.base, "/v1/", 4) == 0;

    const gw_route_t *table_route = NULL;
    if (r.route == GW_ROUTE_OTHER) {
        table_route = gw_plugins_find_route(h->srv->plugins, p.base, p.len);
        if (table_route == NULL) {
            gw_http_error(&r, 404, r.v1 ? "invalid_request_error" : "not_found", "Not Found");
            return 0;
        }
        r.label = table_route->label;
    }
    /* Header budget: h2o's own caps are loose (100 headers, a request head
     * of up to 8 KiB + 4 KiB per header), so server.limits.maxHeaderBytes is
     * enforced here, for HTTP/1 and HTTP/2 alike. */
    size_t hbytes = 0;
    for (size_t i = 0; i < req->headers.size; i++)
        hbytes += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    if (hbytes > h->srv->cfg->max_header_bytes) {
        gw_http_error(&r, 431, "request_too_large", "Request header fields too large");
        return 0;
    }
    if (options && h->srv->cfg->cors_enabled) {
        add_header_str(req, "access-control-allow-methods", "GET, HEAD, POST, OPTIONS");
        add_header_str(req, "access-control-allow-headers",
                   "Authorization, Content-Type, X-API-Key, X-OpenClaw-Session-Key");
        add_header_str(req, "access-control-max-age", "600");
        gw_http_send(&r, 204, NULL, "", 0);
        return 0;
    }
    if (table_route) {
        /* Channel routes check their own signatures; core routes (hooks)
         * go through the gateway's auth. */
        if (table_route->auth && !authorize(&r))
            return 0;
        if (!atomic_load(&h->srv->ready) || atomic_load(&h->srv->draining)) {
            add_header(req, H2O_TOKEN_RETRY_AFTER, "1");
            gw_http_error(&r, 503, "unavailable",
                          atomic_load(&h->srv->draining) ? "the gateway is shutting down"
                                                         : "the gateway is starting");
            return 0;
        }
        gw_exchange_dispatch(&r, table_route);
        return 0;
    }
    if (r.route == GW_ROUTE_CHAT || r.route == GW_ROUTE_RESPONSES) {
        handle_llm(&r);
        return 0;
    }
    if (!get) {
        add_header(req, H2O_TOKEN_ALLOW, allow);
        gw_http_error(&r, 405, r.v1 ? "invalid_request_error" : "method_not_allowed",
                      "Method Not Allowed");
        return 0;
    }
    switch (r.route) {
    case GW_ROUTE_HEALTH:
        handle_health(&r);
        break;
    case GW_ROUTE_HEALTHZ:
        send_json(&r, 200, "{\"status\":\"ok\"}");
        break;
    case GW_ROUTE_READYZ:
        handle_readyz(&r);
        break;
    case GW_ROUTE_HEALTH_DETAILED:
        /* Public on loopback (operators' probes), behind auth elsewhere. */
        if (r.loopback || authorize(&r))
            if (!req->res.status)
                handle_detailed(&r);
        break;
    case GW_ROUTE_MODELS:
        if (authorize(&r))
            handle_models(&r);
        break;
    case GW_ROUTE_MODEL:
        if (authorize(&r))
            handle_model(&r, p.base + 11, p.len - 11);
        break;
    default:
        break;
    }
    return 0;
}

h2o_handler_t *gw_http_register(h2o_pathconf_t *pathconf, gw_server_t *srv);
h2o_handler_t *gw_http_register(h2o_pathconf_t *pathconf, gw_server_t *srv)
{
    handler_t *h = (handler_t *)h2o_create_handler(pathconf, sizeof(*h));
    h->super.on_req = gw_http_on_req;
    h->srv = srv;
    return &h->super;
}
