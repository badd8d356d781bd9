#include "plugin/module.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"

static const char *const kind_names[] = {NULL, "channel", "provider", "storage", "auth"};

const char *gw_kind_name(uint32_t kind)
{
    return kind >= 1 && kind <= 4 ? kind_names[kind] : "unknown";
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Plugin names: "<kind>-<rest>", [a-z0-9-], at most 63 chars. */
static int valid_name(const char *name, uint32_t kind)
{
    size_t n = strnlen(name, 64);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    const char *k = gw_kind_name(kind);
    size_t kl = strlen(k);
    return strncmp(name, k, kl) == 0 && name[kl] == '-' && name[kl + 1] != '\0';
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Copy a plugin-owned table whose first member is its struct_size into a
 * zeroed host-side copy, so members a 1.0 plugin never had read as NULL. */
static void copy_sized(void *dst, size_t dst_size, const void *src)
{
    uint32_t n;
    memcpy(&n, src, sizeof(n));
    memset(dst, 0, dst_size);
    memcpy(dst, src, n < dst_size ? n : dst_size);
}

static int check_kind_ops(const char *file, gw_module_t *m, gw_diag_t *d)
{
    const oc_plugin_desc_t *desc = &m->desc;
    const uint32_t *hdr = desc->kind_ops;
    const char *kind = gw_kind_name(desc->kind);
    static const size_t min_size[] = {
        0,
        offsetof(oc_channel_ops_t, probe) + sizeof(void *),
        offsetof(oc_provider_ops_t, models) + sizeof(void *),
        offsetof(oc_storage_ops_t, transcript_clear) + sizeof(void *),
        offsetof(oc_auth_ops_t, has_credentials) + sizeof(void *),
    };
    if (hdr == NULL) {
        gw_diag_add(d, NULL, 0, 0, "plugin %s: no %s operation table (kind_ops is NULL)", file, kind);
        return OC_EABI;
    }
    if (hdr[1] != desc->kind) {
        gw_diag_add(d, NULL, 0, 0,
                    "plugin %s: its operation table is for kind %u, but the descriptor says %s",
                    file, hdr[1], kind);
        return OC_EABI;
    }
    if (hdr[0] < min_size[desc->kind]) {
        gw_diag_add(d, NULL, 0, 0,
                    "plugin %s: %s operation table is %u bytes, smaller than the 1.0 table "
                    "(%zu bytes): corrupt build",
                    file, kind, hdr[0], min_size[desc->kind]);
        return OC_EABI;
    }
    copy_sized(&m->k, sizeof(m->k), hdr);
    const char *missing = NULL;
    switch (desc->kind) {
    case OC_KIND_CHANNEL:
        if (!m->k.channel.channel_name) missing = "channel_name";
        else if (!m->k.channel.send) missing = "send";
        else if (!m->k.channel.status) missing = "status";
        break;
    case OC_KIND_PROVIDER:
        if (!m->k.provider.chat) missing = "chat";
        else if (!m->k.provider.cancel) missing = "cancel";
        break;
    case OC_KIND_STORAGE: {
        const oc_storage_ops_t *s = &m->k.storage;
        if (!s->health) missing = "health";
        else if (!s->session_put) missing = "session_put";
        else if (!s->session_get) missing = "session_get";
        else if (!s->session_list) missing = "session_list";
        else if (!s->session_delete) missing = "session_delete";
        else if (!s->transcript_append) missing = "transcript_append";
        else if (!s->transcript_read) missing = "transcript_read";
        else if (!s->transcript_clear) missing = "transcript_clear";
        break;
    }
    case OC_KIND_AUTH:
        if (!m->k.auth.authenticate) missing = "authenticate";
        else if (!m->k.auth.has_credentials) missing = "has_credentials";
        break;
    }
    if (missing) {
        gw_diag_add(d, NULL, 0, 0, "plugin %s: missing required %s operation '%s'", file, kind,
                    missing);
        return OC_EABI;
    }
    return OC_OK;
}

int gw_module_check(const char *file, const oc_plugin_desc_t *desc, gw_module_t *m, gw_diag_t *d)
{
    if (desc == NULL) {
        gw_diag_add(d, NULL, 0, 0, "plugin %s: %s() returned NULL instead of a descriptor", file,
                    OC_PLUGIN_ENTRY_SYMBOL);
        return OC_EABI;
    }
    /* magic and the version pair sit at fixed offsets in every major, so
     * they are read before anything else is trusted (PostgreSQL's rule). */
    if (desc->magic != OC_PLUGIN_MAGIC) {
        gw_diag_add(d, NULL, 0, 0,
                    "plugin %s: bad magic 0x%08x (expected 0x%08x): not an OpenClaw plugin "
                    "descriptor, or a corrupt build",
                    file, desc->magic, OC_PLUGIN_MAGIC);
        return OC_EABI;
    }
    if (desc->abi_major != OC_ABI_MAJOR) {
        gw_diag_add(d, NULL, 0, 0,
                    "plugin %s: built for ABI %u.%u, this gateway provides %d.%d; rebuild "
                    "against SDK %d.x",
                    file, desc->abi_major, desc->abi_minor, OC_ABI_MAJOR, OC_ABI_MINOR,
                    OC_ABI_MAJOR);
        return OC_EABI;
    }
    if (desc->abi_minor > OC_ABI_MINOR) {
        gw_diag_add(d, NULL, 0, 0,
                    "plugin %s: built for ABI %u.%u, this gateway provides %d.%d; it needs a "
                    "gateway with ABI %u.%u or later, or a rebuild against SDK %d.%d",
                    file, desc->abi_major, desc->abi_minor, OC_ABI_MAJOR, OC_ABI_MINOR,
                    desc->abi_major, desc->abi_minor, OC_ABI_MAJOR, OC_ABI_MINOR);
        return OC_EABI;
    }
    if (desc->struct_size < GW_DESC_V1_0_SIZE) {
        gw_diag_add(d, NULL, 0, 0,
                    "plugin %s: descriptor is %u bytes, smaller than the ABI 1.0 descriptor "
                    "(%zu bytes): corrupt build",
                    file, desc->struct_size, (size_t)GW_DESC_V1_0_SIZE);
        return OC_EABI;
    }
    /* The descriptor keeps struct_size third, after magic and version. */
    memset(&m->desc, 0, sizeof(m->desc));
    memcpy(&m->desc, desc,
           desc->struct_size < sizeof(m->desc) ? desc->struct_size : sizeof(m->desc));
    if (m->desc.kind < OC_KIND_CHANNEL || m->desc.kind > OC_KIND_AUTH) {
        gw_diag_add(d, NULL, 0, 0,
                    "plugin %s: unknown kind %u (expected 1 channel, 2 provider, 3 storage or "
                    "4 auth)",
                    file, m->desc.kind);
        return OC_EABI;
    }
    if (m->desc.name == NULL || !valid_name(m->desc.name, m->desc.kind)) {
        gw_diag_add(d, NULL, 0, 0,
                    "plugin %s: invalid name \"%.64s\": a %s plugin's name is \"%s-<name>\" "
                    "of at most 63 characters from [a-z0-9-]",
                    file, m->desc.name ? m->desc.name : "(null)", gw_kind_name(m->desc.kind),
                    gw_kind_name(m->desc.kind));
        return OC_EABI;
    }
    if (m->desc.version == NULL) {
        gw_diag_add(d, NULL, 0, 0, "plugin %s: descriptor has no version string", file);
        return OC_EABI;
    }
    if (m->desc.ops == NULL) {
        gw_diag_add(d, NULL, 0, 0, "plugin %s: no lifecycle table (ops is NULL)", file);
        return OC_EABI;
    }
    if (m->desc.ops->struct_size < offsetof(oc_plugin_ops_t, destroy) + sizeof(void *)) {
        gw_diag_add(d, NULL, 0, 0,
                    "plugin %s: lifecycle table is %u bytes, smaller than the 1.0 table: "
                    "corrupt build",
                    file, m->desc.ops->struct_size);
        return OC_EABI;
    }
    copy_sized(&m->ops, sizeof(m->ops), m->desc.ops);
    if (m->ops.init == NULL || m->ops.destroy == NULL) {
        gw_diag_add(d, NULL, 0, 0, "plugin %s: missing required lifecycle operation '%s'", file,
                    m->ops.init == NULL ? "init" : "destroy");
        return OC_EABI;
    }
    return check_kind_ops(file, m, d);
}

static char *resolve(const char *spec, const char *const *dirs, size_t ndirs, gw_diag_t *d)
{
    if (strchr(spec, '/') || ends_with(spec, ".so"))
        return strdup(spec);
    gw_buf_t tried = GW_BUF_INIT;
    for (size_t i = 0; i < ndirs; i++) {
        gw_buf_t p = GW_BUF_INIT;
        gw_buf_printf(&p, "%s/%s.so", dirs[i], spec);
        if (access(p.data, F_OK) == 0) {
            gw_buf_free(&tried);
            return gw_buf_steal(&p);
        }
        gw_buf_printf(&tried, "%s%s", tried.len ? ", " : "", p.data);
        gw_buf_free(&p);
    }
    gw_diag_add(d, NULL, 0, 0,
                "plugin %s: not found (looked for %s); install it, or add its folder to "
                "plugins.path",
                spec, tried.len ? tried.data : "no folder in plugins.path");
    gw_buf_free(&tried);
    return NULL;
}

int gw_module_open(const char *spec, const char *const *dirs, size_t ndirs, gw_module_t **out,
                   gw_diag_t *d)
{
    *out = NULL;
    char *path = resolve(spec, dirs, ndirs, d);
    if (path == NULL)
        return OC_ENOENT;
    const char *file = base_name(path);
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        const char *err = dlerror();
        gw_diag_add(d, NULL, 0, 0, "plugin %s: cannot load: %s (check its dependencies with `ldd %s`)",
                    file, err ? err : "unknown dlopen error", path);
        free(path);
        return OC_EABI;
    }
    oc_plugin_entry_fn entry;
    /* dlsym returns void*; POSIX guarantees the conversion to a function pointer. */
    *(void **)&entry = dlsym(h, OC_PLUGIN_ENTRY_SYMBOL);
    if (entry == NULL) {
        gw_diag_add(d, NULL, 0, 0,
                    "plugin %s: not an OpenClaw plugin: it does not export %s (build it with "
                    "OC_PLUGIN_DEFINE from <openclaw/plugin.h>)",
                    file, OC_PLUGIN_ENTRY_SYMBOL);
        dlclose(h);
        free(path);
        return OC_EABI;
    }
    gw_module_t *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        dlclose(h);
        free(path);
        return OC_ENOMEM;
    }
    m->path = path;
    m->file = strdup(file);
    m->handle = h;
    int rc = gw_module_check(m->file, entry(), m, d);
    if (rc != OC_OK) {
        gw_module_close(m);
        return rc;
    }
    /* A plugin listed by name must call itself that name. */
    if (!strchr(spec, '/') && !ends_with(spec, ".so") && strcmp(spec, m->desc.name) != 0) {
        gw_diag_add(d, NULL, 0, 0,
                    "plugin %s: the file calls itself \"%s\" but plugins.load lists \"%s\"",
                    m->file, m->desc.name, spec);
        gw_module_close(m);
        return OC_EABI;
    }
    *out = m;
    return OC_OK;
}

void gw_module_close(gw_module_t *m)
{
    if (m == NULL)
        return;
#ifndef OPENCLAW_SANITIZE
    if (m->handle && !(m->desc.flags & OC_PLUGIN_F_NO_UNLOAD))
        dlclose(m->handle);
#endif
    free(m->path);
    free(m->file);
    free(m);
}
