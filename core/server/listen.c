/* server/listen.c - listening sockets, and who holds a busy port. */
#include "server/listen.h"
#include "server/server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int gw_listen_fd(const char *host, int port, int reuseport, int *bound_port, char *numeric,
                 size_t numeric_len)
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &ai);
    if (rc != 0)
        return rc == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        freeaddrinfo(ai);
        return rc;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        rc = -errno;
        close(fd);
        freeaddrinfo(ai);
        return rc;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        *bound_port = ntohs(s6->sin6_port);
        if (numeric)
            inet_ntop(AF_INET6, &s6->sin6_addr, numeric, (socklen_t)numeric_len);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        *bound_port = ntohs(s4->sin_port);
        if (numeric)
            inet_ntop(AF_INET, &s4->sin_addr, numeric, (socklen_t)numeric_len);
    }
    return fd;
}

/* Finds the inode of a listening socket on `port` in /proc/net/tcp{,6}. */
static unsigned long listening_inode(int port)
{
    static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    for (size_t f = 0; f < 2; f++) {
        FILE *fp = fopen(files[f], "r");
        if (fp == NULL)
            continue;
        char line[512];
        unsigned long found = 0;
        if (fgets(line, sizeof(line), fp) == NULL) { /* header */
            fclose(fp);
            continue;
        }
        while (!found && fgets(line, sizeof(line), fp)) {
            char local[128];
            unsigned st;
            unsigned long inode;
            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
            if (sscanf(line, "%*d: %127s %*s %x %*s %*s %*s %*u %*u %lu", local, &st, &inode) != 3)
                continue;
            char *colon = strrchr(local, ':');
            if (colon && st == 0x0A && (int)strtol(colon + 1, NULL, 16) == port)
                found = inode;
        }
        fclose(fp);
        if (found)
            return found;
    }
    return 0;
}

void gw_port_holder(const char *host, int port, char *out, size_t outlen, int *pid_out)
{
    (void)host;
    out[0] = '\0';
    if (pid_out)
        *pid_out = 0;
    unsigned long inode = listening_inode(port);
    if (inode == 0)
        return;
    char want[64];
    snprintf(want, sizeof(want), "socket:[%lu]", inode);
    DIR *proc = opendir("/proc");
    if (proc == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(proc)) != NULL) {
        int pid = atoi(de->d_name);
        if (pid <= 0)
            continue;
        char fddir[32];
        snprintf(fddir, sizeof(fddir), "/proc/%d/fd", pid);
        DIR *fds = opendir(fddir);
        if (fds == NULL)
            continue;
        struct dirent *fe;
        int hit = 0;
        while (!hit && (fe = readdir(fds)) != NULL) {
            char link[320], target[128];
            snprintf(link, sizeof(link), "%s/%s", fddir, fe->d_name);
            ssize_t n = readlink(link, target, sizeof(target) - 1);
            if (n > 0) {
                target[n] = '\0';
                hit = strcmp(target, want) == 0;
            }
        }
        closedir(fds);
        if (hit) {
            char comm[64] = "?", path[64];
            snprintf(path, sizeof(path), "/proc/%d/comm", pid);
            FILE *fp = fopen(path, "r");
            if (fp) {
                if (fgets(comm, sizeof(comm), fp))
                    comm[strcspn(comm, "\n")] = '\0';
                fclose(fp);
            }
            snprintf(out, outlen, "pid %d (%s)", pid, comm);
            if (pid_out)
                *pid_out = pid;
            break;
        }
    }
    closedir(proc);
}
