/* tcp_proxy.c - see tcp_proxy.h. The proxy thread owns every socket; the
 * test's thread sends it commands through a pipe and waits for the reply it
 * sends back, so a command has taken effect when its call returns. */
#define _GNU_SOURCE
#include "tcp_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PAIRS_MAX 64
#define HELD_MAX 64

typedef struct cmd_s {
    char op; /* 'c'ut, 'g' hang, 'h'eal, 'r'efuse, 'n' refused count, 'q'uit */
    int arg;
} cmd_t;

typedef struct pair_s {
    int a, b; /* client side, server side; -1 when unused */
} pair_t;

struct tcp_proxy_s {
    pthread_t thread;
    int cmd[2], ack[2]; /* test -> proxy, proxy -> test */
    int listen_fd;
    int port, target;
    pair_t pairs[PAIRS_MAX];
    int hang;            /* accept and hold, never forward */
    int held[HELD_MAX];  /* connections held while hanging */
    int refuse_left;     /* accept and close this many more */
    int refused;
};

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void close_pair(pair_t *p)
{
    if (p->a >= 0)
        close(p->a);
    if (p->b >= 0)
        close(p->b);
    p->a = p->b = -1;
}

static void drop_held(tcp_proxy_t *x)
{
    for (int i = 0; i < HELD_MAX; i++)
        if (x->held[i] >= 0)
            close(x->held[i]);
    for (int i = 0; i < HELD_MAX; i++)
        x->held[i] = -1;
}

static void accept_one(tcp_proxy_t *x)
{
    int a = accept4(x->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (a < 0)
        return;
    if (x->refuse_left > 0) {
        x->refuse_left--;
        x->refused++;
        close(a);
        return;
    }
    if (x->hang) {
        for (int i = 0; i < HELD_MAX; i++) {
            if (x->held[i] < 0) {
                x->held[i] = a;
                return;
            }
        }
        close(a);
        return;
    }
    int b = dial(x->target);
    for (int i = 0; b >= 0 && i < PAIRS_MAX; i++) {
        if (x->pairs[i].a < 0) {
            x->pairs[i].a = a;
            x->pairs[i].b = b;
            return;
        }
    }
    close(a); /* no server or no room: the client sees the connection close */
    if (b >= 0)
        close(b);
}

/* Copy what is readable on `from` to `to`; 0 when the pair must close. */
static int pump(int from, int to)
{
    char buf[16384];
    ssize_t n = read(from, buf, sizeof buf);
    if (n <= 0)
        return n < 0 && (errno == EAGAIN || errno == EINTR);
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return 0;
        off += w;
    }
    return 1;
}

/* Returns 0 to quit. */
static int command(tcp_proxy_t *x)
{
    cmd_t c;
    if (read(x->cmd[0], &c, sizeof c) != (ssize_t)sizeof c)
        return 0;
    int reply = 0;
    if (c.op == 'c' || c.op == 'g' || c.op == 'q') {
        for (int i = 0; i < PAIRS_MAX; i++)
            close_pair(&x->pairs[i]);
        drop_held(x);
        x->hang = c.op == 'g';
        if (c.op != 'g' && x->listen_fd >= 0) {
            close(x->listen_fd);
            x->listen_fd = -1;
        }
    } else if (c.op == 'h') {
        drop_held(x);
        x->hang = 0;
        if (x->listen_fd < 0)
            x->listen_fd = listen_on(x->port);
        reply = x->listen_fd < 0 ? -1 : 0;
    } else if (c.op == 'r') {
        x->refuse_left = c.arg;
    } else if (c.op == 'n') {
        reply = x->refused;
    }
    if (write(x->ack[1], &reply, sizeof reply) != (ssize_t)sizeof reply)
        return 0;
    return c.op != 'q';
}

static void *run(void *arg)
{
    tcp_proxy_t *x = arg;
    for (;;) {
        struct pollfd fds[2 + 2 * PAIRS_MAX];
        int map[2 + 2 * PAIRS_MAX];
        int n = 0;
        fds[n].fd = x->cmd[0];
        fds[n++].events = POLLIN;
        if (x->listen_fd >= 0) {
            fds[n].fd = x->listen_fd;
            fds[n++].events = POLLIN;
        }
        int first_pair = n;
        for (int i = 0; i < PAIRS_MAX; i++) {
            if (x->pairs[i].a < 0)
                continue;
            map[n] = i;
            fds[n].fd = x->pairs[i].a;
            fds[n++].events = POLLIN;
            map[n] = i;
            fds[n].fd = x->pairs[i].b;
            fds[n++].events = POLLIN;
        }
        if (poll(fds, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        if (fds[0].revents && !command(x))
            return NULL;
        if (first_pair == 2 && fds[1].revents && x->listen_fd >= 0)
            accept_one(x);
        for (int k = first_pair; k < n; k++) {
            if (fds[k].revents == 0)
                continue;
            pair_t *p = &x->pairs[map[k]];
            if (p->a < 0)
                continue; /* closed by the other half this round */
            int from = fds[k].fd, to = from == p->a ? p->b : p->a;
            if (!pump(from, to))
                close_pair(p);
        }
    }
}

static int send_cmd(tcp_proxy_t *x, char op, int arg)
{
    cmd_t c = {op, arg};
    int r = -1;
    if (write(x->cmd[1], &c, sizeof c) != (ssize_t)sizeof c ||
        read(x->ack[0], &r, sizeof r) != (ssize_t)sizeof r)
        return -1;
    return r;
}

tcp_proxy_t *tcp_proxy_start(int target_port)
{
    tcp_proxy_t *x = calloc(1, sizeof *x);
    if (x == NULL)
        return NULL;
    for (int i = 0; i < PAIRS_MAX; i++)
        x->pairs[i].a = x->pairs[i].b = -1;
    for (int i = 0; i < HELD_MAX; i++)
        x->held[i] = -1;
    x->target = target_port;
    x->listen_fd = listen_on(0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (x->listen_fd < 0 || getsockname(x->listen_fd, (struct sockaddr *)&a, &len) != 0 ||
        pipe2(x->cmd, O_CLOEXEC) != 0 || pipe2(x->ack, O_CLOEXEC) != 0) {
        free(x);
        return NULL;
    }
    x->port = ntohs(a.sin_port);
    if (pthread_create(&x->thread, NULL, run, x) != 0) {
        free(x);
        return NULL;
    }
    return x;
}

int tcp_proxy_port(const tcp_proxy_t *p)
{
    return p->port;
}

void tcp_proxy_cut(tcp_proxy_t *p)
{
    send_cmd(p, 'c', 0);
}

void tcp_proxy_hang(tcp_proxy_t *p)
{
    send_cmd(p, 'g', 0);
}

void tcp_proxy_refuse(tcp_proxy_t *p, int n)
{
    send_cmd(p, 'r', n);
}

int tcp_proxy_refused(tcp_proxy_t *p)
{
    return send_cmd(p, 'n', 0);
}

int tcp_proxy_heal(tcp_proxy_t *p)
{
    return send_cmd(p, 'h', 0);
}

void tcp_proxy_free(tcp_proxy_t *p)
{
    if (p == NULL)
        return;
    send_cmd(p, 'q', 0);
    pthread_join(p->thread, NULL);
    close(p->cmd[0]);
    close(p->cmd[1]);
    close(p->ack[0]);
    close(p->ack[1]);
    free(p);
}
