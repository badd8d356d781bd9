/* tests/support/load_net.h - the network side shared by the load
 * generators (webhook-load, oc-llm-load): an http:// target resolved once,
 * and a keep-alive TCP connection that reconnects with backoff.
 *
 * The connection knows nothing of HTTP: it connects, reads into `in`,
 * writes what it is given, and tells its owner through ln_ops_t. Who sends
 * what, and when an answer is complete, is the owner's business.
 *
 * Threads: everything runs on the thread of the connection's loop;
 * callbacks come from that loop. */
#ifndef LOAD_NET_H
#define LOAD_NET_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "util/buf.h"

/* ---- the target ------------------------------------------------------------ */

typedef struct ln_url_s {
    char *host; /* owned: "host[:port]" as written, for the Host header */
    char *path; /* owned: "/..." ("/" when the URL has none), query included */
    int has_path;
    struct sockaddr_storage addr;
} ln_url_t;

/* Parses http://host[:port][/path] and resolves host (blocking, once, before
 * the loop runs: the address is reused for every connect). 0, or -1 with
 * the reason in err ("what is wrong and how to write it"). */
int ln_url_parse(const char *url, ln_url_t *u, char *err, size_t errlen);
void ln_url_free(ln_url_t *u);

/* ---- the connection ----------------------------------------------------------- */

enum { LN_DOWN, LN_CONNECTING, LN_UP, LN_CLOSING, LN_OFF };

typedef struct ln_conn_s ln_conn_t;

typedef struct ln_ops_s {
    /* Connected and reading: ready for a request. */
    void (*up)(ln_conn_t *c);
    /* n > 0: n bytes were appended to c->in (NUL-terminated). n < 0: the
     * peer closed (UV_EOF) or the read failed; the owner may still use
     * c->in (a body delimited by the close), and the connection is dropped
     * after this returns unless the owner dropped it already. */
    void (*data)(ln_conn_t *c, ssize_t n);
    /* The connection failed on its own: a connect (connecting = 1) or a
     * write failed with err. Called before the socket is closed; it
     * reconnects after c->backoff_ms. */
    void (*lost)(ln_conn_t *c, int err, int connecting);
} ln_ops_t;

struct ln_conn_s {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    /* The owner's while the connection is up (a request timeout, say); the
     * reconnect delay while it is down. Stopped by every drop. */
    uv_timer_t timer;
    uv_loop_t *loop;
    const struct sockaddr *addr; /* borrowed: outlives the connection */
    const ln_ops_t *ops;         /* borrowed, static */
    void *data;                  /* the owner's */
    int state;
    int writing;         /* a uv_write is pending */
    uint32_t backoff_ms; /* the next reconnect waits this long */
    uint32_t read_size;  /* room offered to each read; 0 = 16 KiB */
    gw_buf_t in;         /* owned: bytes read; the owner consumes them */
};

/* Sets up the connection (the timer); nothing is sent. */
void ln_conn_init(ln_conn_t *c, uv_loop_t *loop, const struct sockaddr *addr,
                  const ln_ops_t *ops, void *data);
/* Connects now (from LN_DOWN). */
void ln_conn_start(ln_conn_t *c);
/* Writes n bytes at p, borrowed until written (in the same call, or when
 * the pending write completes: c->writing is set meanwhile). One write at
 * a time: while c->writing, a write fails (ops->lost with UV_EBUSY). Note
 * that an answer can be read before libuv reports the write of its
 * request done (reads are handled first): an owner that answers by
 * sending again must check c->writing (and start afresh when it is set). */
void ln_conn_write(ln_conn_t *c, const char *p, size_t n);
/* Closes the socket (the owner gave up on it: timeout, bad answer, the
 * server said close); reconnects after c->backoff_ms. No callback. */
void ln_conn_drop(ln_conn_t *c);
/* Closes for good (no reconnect): the socket and the timer. The struct
 * must stay in place until the loop has run the close callbacks. */
void ln_conn_close(ln_conn_t *c);
/* Frees `in`, after the loop is done with the connection. */
void ln_conn_free(ln_conn_t *c);

#endif
