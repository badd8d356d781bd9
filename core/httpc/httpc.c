/* httpc/httpc.c - libcurl's multi_socket interface driven by a libuv loop.
 *
 * curl tells us which sockets to watch (on_socket: one uv_poll_t per socket)
 * and when to call it back (on_timer_set: one uv_timer_t); the uv callbacks
 * call curl_multi_socket_action and then collect finished transfers.
 *
 * Re-entrancy is the hard part. curl forbids calling multi functions from
 * inside its own callbacks, and on_data (called from curl's write callback)
 * may start, cancel or close anything. So every entry into
 * curl_multi_socket_action is bracketed by c->in_curl; while it is set, new
 * calls are queued (pending), cancels are queued (reap) and a close is
 * remembered; after_curl() applies them once curl returned. on_done runs
 * only from after_curl, outside curl, after the call has left the multi and
 * the client's list, so it may do anything. */
#include "httpc/httpc.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log/log.h"
#include "util/buf.h"

#define COMPONENT "httpc"
#define DEFAULT_TIMEOUT_MS 60000
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define MAX_CONNECTS 128 /* idle connections kept for reuse */

#ifndef GW_HTTPC_USER_AGENT
#define GW_HTTPC_USER_AGENT "openclaw-gateway"
#endif

typedef struct sock_s {
    uv_poll_t poll; /* freed in its close callback */
    gw_httpc_t *c;
    curl_socket_t fd;
    struct sock_s *prev, *next;
} sock_t;

enum {
    ST_PENDING,  /* created while in curl; not yet in the multi */
    ST_ACTIVE,   /* in the multi */
    ST_CANCELED, /* canceled while in curl; freed by after_curl */
    ST_DONE      /* on_done running */
};

typedef struct hdr_s {
    size_t name, value; /* offsets into hdr_arena */
} hdr_t;

struct oc_http_call_s {
    gw_httpc_t *c;
    CURL *easy;
    struct curl_slist *slist;
    char *req_body;
    oc_http_callbacks_t cbs;
    void *data;
    uint32_t flags;
    int state;
    int added;  /* in the multi */
    int linked; /* in c->calls */
    struct oc_http_call_s *prev, *next; /* c->calls */
    struct oc_http_call_s *qnext;       /* c->pending or c->reap */
    uint64_t start_ns;
    size_t body_limit;
    gw_buf_t body;
    /* Response headers: "name\0value\0" pairs in an arena, indexed by
     * offsets so the arena may grow; hdrs is rebuilt from them on demand. */
    gw_buf_t hdr_arena;
    hdr_t *hdr_off;
    size_t hdr_n, hdr_cap;
    oc_http_header_t *hdrs;
    size_t hdrs_cap;
    int http_status;
    int head_done; /* the final response's head is complete */
    int head_sent; /* on_data got the head (stream mode) */
    int32_t abort_status; /* why we aborted from a callback; 0 = we did not */
    char abort_text[96];
    char errbuf[CURL_ERROR_SIZE];
};

struct gw_httpc_s {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    sock_t *socks;
    oc_http_call_t *calls;
    oc_http_call_t *pending_head, *pending_tail;
    oc_http_call_t *reap;
    size_t nactive;
    size_t body_limit;
    int in_curl;
    int in_cleanup;
    int closing;
    int close_deferred;
    int open_handles; /* uv handles whose close callback has not run */
    void (*done)(void *data);
    void *done_data;
};

static pthread_mutex_t g_init_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_inited;
static int g_have_ca_file;

int gw_httpc_global_init(void)
{
    int rc = 0;
    pthread_mutex_lock(&g_init_mu);
    if (!g_inited) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK) {
            g_inited = 1;
            /* libcurl-gnutls is built with a CA path of 290 files, read for
             * every new TLS connection (25-39 ms); one bundle file is several
             * times cheaper. */
            g_have_ca_file = access(GW_HTTPC_CA_FILE, R_OK) == 0;
        } else {
            rc = -EIO;
        }
    }
    pthread_mutex_unlock(&g_init_mu);
    return rc;
}

