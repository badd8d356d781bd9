/* fixture.c - broken and edge-case plugins for the loader's checks. Built
 * once per FX_* define (tests/abi/CMakeLists.txt); each refusal has its own
 * expected message in test_abi.c. */
#include <openclaw/plugin.h>
#include <string.h>

__attribute__((unused)) static int32_t fx_init(const oc_host_api_t *host, oc_plugin_t *self, oc_config_t *cfg,
                       void **state)
{
    (void)host;
    (void)self;
    (void)cfg;
    *state = (void *)1;
    return OC_OK;
}

__attribute__((unused)) static void fx_destroy(void *state)
{
    (void)state;
}

__attribute__((unused)) static int32_t fx_auth(void *state, const oc_auth_request_t *req, oc_auth_result_t *res)
{
    (void)state;
    if (req->api_key && strcmp(req->api_key, "fixture-key") == 0) {
        strcpy(res->principal, "fixture");
        return OC_OK;
    }
    return req->api_key ? OC_EACCES : OC_DECLINED;
}

__attribute__((unused)) static int32_t fx_has(void *state)
{
    (void)state;
    return 1;
}

__attribute__((unused)) static const oc_plugin_ops_t ops = {
    OC_PLUGIN_OPS_INIT,
#ifndef FX_NO_INIT
    .init = fx_init,
#endif
    .destroy = fx_destroy,
};

__attribute__((unused)) static const oc_auth_ops_t auth_ops = {
    OC_AUTH_OPS_INIT,
#ifndef FX_NO_AUTHENTICATE
    .authenticate = fx_auth,
#endif
    .has_credentials = fx_has,
};

#ifndef FX_NAME
#define FX_NAME "auth-fixture"
#endif

#if defined(FX_NO_ENTRY)
/* Exports something, but not the entry symbol. */
__attribute__((visibility("default"))) int fx_not_the_entry(void);
int fx_not_the_entry(void)
{
    return 0;
}
#elif defined(FX_UNDEFINED)
/* Needs a symbol nobody provides: dlopen(RTLD_NOW) fails. */
extern int fx_symbol_nobody_defines(void);
OC_EXPORT const oc_plugin_desc_t *openclaw_plugin_entry(void);
OC_EXPORT const oc_plugin_desc_t *openclaw_plugin_entry(void)
{
    return fx_symbol_nobody_defines() ? NULL : NULL;
}
#elif defined(FX_NULL_DESC)
OC_EXPORT const oc_plugin_desc_t *openclaw_plugin_entry(void);
OC_EXPORT const oc_plugin_desc_t *openclaw_plugin_entry(void)
{
    return NULL;
}
#elif defined(FX_SMALL_DESC)
/* Only the fixed header of a descriptor: magic, version, size. */
static const struct {
    uint32_t magic;
    uint16_t major, minor;
    uint32_t size;
} small = {OC_PLUGIN_MAGIC, OC_ABI_MAJOR, OC_ABI_MINOR, 12};
OC_EXPORT const oc_plugin_desc_t *openclaw_plugin_entry(void);
OC_EXPORT const oc_plugin_desc_t *openclaw_plugin_entry(void)
{
    return (const oc_plugin_desc_t *)(const void *)&small;
}
#else
#ifndef FX_MAGIC
#define FX_MAGIC OC_PLUGIN_MAGIC
#endif
#ifndef FX_MAJOR
#define FX_MAJOR OC_ABI_MAJOR
#endif
#ifndef FX_MINOR
#define FX_MINOR OC_ABI_MINOR
#endif
#ifndef FX_KIND
#define FX_KIND OC_KIND_AUTH
#endif
static const oc_plugin_desc_t desc = {
    .magic = FX_MAGIC,
    .abi_major = FX_MAJOR,
    .abi_minor = FX_MINOR,
    .struct_size = sizeof(oc_plugin_desc_t),
    .kind = FX_KIND,
    .name = FX_NAME,
    .version = "0.0.1",
    .description = "ABI test fixture",
    .ops = &ops,
    .kind_ops = &auth_ops,
};
OC_EXPORT const oc_plugin_desc_t *openclaw_plugin_entry(void);
OC_EXPORT const oc_plugin_desc_t *openclaw_plugin_entry(void)
{
    return &desc;
}
#endif
