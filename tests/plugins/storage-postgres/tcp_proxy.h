/* tcp_proxy.h - a TCP forwarder on 127.0.0.1 that a test can cut and heal,
 * to make a server disappear and come back without touching the server.
 *   cut:    every forwarded connection is closed and the port refuses new
 *           ones (nothing listens);
 *   hang:   every forwarded connection is closed; new ones are accepted and
 *           never answered (a server that stopped responding);
 *   heal:   back to forwarding (listening again on the same port);
 *   refuse: the next n connections are accepted and closed at once, then
 *           forwarding goes on by itself (a server still starting).
 * One thread; the calls are made from the test's thread and return once
 * they took effect. */
#ifndef TCP_PROXY_H
#define TCP_PROXY_H

typedef struct tcp_proxy_s tcp_proxy_t;

/* Forward to 127.0.0.1:target_port. NULL on failure. */
tcp_proxy_t *tcp_proxy_start(int target_port);
int tcp_proxy_port(const tcp_proxy_t *p);
void tcp_proxy_cut(tcp_proxy_t *p);
void tcp_proxy_hang(tcp_proxy_t *p);
void tcp_proxy_refuse(tcp_proxy_t *p, int n);
/* Connections refused so far by tcp_proxy_refuse. */
int tcp_proxy_refused(tcp_proxy_t *p);
/* 0, or -1 when the port could not be listened on again. */
int tcp_proxy_heal(tcp_proxy_t *p);
void tcp_proxy_free(tcp_proxy_t *p);

#endif