void gw_httpc_global_cleanup(void)
{
    pthread_mutex_lock(&g_init_mu);
    if (g_inited) {
        curl_global_cleanup();
        g_inited = 0;
    }
    pthread_mutex_unlock(&g_init_mu);
}

/* ---- calls ------------------------------------------------------------ */

static void call_unlink(oc_http_call_t *call)
{
    if (!call->linked)
        return;
    gw_httpc_t *c = call->c;
    if (call->prev)
        call->prev->next = call->next;
    else
        c->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    call->prev = call->next = NULL;
    call->linked = 0;
}

static void call_free(oc_http_call_t *call)
{
    call_unlink(call);
    if (call->added && call->c->multi)
        curl_multi_remove_handle(call->c->multi, call->easy);
    if (call->easy)
        curl_easy_cleanup(call->easy);
    curl_slist_free_all(call->slist);
    free(call->req_body);
    gw_buf_free(&call->body);
    gw_buf_free(&call->hdr_arena);
    free(call->hdr_off);
    free(call->hdrs);
    free(call);
}

static uint64_t elapsed_ms(const oc_http_call_t *call)
{
    return (uv_hrtime() - call->start_ns) / 1000000u;
}

/* The response head as it stands (headers rebuilt from the arena). */
static int build_head(oc_http_call_t *call, oc_http_response_t *res)
{
    if (call->hdr_n > call->hdrs_cap) {
        oc_http_header_t *h = realloc(call->hdrs, call->hdr_n * sizeof(*h));
        if (h == NULL)
            return -ENOMEM;
        call->hdrs = h;
        call->hdrs_cap = call->hdr_n;
    }
    for (size_t i = 0; i < call->hdr_n; i++) {
        call->hdrs[i].name = call->hdr_arena.data + call->hdr_off[i].name;
        call->hdrs[i].value = call->hdr_arena.data + call->hdr_off[i].value;
    }
    memset(res, 0, sizeof(*res));
    res->struct_size = sizeof(*res);
    res->status = OC_OK;
    res->http_status = call->http_status;
    res->headers = call->hdr_n ? call->hdrs : NULL;
    res->header_count = call->hdr_n;
    res->total_ms = elapsed_ms(call);
    return 0;
}

static void set_abort(oc_http_call_t *call, int32_t status, const char *text)
{
    if (call->abort_status == 0) {
        call->abort_status = status;
        snprintf(call->abort_text, sizeof(call->abort_text), "%s", text);
    }
}

/* on_data with the head and a piece. Returns 0 to go on. */
static int deliver(oc_http_call_t *call, const char *chunk, size_t len)
{
    oc_http_response_t head;
    if (build_head(call, &head) != 0) {
        set_abort(call, OC_ENOMEM, "out of memory");
        return -1;
    }
    int32_t rc = call->cbs.on_data(call->data, &head, chunk, len);
    if (call->state == ST_CANCELED)
        return -1; /* gw_httpc_cancel from inside on_data */
    if (rc != OC_OK) {
        set_abort(call, OC_ECANCELED, "canceled by on_data");
        return -1;
    }
    return 0;
}

/* ---- curl callbacks (run inside curl: no multi calls here) ------------- */

