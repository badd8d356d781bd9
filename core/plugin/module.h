/* plugin/module.h - one plugin file: dlopen, the ABI checks, the descriptor.
 *
 * The checks run in a fixed order and each failure has its own message that
 * names the file (sdk/ABI.md, "Refusals"). Not thread-safe: the home loop
 * opens and closes modules. */
#ifndef GW_PLUGIN_MODULE_H
#define GW_PLUGIN_MODULE_H

#include <openclaw/plugin.h>

#include "util/diag.h"

/* The size of the 1.0 descriptor: anything smaller is a corrupt build. */
#define GW_DESC_V1_0_SIZE (offsetof(oc_plugin_desc_t, kind_ops) + sizeof(void *))

typedef struct gw_module_s {
    char *path;             /* owned: the file opened */
    char *file;             /* owned: its base name, used in messages */
    void *handle;           /* dlopen handle */
    oc_plugin_desc_t desc;  /* zeroed copy of min(plugin size, ours) */
    oc_plugin_ops_t ops;    /* likewise */
    union {                 /* likewise, by desc.kind */
        oc_auth_ops_t auth;
        oc_channel_ops_t channel;
        oc_provider_ops_t provider;
        oc_storage_ops_t storage;
    } k;
} gw_module_t;

/* Finds `spec` (a plugin name looked up as <dir>/<name>.so in `dirs`, or a
 * path when it contains '/' or ends in ".so"), loads it and runs every
 * check. On success *out is a new module (gw_module_close frees it) and 0 is
 * returned; otherwise one message goes to d and OC_EABI, OC_ENOENT or
 * OC_ECONFIG is returned. */
int gw_module_open(const char *spec, const char *const *dirs, size_t ndirs, gw_module_t **out,
                   gw_diag_t *d);
/* Runs the checks on an already loaded descriptor (tests use it). `file`
 * names it in messages. */
int gw_module_check(const char *file, const oc_plugin_desc_t *desc, gw_module_t *m, gw_diag_t *d);
/* dlclose (skipped for OC_PLUGIN_F_NO_UNLOAD and in sanitizer builds, whose
 * leak reports need the symbols) and free. NULL is fine. */
void gw_module_close(gw_module_t *m);

const char *gw_kind_name(uint32_t kind); /* "channel", ...; "unknown" */

#endif
