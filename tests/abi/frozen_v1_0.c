/* frozen_v1_0.c - an auth plugin built only against the SDK 1.0 headers
 * frozen in tests/abi/sdk-1.0/. It must load and work in every 1.x gateway;
 * never edit those headers. */
#include <openclaw/plugin.h>
#include <string.h>

typedef struct state_s {
    const oc_host_api_t *host;
    oc_plugin_t *self;
    const char *token;
} state_t;

static state_t the_state;

static int32_t frozen_init(const oc_host_api_t *host, oc_plugin_t *self, oc_config_t *cfg,
                           void **state)
{
    the_state.host = host;
    the_state.self = self;
    host->cfg_str(self, cfg, "frozenToken", "frozen-secret", &the_state.token);
    *state = &the_state;
    return OC_OK;
}

static void frozen_destroy(void *state)
{
    (void)state;
}

static int32_t frozen_auth(void *state, const oc_auth_request_t *req, oc_auth_result_t *res)
{
    state_t *st = state;
    if (req->api_key == NULL)
        return OC_DECLINED;
    if (strcmp(req->api_key, st->token) != 0)
        return OC_EACCES;
    strcpy(res->principal, "frozen");
    return OC_OK;
}

static int32_t frozen_has(void *state)
{
    (void)state;
    return 1;
}

static const oc_plugin_ops_t ops = {OC_PLUGIN_OPS_INIT, .init = frozen_init,
                                    .destroy = frozen_destroy};
static const oc_auth_ops_t auth = {OC_AUTH_OPS_INIT, .authenticate = frozen_auth,
                                   .has_credentials = frozen_has};
OC_PLUGIN_DEFINE(OC_KIND_AUTH, "auth-frozen", "1.0.0", "built against SDK 1.0", &ops, &auth)