static size_t on_header(char *p, size_t size, size_t nitems, void *ud)
{
    oc_http_call_t *call = ud;
    size_t len = size * nitems, l = len;
    if (call->state == ST_CANCELED)
        return 0;
    while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == '\n'))
        l--;
    if (l >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new response (1xx, then the final one): start over. */
        const char *sp = memchr(p, ' ', l);
        call->http_status = sp ? atoi(sp + 1) : 0;
        call->hdr_n = 0;
        gw_buf_reset(&call->hdr_arena);
        call->head_done = 0;
        return len;
    }
    if (l == 0) {
        if (call->http_status >= 200 || call->http_status == 0) {
            call->head_done = 1;
            if ((call->flags & OC_HTTP_F_STREAM) && !call->head_sent) {
                call->head_sent = 1;
                if (deliver(call, "", 0) != 0)
                    return 0;
            }
        }
        return len;
    }
    gw_buf_t *a = &call->hdr_arena;
    if ((p[0] == ' ' || p[0] == '\t') && call->hdr_n > 0) {
        /* Obsolete line folding: continue the last value (last in the arena). */
        size_t s = 0;
        while (s < l && (p[s] == ' ' || p[s] == '\t'))
            s++;
        a->len--; /* its NUL */
        if (gw_buf_putc(a, ' ') != 0 || gw_buf_append(a, p + s, l - s) != 0 ||
            gw_buf_putc(a, '\0') != 0) {
            set_abort(call, OC_ENOMEM, "out of memory");
            return 0;
        }
        return len;
    }
    const char *colon = memchr(p, ':', l);
    if (colon == NULL || colon == p)
        return len;
    if (call->hdr_n == call->hdr_cap) {
        size_t cap = call->hdr_cap ? call->hdr_cap * 2 : 16;
        hdr_t *h = realloc(call->hdr_off, cap * sizeof(*h));
        if (h == NULL) {
            set_abort(call, OC_ENOMEM, "out of memory");
            return 0;
        }
        call->hdr_off = h;
        call->hdr_cap = cap;
    }
    size_t ne = (size_t)(colon - p), vs = ne + 1;
    while (ne > 0 && (p[ne - 1] == ' ' || p[ne - 1] == '\t'))
        ne--;
    while (vs < l && (p[vs] == ' ' || p[vs] == '\t'))
        vs++;
    size_t ve = l;
    while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
        ve--;
    size_t name_at = a->len;
    if (gw_buf_append(a, p, ne) != 0 || gw_buf_putc(a, '\0') != 0) {
        set_abort(call, OC_ENOMEM, "out of memory");
        return 0;
    }
    for (size_t i = name_at; i < name_at + ne; i++)
        if (a->data[i] >= 'A' && a->data[i] <= 'Z')
            a->data[i] = (char)(a->data[i] + ('a' - 'A'));
    size_t value_at = a->len;
    if (gw_buf_append(a, p + vs, ve - vs) != 0 || gw_buf_putc(a, '\0') != 0) {
        set_abort(call, OC_ENOMEM, "out of memory");
        return 0;
    }
    call->hdr_off[call->hdr_n++] = (hdr_t){name_at, value_at};
    return len;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    oc_http_call_t *call = ud;
    size_t len = size * nmemb;
    if (call->state == ST_CANCELED)
        return 0; /* any count other than len makes curl stop the transfer */
    if (call->flags & OC_HTTP_F_STREAM) {
        if (!call->head_sent) {
            call->head_sent = 1;
            if (deliver(call, "", 0) != 0)
                return 0;
        }
        if (len > 0 && deliver(call, p, len) != 0)
            return 0;
        return len;
    }
    if (call->body.len + len > call->body_limit) {
        char text[96];
        snprintf(text, sizeof(text), "response body exceeds the %zu-byte limit",
                 call->body_limit);
        set_abort(call, OC_EIO, text);
        return 0;
    }
    if (gw_buf_append(&call->body, p, len) != 0) {
        set_abort(call, OC_ENOMEM, "out of memory");
        return 0;
    }
    return len;
}

static void on_poll(uv_poll_t *h, int status, int events);

static void on_sock_closed(uv_handle_t *h);

static void sock_close(gw_httpc_t *c, sock_t *sk)
{
    if (sk->prev)
        sk->prev->next = sk->next;
    else
        c->socks = sk->next;
    if (sk->next)
        sk->next->prev = sk->prev;
    sk->prev = sk->next = NULL;
    uv_poll_stop(&sk->poll);
    uv_close((uv_handle_t *)&sk->poll, on_sock_closed);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    gw_httpc_t *c = userp;
    sock_t *sk = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sk != NULL) {
            sock_close(c, sk);
            if (!c->in_cleanup)
                curl_multi_assign(c->multi, s, NULL);
        }
        return 0;
    }
    if (sk == NULL) {
        sk = calloc(1, sizeof(*sk));
        if (sk == NULL)
            return -1;
        if (uv_poll_init_socket(c->loop, &sk->poll, s) != 0) {
            free(sk);
            return -1;
        }
        sk->poll.data = sk;
        sk->c = c;
        sk->fd = s;
        sk->next = c->socks;
        if (c->socks)
            c->socks->prev = sk;
        c->socks = sk;
        c->open_handles++;
        curl_multi_assign(c->multi, s, sk);
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    uv_poll_start(&sk->poll, ev, on_poll);
    return 0;
}

