/* server/listen.h - listening sockets. */
#ifndef GW_SERVER_LISTEN_H
#define GW_SERVER_LISTEN_H

#include <stddef.h>

/* A non-blocking listening socket on host:port (port 0 = any). With
 * reuseport, SO_REUSEPORT is set so each worker loop gets its own socket and
 * the kernel spreads connections across them. Writes the bound port and
 * numeric address. Returns the fd, or a negative errno. */
int gw_listen_fd(const char *host, int port, int reuseport, int *bound_port, char *numeric,
                 size_t numeric_len);

#endif
