/* util/instance.c - see instance.h. */
#include "util/instance.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char id[128];

static void make_id(void)
{
    char host[64] = "localhost";
    if (gethostname(host, sizeof(host) - 1) != 0)
        strcpy(host, "localhost");
    host[sizeof(host) - 1] = '\0';
    uint32_t r = 0;
    /* A short read leaves part of r zero; the pid still tells lives apart. */
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
        r ^= (uint32_t)(uintptr_t)&r;
    snprintf(id, sizeof(id), "%s/%ld/%08x", host, (long)getpid(), r);
}

const char *gw_instance_id(void)
{
    pthread_once(&once, make_id);
    return id;
}
