/* openclaw/plugin.h - the one header a gateway plugin includes.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * `openclaw_plugin_entry`, a function returning a pointer to a static
 * descriptor. Write it with OC_PLUGIN_DEFINE:
 *
 *     static const oc_plugin_ops_t ops = { OC_PLUGIN_OPS_INIT, .init = my_init, ... };
 *     static const oc_auth_ops_t auth = { OC_AUTH_OPS_INIT, .authenticate = my_auth };
 *     OC_PLUGIN_DEFINE(OC_KIND_AUTH, "auth-example", "1.0.0", "what it does", &ops, &auth);
 *
 * The rules (compatibility, threads, ownership) are in sdk/ABI.md.
 *
 * ============================================================================
 *  APPEND ONLY. Every struct here starts with struct_size; members are only
 *  ever added at the end, tagged with the minor that added them. Removing,
 *  reordering or retyping anything is a major change.
 * ============================================================================ */
#ifndef OPENCLAW_PLUGIN_H
#define OPENCLAW_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "openclaw/errors.h"
#include "openclaw/host.h"
#include "openclaw/version.h"
#include "openclaw/auth.h"
#include "openclaw/channel.h"
#include "openclaw/provider.h"
#include "openclaw/storage.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "OCPL" read as a little-endian uint32_t. */
#define OC_PLUGIN_MAGIC 0x4C50434Fu

/* Plugin kinds (fixed values; 0 is never valid). The name of a plugin starts
 * with its kind: "channel-", "provider-", "storage-", "auth-". */
#define OC_KIND_CHANNEL 1
#define OC_KIND_PROVIDER 2
#define OC_KIND_STORAGE 3
#define OC_KIND_AUTH 4

/* Descriptor flags. */
#define OC_PLUGIN_F_NO_UNLOAD 0x1u  /* never dlclose (the plugin keeps threads or atexit hooks) */
#define OC_PLUGIN_F_MULTI_LOOP 0x2u /* kind operations may run on any worker loop, concurrently */

typedef void (*oc_stop_done_cb)(void *done_data);

/* Lifecycle. Every call runs on the home loop.
 *  init:    read and validate config, allocate; NO I/O (validate calls init
 *           then destroy). Store `host` and `self` in your state. Return
 *           OC_OK and set *state, or an error (OC_ECONFIG after cfg_error).
 *  start:   open connections, start timers. Optional.
 *  reload:  apply new config all-or-nothing: OC_OK applied; OC_ENOTSUP means
 *           the host replaces the instance (init new, start, stop old); an
 *           error keeps the old config. Optional (NULL = OC_ENOTSUP).
 *  stop:    stop taking work, finish or cancel what is in flight, then call
 *           done(done_data) exactly once, possibly later. The host enforces a
 *           deadline. Optional (NULL = done at once).
 *  destroy: free everything. Called after stop's done, or after init when the
 *           gateway does not start. Nothing is called after it. */
typedef struct oc_plugin_ops_s {
    uint32_t struct_size;
    uint32_t reserved0;
    int32_t (*init)(const oc_host_api_t *host, oc_plugin_t *self, oc_config_t *cfg, void **state);
    int32_t (*start)(void *state);
    int32_t (*reload)(void *state, oc_config_t *cfg);
    void (*stop)(void *state, oc_stop_done_cb done, void *done_data);
    void (*destroy)(void *state);
} oc_plugin_ops_t;

#define OC_PLUGIN_OPS_INIT .struct_size = sizeof(oc_plugin_ops_t)

/* The descriptor: static, plugin-owned, valid until the plugin is unloaded.
 * No padding: every member is naturally aligned as laid out. */
typedef struct oc_plugin_desc_s {
    uint32_t magic;       /* OC_PLUGIN_MAGIC */
    uint16_t abi_major;   /* OC_ABI_MAJOR of the SDK the plugin was built with */
    uint16_t abi_minor;   /* OC_ABI_MINOR of that SDK */
    uint32_t struct_size; /* sizeof(oc_plugin_desc_t) as the plugin saw it */
    uint32_t kind;        /* OC_KIND_* */
    uint32_t flags;       /* OC_PLUGIN_F_* */
    uint32_t reserved0;
    const char *name;        /* "<kind>-<name>", [a-z0-9-], at most 63 chars; unique */
    const char *version;     /* the plugin's own version, shown to operators */
    const char *description; /* one line; may be NULL */
    const oc_plugin_ops_t *ops;
    const void *kind_ops; /* oc_channel_ops_t, oc_provider_ops_t, oc_storage_ops_t or oc_auth_ops_t */
} oc_plugin_desc_t;

#define OC_PLUGIN_ENTRY_SYMBOL "openclaw_plugin_entry"

#if defined(__GNUC__)
#define OC_EXPORT __attribute__((visibility("default")))
#else
#define OC_EXPORT
#endif

typedef const oc_plugin_desc_t *(*oc_plugin_entry_fn)(void);

/* Emits the descriptor and the entry function. The entry has no side
 * effects: the host calls it to list plugins without initialising them. */
#define OC_PLUGIN_DEFINE_FLAGS(KIND, NAME, VERSION, DESCRIPTION, FLAGS, OPS, KIND_OPS)          \
    static const oc_plugin_desc_t oc__plugin_desc = {                                          \
        .magic = OC_PLUGIN_MAGIC,                                                              \
        .abi_major = OC_ABI_MAJOR,                                                             \
        .abi_minor = OC_ABI_MINOR,                                                             \
        .struct_size = sizeof(oc_plugin_desc_t),                                               \
        .kind = (KIND),                                                                        \
        .flags = (FLAGS),                                                                      \
        .name = (NAME),                                                                        \
        .version = (VERSION),                                                                  \
        .description = (DESCRIPTION),                                                          \
        .ops = (OPS),                                                                          \
        .kind_ops = (KIND_OPS),                                                                \
    };                                                                                         \
    OC_EXPORT const oc_plugin_desc_t *openclaw_plugin_entry(void);                             \
    OC_EXPORT const oc_plugin_desc_t *openclaw_plugin_entry(void)                              \
    {                                                                                          \
        return &oc__plugin_desc;                                                               \
    }

#define OC_PLUGIN_DEFINE(KIND, NAME, VERSION, DESCRIPTION, OPS, KIND_OPS)                      \
    OC_PLUGIN_DEFINE_FLAGS(KIND, NAME, VERSION, DESCRIPTION, 0u, OPS, KIND_OPS)

#ifdef __cplusplus
}
#endif
#endif
