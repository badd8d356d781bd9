#include "gateway/state.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int gw_mkdirs(const char *dir)
{
    char *p = strdup(dir);
    if (p == NULL)
        return -ENOMEM;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            int rc = -errno;
            free(p);
            return rc;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0700) != 0 && errno != EEXIST ? -errno : 0;
    free(p);
    return rc;
}

static int write_atomic(const char *path, const char *data)
{
    gw_buf_t tmp = GW_BUF_INIT;
    gw_buf_printf(&tmp, "%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        int rc = -errno;
        gw_buf_free(&tmp);
        return rc;
    }
    size_t len = strlen(data);
    ssize_t n = write(fd, data, len);
    int rc = n == (ssize_t)len ? 0 : -EIO;
    close(fd);
    if (rc == 0 && rename(tmp.data, path) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp.data);
    gw_buf_free(&tmp);
    return rc;
}

int gw_state_write(const char *state_dir, pid_t pid, const char *json)
{
    gw_buf_t p = GW_BUF_INIT, v = GW_BUF_INIT;
    gw_buf_printf(&p, "%s/gateway.pid", state_dir);
    gw_buf_printf(&v, "%d\n", (int)pid);
    int rc = write_atomic(p.data, v.data);
    if (rc == 0) {
        gw_buf_reset(&p);
        gw_buf_printf(&p, "%s/gateway.json", state_dir);
        rc = write_atomic(p.data, json);
    }
    gw_buf_free(&p);
    gw_buf_free(&v);
    return rc;
}

static pid_t read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    int pid = 0;
    if (fscanf(f, "%d", &pid) != 1)
        pid = 0;
    fclose(f);
    return pid;
}

void gw_state_remove(const char *state_dir, pid_t pid)
{
    gw_buf_t p = GW_BUF_INIT;
    gw_buf_printf(&p, "%s/gateway.pid", state_dir);
    if (read_pid(p.data) == pid) {
        unlink(p.data);
        gw_buf_reset(&p);
        gw_buf_printf(&p, "%s/gateway.json", state_dir);
        unlink(p.data);
    }
    gw_buf_free(&p);
}

int gw_state_read(const char *state_dir, gw_buf_t *out)
{
    gw_buf_t p = GW_BUF_INIT;
    gw_buf_printf(&p, "%s/gateway.json", state_dir);
    FILE *f = fopen(p.data, "r");
    gw_buf_free(&p);
    if (f == NULL)
        return -errno;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        gw_buf_append(out, chunk, n);
    fclose(f);
    return 0;
}

int gw_pid_running(pid_t pid)
{
    if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM))
        return 0;
    /* A zombie still answers kill(pid, 0): it has exited, only its parent
     * (init, for a daemon) has not reaped it yet. */
    char path[64], buf[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')'); /* comm may contain spaces */
    return !(rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

int gw_pid_is_gateway(pid_t pid)
{
    if (!gw_pid_running(pid))
        return 0;
    char path[64], comm[64] = "";
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    if (fgets(comm, sizeof(comm), f) == NULL)
        comm[0] = '\0';
    fclose(f);
    comm[strcspn(comm, "\n")] = '\0';
    return strcmp(comm, "openclaw") == 0;
}
