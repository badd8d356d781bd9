/* server/errors_filter.c - h2o answers some requests itself before any
 * handler runs (413 when the body is over server.limits.maxBodyBytes, 400
 * for a broken request line or chunked encoding), in plain text. This
 * filter, on the host's fallback path where those answers are bound, turns
 * them into the gateway's JSON error shapes with the standard headers. */
#include <string.h>

#include "server/http.h"
#include "util/buf.h"

typedef struct json_ostream_s {
    h2o_ostream_t super;
    h2o_iovec_t body; /* in the request pool */
    int sent;
} json_ostream_t;

static void on_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                    h2o_send_state_t state)
{
    json_ostream_t *o = (json_ostream_t *)self;
    (void)bufs;
    (void)bufcnt;
    if (!o->sent) {
        o->sent = 1;
        h2o_ostream_send_next(&o->super, req, &o->body, 1, state);
    } else {
        h2o_ostream_send_next(&o->super, req, NULL, 0, state);
    }
}

static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    int status = req->res.status;
    if (status != 413 && status != 400) {
        h2o_setup_next_ostream(req, slot);
        return;
    }
    int v1 = req->path.len >= 4 && memcmp(req->path.base, "/v1/", 4) == 0;
    const char *type = status == 413 ? (v1 ? "invalid_request_error" : "payload_too_large")
                                     : (v1 ? "invalid_request_error" : "bad_request");
    const char *msg = status == 413 ? "Request body is larger than server.limits.maxBodyBytes"
                                    : "Malformed HTTP request";
    gw_buf_t b = GW_BUF_INIT;
    if (v1)
        gw_buf_printf(&b, "{\"error\":{\"message\":\"%s\",\"type\":\"%s\",\"code\":\"%s\"}}",
                      msg, type, status == 413 ? "payload_too_large" : "bad_request");
    else
        gw_buf_printf(&b, "{\"ok\":false,\"error\":{\"type\":\"%s\",\"message\":\"%s\"}}", type,
                      msg);
    char *body = h2o_mem_alloc_pool(&req->pool, b.len);
    memcpy(body, b.data, b.len);
    json_ostream_t *o = (json_ostream_t *)h2o_add_ostream(req, sizeof(*o), slot);
    o->super.do_send = on_send;
    o->body = h2o_iovec_init(body, b.len);
    o->sent = 0;
    req->res.content_length = b.len;
    gw_buf_free(&b);
    /* Replace h2o's text/plain with ours, plus the standard headers. */
    ssize_t i = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i >= 0)
        req->res.headers.entries[i].value = h2o_iovec_init(H2O_STRLIT("application/json"));
    else
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                       H2O_STRLIT("application/json"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0,
                          NULL, H2O_STRLIT("nosniff"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("referrer-policy"), 0, NULL,
                          H2O_STRLIT("no-referrer"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    (void)self;
    slot = &o->super.next;
    h2o_setup_next_ostream(req, slot);
}

void gw_http_register_error_filter(h2o_hostconf_t *host);
void gw_http_register_error_filter(h2o_hostconf_t *host)
{
    h2o_filter_t *f = h2o_create_filter(&host->fallback_path, sizeof(*f));
    f->on_setup_ostream = on_setup_ostream;
}
