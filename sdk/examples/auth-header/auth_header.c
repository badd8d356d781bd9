/* auth-header: an example third-party plugin, built out of tree against the
 * installed SDK only. It admits HTTP callers that present a shared token in
 * X-API-Key, configured as auth.headerToken, and shows the ABI's moving
 * parts: the descriptor, config with file:line errors, a metric, and a
 * thread-safe authenticate. */
#include <openclaw/plugin.h>
#include <stdatomic.h>
#include <string.h>

typedef struct example_s {
    const oc_host_api_t *host;
    oc_plugin_t *self;
    char token[128];
    oc_metric_t *decisions; /* openclaw_header_auth_decisions_total{result} */
} example_t;

static int32_t example_init(const oc_host_api_t *host, oc_plugin_t *self, oc_config_t *cfg,
                            void **state)
{
    const char *token = NULL;
    int32_t rc = host->cfg_str(self, cfg, "headerToken", NULL, &token);
    if (rc == OC_ECONFIG)
        return rc; /* the host already reported where and why */
    if (token && strlen(token) >= sizeof(((example_t *)0)->token)) {
        host->cfg_error(self, host->cfg_child(self, cfg, "headerToken"),
                        "too long (at most 127 characters)");
        return OC_ECONFIG;
    }
    example_t *ex = host->calloc(1, sizeof(*ex));
    if (ex == NULL)
        return OC_ENOMEM;
    ex->host = host;
    ex->self = self;
    if (token)
        strcpy(ex->token, token);
    static const char *const labels[] = {"result", NULL};
    ex->decisions = host->metric_new(self, OC_METRIC_COUNTER, "header_auth_decisions_total",
                                     "Decisions of the auth-header example plugin", labels, NULL, 0);
    *state = ex;
    return OC_OK;
}

static void example_destroy(void *state)
{
    example_t *ex = state;
    ex->host->free(ex);
}

/* Thread-safe: reads immutable state only; metric updates are thread-safe. */
static int32_t example_authenticate(void *state, const oc_auth_request_t *req,
                                    oc_auth_result_t *res)
{
    example_t *ex = state;
    if (ex->token[0] == '\0' || req->api_key == NULL)
        return OC_DECLINED;
    /* Constant time over the configured token's length. */
    size_t n = strlen(ex->token), m = strlen(req->api_key);
    unsigned diff = (unsigned)(n ^ m);
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)ex->token[i] ^ (unsigned char)(i < m ? req->api_key[i] : 0);
    const char *result = diff == 0 ? "allowed" : "denied";
    const char *const lv[] = {result};
    ex->host->metric_add(ex->decisions, lv, 1);
    if (diff != 0) {
        strcpy(res->reason, "header token mismatch");
        return OC_EACCES;
    }
    strcpy(res->principal, "headerToken");
    return OC_OK;
}

static int32_t example_has_credentials(void *state)
{
    return ((example_t *)state)->token[0] != '\0';
}

static const oc_plugin_ops_t ops = {
    OC_PLUGIN_OPS_INIT,
    .init = example_init,
    .destroy = example_destroy,
};

static const oc_auth_ops_t auth_ops = {
    OC_AUTH_OPS_INIT,
    .authenticate = example_authenticate,
    .has_credentials = example_has_credentials,
};

OC_PLUGIN_DEFINE_FLAGS(OC_KIND_AUTH, "auth-header", "1.0.0",
                       "example: admits callers with X-API-Key = auth.headerToken", 0u, &ops,
                       &auth_ops)