static void on_timer(uv_timer_t *t);

/* curl wants to be called back after timeout_ms. Never drive curl from here
 * (that re-enters it): arm the uv timer, which fires from the loop. */
static int on_timer_set(CURLM *m, long timeout_ms, void *userp)
{
    gw_httpc_t *c = userp;
    if (c->closing && c->multi == NULL)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- completion ------------------------------------------------------- */

static int32_t map_curl_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK: return OC_OK;
    case CURLE_OPERATION_TIMEDOUT: return OC_ETIMEDOUT;
    case CURLE_OUT_OF_MEMORY: return OC_ENOMEM;
    case CURLE_ABORTED_BY_CALLBACK: return OC_ECANCELED;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT: return OC_EINVAL;
    default: return OC_EIO;
    }
}

static void finish(gw_httpc_t *c, oc_http_call_t *call, CURLcode rc)
{
    /* Out of the multi and the list before on_done: it may close the client
     * or cancel other calls, and none of that may touch this call. */
    curl_multi_remove_handle(c->multi, call->easy);
    call->added = 0;
    call_unlink(call);
    c->nactive--;
    call->state = ST_DONE;

    long code = 0;
    curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code > 0)
        call->http_status = (int)code;

    oc_http_response_t res;
    int32_t status = OC_OK;
    const char *error = NULL;
    if (build_head(call, &res) != 0) {
        status = OC_ENOMEM;
        error = "out of memory";
        memset(&res, 0, sizeof(res));
        res.struct_size = sizeof(res);
        res.http_status = call->http_status;
    } else if (rc != CURLE_OK && call->abort_status != 0) {
        status = call->abort_status;
        error = call->abort_text;
    } else if (rc != CURLE_OK) {
        status = map_curl_error(rc);
        error = call->errbuf[0] ? call->errbuf : curl_easy_strerror(rc);
    }
    res.status = status;
    res.error = error;
    if (!(call->flags & OC_HTTP_F_STREAM)) {
        if (call->body.data == NULL)
            gw_buf_append(&call->body, "", 0); /* "" rather than NULL when possible */
        res.body = call->body.data ? call->body.data : "";
        res.body_len = call->body.len;
    }
    res.total_ms = elapsed_ms(call);

    if (status != OC_OK && gw_log_enabled(OC_LOG_DEBUG)) {
        const char *url = NULL, *method = NULL;
        curl_easy_getinfo(call->easy, CURLINFO_EFFECTIVE_URL, &url);
        curl_easy_getinfo(call->easy, CURLINFO_EFFECTIVE_METHOD, &method);
        gw_log(OC_LOG_DEBUG, COMPONENT, "%s %s failed after %llu ms: %s",
               method ? method : "?", url ? url : "?", (unsigned long long)res.total_ms,
               error);
    }
    if (call->cbs.on_done)
        call->cbs.on_done(call->data, &res);
    call_free(call);
}

static void do_close(gw_httpc_t *c);

/* Runs once curl has returned: applies what callbacks queued, then reports
 * finished transfers. */
