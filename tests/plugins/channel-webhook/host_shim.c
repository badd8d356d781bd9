/* host_shim.c - see host_shim.h. */
#include "host_shim.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fake_inbound.h"

/* The protection of the mapping holding addr, from /proc/self/maps. */
static int page_prot(uintptr_t addr, int *prot)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL)
        return -1;
    char line[512];
    int found = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3)
            continue;
        if (addr >= lo && addr < hi) {
            *prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
                    (perms[2] == 'x' ? PROT_EXEC : 0);
            found = 0;
            break;
        }
    }
    fclose(f);
    return found;
}

int host_shim_install(const oc_host_api_t *api)
{
    if (api == NULL || api->struct_size < sizeof(oc_host_api_t)) {
        errno = EINVAL; /* a table without room for the 1.1 members */
        return -1;
    }
    uintptr_t psz = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)api & ~(psz - 1);
    uintptr_t hi = ((uintptr_t)api + sizeof *api + psz - 1) & ~(psz - 1);
    int prot[2] = {0, 0};
    size_t pages = (hi - lo) / psz;
    if (pages > 2 || page_prot(lo, &prot[0]) != 0 ||
        (pages == 2 && page_prot(lo + psz, &prot[1]) != 0)) {
        errno = EFAULT;
        return -1;
    }
    if (mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE) != 0)
        return -1;
    oc_host_api_t *w = (oc_host_api_t *)(uintptr_t)api;
    w->http_route = fake_http_route;
    w->http_respond = fake_http_respond;
    w->inbound_submit = fake_inbound_submit;
    for (size_t i = 0; i < pages; i++)
        mprotect((void *)(lo + i * psz), psz, prot[i]);
    return 0;
}
