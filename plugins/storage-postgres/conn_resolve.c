/* conn_resolve.c - storage-postgres: look up the URL's host name on the
 * thread pool (getaddrinfo blocks; libpq would call it on the loop), then
 * connect to the addresses found, in order. Inside start (startup.c), before
 * the loop serves anything, the lookup runs in place instead.
 *
 * Threads: the work function runs on a thread-pool thread and touches only
 * its own pg_resolve_t (copies of the host and port in, addresses out). The
 * done callback runs on the home loop; when the connection gave up on the
 * lookup meanwhile (timeout, stop), the block is only freed there. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pg.h"

#define ADDRS_MAX 8

struct pg_resolve_s {
    pg_conn_t *conn; /* NULL once abandoned (loop side only) */
    pg_state_t *st;
    char host[256];
    char port[8];
    int rc;          /* getaddrinfo's result (worker side) */
    char addrs[ADDRS_MAX * 48];
};

static void work(void *data)
{
    pg_resolve_t *r = data;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    r->rc = getaddrinfo(r->host, r->port[0] != '\0' ? r->port : "5432", &hints, &res);
    if (r->rc != 0)
        return;
    size_t used = 0;
    int n = 0;
    for (struct addrinfo *ai = res; ai != NULL && n < ADDRS_MAX; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN];
        const void *a = ai->ai_family == AF_INET
                            ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                            : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            inet_ntop(ai->ai_family, a, text, sizeof text) == NULL)
            continue;
        if (strstr(r->addrs, text) != NULL) /* the same address for another protocol */
            continue;
        int w = snprintf(r->addrs + used, sizeof r->addrs - used, "%s%s", n > 0 ? "," : "",
                         text);
        if (w < 0 || (size_t)w >= sizeof r->addrs - used)
            break;
        used += (size_t)w;
        n++;
    }
    freeaddrinfo(res);
    if (n == 0)
        r->rc = EAI_NONAME;
}

static void done(void *data, int32_t status)
{
    pg_resolve_t *r = data;
    pg_state_t *st = r->st;
    pg_conn_t *c = r->conn;
    st->resolves--;
    if (c == NULL) {
        free(r);
        pg_pool_check_stopped(st);
        return;
    }
    c->resolve = NULL;
    if (status != OC_OK)
        pg_conn_fail(c, 1, OC_EUNAVAIL, "cannot look up host \"%s\": %s", r->host,
                     st->host->strerror(status));
    else if (r->rc != 0)
        pg_conn_fail(c, 1, OC_EUNAVAIL, "cannot look up host \"%s\": %s", r->host,
                     gai_strerror(r->rc));
    else
        pg_connect_start(c, r->addrs);
    free(r);
}

int pg_resolve_start(pg_conn_t *c)
{
    pg_state_t *st = c->st;
    const pg_url_t *u = &st->cfg.url;
    pg_resolve_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -1;
    r->conn = c;
    r->st = st;
    snprintf(r->host, sizeof r->host, "%s", u->host);
    snprintf(r->port, sizeof r->port, "%s", u->port != NULL ? u->port : "");
    if (st->sync) {
        /* start's own wait (startup.c): the loop serves nothing yet, and the
         * thread pool's done callback would need the loop to run. */
        st->resolves++;
        c->resolve = r;
        work(r);
        done(r, OC_OK);
        return 0;
    }
    if (st->host->work_submit(st->self, work, done, r) != OC_OK) {
        free(r);
        return -1;
    }
    st->resolves++;
    c->resolve = r;
    return 0;
}

void pg_resolve_abandon(pg_conn_t *c)
{
    if (c->resolve != NULL)
        c->resolve->conn = NULL;
    c->resolve = NULL;
}