static void after_curl(gw_httpc_t *c)
{
    if (c->in_curl > 0 || c->multi == NULL)
        return;
    if (c->close_deferred) {
        do_close(c);
        return;
    }
    while (c->reap != NULL) {
        oc_http_call_t *call = c->reap;
        c->reap = call->qnext;
        call_free(call);
    }
    while (c->pending_head != NULL) {
        oc_http_call_t *call = c->pending_head;
        c->pending_head = call->qnext;
        if (c->pending_head == NULL)
            c->pending_tail = NULL;
        call->qnext = NULL;
        if (call->state == ST_CANCELED) {
            call_free(call);
            continue;
        }
        CURLMcode mrc = curl_multi_add_handle(c->multi, call->easy);
        call->state = ST_ACTIVE;
        if (mrc != CURLM_OK) {
            /* Report it like any failure; the caller already has the call. */
            set_abort(call, OC_ENOMEM, curl_multi_strerror(mrc));
            call_unlink(call);
            c->nactive--;
            call->state = ST_DONE;
            oc_http_response_t res = {.struct_size = sizeof(res),
                                      .status = OC_ENOMEM,
                                      .error = call->abort_text,
                                      .body = ""};
            if (call->cbs.on_done)
                call->cbs.on_done(call->data, &res);
            call_free(call);
            if (c->multi == NULL)
                return; /* on_done closed the client */
            continue;
        }
        call->added = 1;
    }
    CURLMsg *msg;
    int left;
    while (c->multi != NULL && !c->closing && (msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        oc_http_call_t *call = NULL;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
        if (call->state == ST_CANCELED)
            call_free(call);
        else
            finish(c, call, rc);
    }
}

static void drive(gw_httpc_t *c, curl_socket_t s, int flags)
{
    int running = 0;
    if (c->multi == NULL)
        return;
    c->in_curl++;
    curl_multi_socket_action(c->multi, s, flags, &running);
    c->in_curl--;
    after_curl(c);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    sock_t *sk = h->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    drive(sk->c, sk->fd, flags);
}

static void on_timer(uv_timer_t *t)
{
    drive(t->data, CURL_SOCKET_TIMEOUT, 0);
}

/* ---- client ----------------------------------------------------------- */

gw_httpc_t *gw_httpc_new(uv_loop_t *loop)
{
    if (gw_httpc_global_init() != 0)
        return NULL;
    gw_httpc_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->loop = loop;
    c->body_limit = GW_HTTPC_BODY_LIMIT;
    c->multi = curl_multi_init();
    if (c->multi == NULL) {
        free(c);
        return NULL;
    }
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 1;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      (long)GW_HTTPC_MAX_HOST_CONNECTIONS);
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)MAX_CONNECTS);
    curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return c;
}

void gw_httpc_set_body_limit(gw_httpc_t *c, size_t bytes)
{
    c->body_limit = bytes ? bytes : GW_HTTPC_BODY_LIMIT;
}

size_t gw_httpc_active(const gw_httpc_t *c)
{
    return c->nactive;
}

static int is_tchar(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static int is_token(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return 0;
    return 1;
}

static void *fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void *fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

/* Checks the URL with curl's own parser so a bad one fails now, not later. */
static int check_url(const char *url, char *err, size_t errlen)
{
    CURLU *u = curl_url();
    if (u == NULL) {
        fail(err, errlen, "out of memory");
        return -1;
    }
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        curl_url_cleanup(u);
        fail(err, errlen, "bad URL: %s", curl_url_strerror(uc));
        return -1;
    }
    char *scheme = NULL;
    int rc = 0;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
        fail(err, errlen, "unsupported URL scheme '%s' (http and https only)",
             scheme ? scheme : "");
        rc = -1;
    }
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

#define SETOPT(opt, val)                                                                       \
    do {                                                                                       \
        if (curl_easy_setopt(easy, opt, val) != CURLE_OK) {                                    \
            fail(err, errlen, "curl refused option %s", #opt);                                 \
            goto bad;                                                                          \
        }                                                                                      \
    } while (0)

oc_http_call_t *gw_httpc_request(gw_httpc_t *c, const oc_http_request_t *req_in,
                                 const oc_http_callbacks_t *cbs_in, void *data, char *err,
                                 size_t errlen)
{
    if (c == NULL || req_in == NULL)
        return fail(err, errlen, "no request");
    if (c->closing)
        return fail(err, errlen, "HTTP client is closing");

    /* Size-aware copies: a plugin built against an older, shorter struct
     * gets zeros for the fields it does not know. */
    oc_http_request_t req;
    memset(&req, 0, sizeof(req));
    if (req_in->struct_size < offsetof(oc_http_request_t, url) + sizeof(req.url))
        return fail(err, errlen, "bad oc_http_request_t struct_size");
    memcpy(&req, req_in,
           req_in->struct_size < sizeof(req) ? req_in->struct_size : sizeof(req));
    oc_http_callbacks_t cbs;
    memset(&cbs, 0, sizeof(cbs));
    if (cbs_in != NULL) {
        if (cbs_in->struct_size < offsetof(oc_http_callbacks_t, on_data) + sizeof(cbs.on_data))
            return fail(err, errlen, "bad oc_http_callbacks_t struct_size");
        memcpy(&cbs, cbs_in,
               cbs_in->struct_size < sizeof(cbs) ? cbs_in->struct_size : sizeof(cbs));
    }

    if (req.url == NULL || req.url[0] == '\0')
        return fail(err, errlen, "request has no URL");
    if (check_url(req.url, err, errlen) != 0)
        return NULL;
    const char *method = req.method ? req.method : (req.body_len > 0 ? "POST" : "GET");
    if (!is_token(method) || strlen(method) > 32)
        return fail(err, errlen, "bad HTTP method '%s'", method);
    if (req.body_len > 0 && req.body == NULL)
        return fail(err, errlen, "body_len set but body is NULL");
    if (req.header_count > 0 && req.headers == NULL)
        return fail(err, errlen, "header_count set but headers is NULL");
    if ((req.flags & OC_HTTP_F_STREAM) && cbs.on_data == NULL)
        return fail(err, errlen, "OC_HTTP_F_STREAM needs an on_data callback");

    oc_http_call_t *call = calloc(1, sizeof(*call));
    if (call == NULL)
        return fail(err, errlen, "out of memory");
    call->c = c;
    call->cbs = cbs;
    call->data = data;
    call->flags = req.flags;
    call->body_limit = c->body_limit;
    CURL *easy = call->easy = curl_easy_init();
    if (easy == NULL) {
        fail(err, errlen, "out of memory");
        goto bad;
    }

    int has_expect = 0;
    for (size_t i = 0; i < req.header_count; i++) {
        const oc_http_header_t *h = &req.headers[i];
        if (!is_token(h->name)) {
            fail(err, errlen, "bad header name '%s'", h->name ? h->name : "(null)");
            goto bad;
        }
        const char *v = h->value ? h->value : "";
        if (strpbrk(v, "\r\n") != NULL) {
            fail(err, errlen, "header '%s' has a line break in its value", h->name);
            goto bad;
        }
        if (strcasecmp(h->name, "expect") == 0)
            has_expect = 1;
        gw_buf_t line = GW_BUF_INIT;
        /* "Name;" is curl's way to send a header with an empty value. */
        int brc = *v ? gw_buf_printf(&line, "%s: %s", h->name, v)
                     : gw_buf_printf(&line, "%s;", h->name);
        struct curl_slist *sl = brc == 0 ? curl_slist_append(call->slist, line.data) : NULL;
        gw_buf_free(&line);
        if (sl == NULL) {
            fail(err, errlen, "out of memory");
            goto bad;
        }
        call->slist = sl;
    }
    if (!has_expect && req.body_len > 0) {
        /* No 100-continue round trip: our bodies are small and in memory. */
        struct curl_slist *sl = curl_slist_append(call->slist, "Expect:");
        if (sl == NULL) {
            fail(err, errlen, "out of memory");
            goto bad;
        }
        call->slist = sl;
    }

    SETOPT(CURLOPT_URL, req.url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_PRIVATE, call);
    SETOPT(CURLOPT_ERRORBUFFER, call->errbuf);
    SETOPT(CURLOPT_WRITEFUNCTION, on_write);
    SETOPT(CURLOPT_WRITEDATA, call);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, call);
    SETOPT(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    SETOPT(CURLOPT_TIMEOUT_MS, (long)(req.timeout_ms ? req.timeout_ms : DEFAULT_TIMEOUT_MS));
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS,
           (long)(req.connect_timeout_ms ? req.connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS));
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    /* A stream's events are small and forwarded at once: a 4 KiB receive
     * buffer instead of curl's 16 KiB keeps 10k open streams affordable. */
    if (req.flags & OC_HTTP_F_STREAM)
        SETOPT(CURLOPT_BUFFERSIZE, 4096L);
    SETOPT(CURLOPT_USERAGENT, GW_HTTPC_USER_AGENT);
    /* h2 only through ALPN: prior knowledge breaks reused connections in
     * curl 7.88 (bug #10634). */
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    if (strncasecmp(req.url, "https:", 6) == 0) {
        /* Wait for a connection being set up that may multiplex instead of
         * opening one TLS connection per concurrent call. */
        SETOPT(CURLOPT_PIPEWAIT, 1L);
        if (g_have_ca_file) {
            SETOPT(CURLOPT_CAINFO, GW_HTTPC_CA_FILE);
            SETOPT(CURLOPT_CAPATH, (char *)NULL);
        }
    }
    if (req.body_len > 0) {
        call->req_body = malloc(req.body_len);
        if (call->req_body == NULL) {
            fail(err, errlen, "out of memory");
            goto bad;
        }
        memcpy(call->req_body, req.body, req.body_len);
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req.body_len);
        SETOPT(CURLOPT_POSTFIELDS, call->req_body);
        if (strcmp(method, "POST") != 0)
            SETOPT(CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") == 0) {
        SETOPT(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        SETOPT(CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "POST") == 0) {
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        SETOPT(CURLOPT_POSTFIELDS, "");
    } else {
        SETOPT(CURLOPT_CUSTOMREQUEST, method);
    }
    if (call->slist)
        SETOPT(CURLOPT_HTTPHEADER, call->slist);

    call->start_ns = uv_hrtime();
    if (c->in_curl > 0) {
        /* Started from on_data: curl may not be re-entered; after_curl adds it. */
        call->state = ST_PENDING;
        if (c->pending_tail)
            c->pending_tail->qnext = call;
        else
            c->pending_head = call;
        c->pending_tail = call;
    } else {
        CURLMcode mrc = curl_multi_add_handle(c->multi, easy);
        if (mrc != CURLM_OK) {
            fail(err, errlen, "curl_multi_add_handle: %s", curl_multi_strerror(mrc));
            goto bad;
        }
        call->added = 1;
        call->state = ST_ACTIVE;
    }
    call->next = c->calls;
    if (c->calls)
        c->calls->prev = call;
    c->calls = call;
    call->linked = 1;
    c->nactive++;
    return call;

bad:
    call_free(call);
    return NULL;
}

void gw_httpc_cancel(oc_http_call_t *call)
{
    if (call == NULL || call->state == ST_DONE || call->state == ST_CANCELED)
        return;
    gw_httpc_t *c = call->c;
    c->nactive--;
    if (call->state == ST_PENDING) {
        call->state = ST_CANCELED; /* freed when after_curl drains the queue */
        return;
    }
    if (c->in_curl > 0) {
        /* Inside curl (on_data): its callbacks now refuse data, and the
         * handle is removed once curl returns. */
        call->state = ST_CANCELED;
        call->qnext = c->reap;
        c->reap = call;
        return;
    }
    call_free(call);
}

/* ---- closing ---------------------------------------------------------- */

static void maybe_closed(gw_httpc_t *c)
{
    if (--c->open_handles > 0)
        return;
    void (*done)(void *) = c->done;
    void *data = c->done_data;
    free(c);
    if (done)
        done(data);
}

static void on_sock_closed(uv_handle_t *h)
{
    sock_t *sk = h->data;
    gw_httpc_t *c = sk->c;
    free(sk);
    maybe_closed(c);
}

static void on_timer_closed(uv_handle_t *h)
{
    maybe_closed(h->data);
}

static void do_close(gw_httpc_t *c)
{
    c->closing = 1;
    c->close_deferred = 0;
    while (c->calls != NULL)
        call_free(c->calls);
    c->pending_head = c->pending_tail = NULL;
    c->reap = NULL;
    c->nactive = 0;
    /* curl closes its cached connections here and tells on_socket. */
    c->in_cleanup = 1;
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    while (c->socks != NULL)
        sock_close(c, c->socks);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

void gw_httpc_close(gw_httpc_t *c, void (*done)(void *data), void *data)
{
    if (c == NULL || c->closing)
        return;
    c->done = done;
    c->done_data = data;
    if (c->in_curl > 0) {
        c->closing = 1;
        c->close_deferred = 1;
        return;
    }
    do_close(c);
}
