/* The configuration keys of the LLM API: server.limits.streamKeepAliveMs
 * and server.limits.firstTokenTimeoutMs (defaults, ranges, errors with
 * file:line:col). */
#include <criterion/criterion.h>
#include <string.h>

#include "config/config.h"

static int load(const char *yaml, gw_config_t **c, gw_diag_t *d)
{
    gw_config_opts_t o = {0};
    return gw_config_load_string(&o, "t.yaml", yaml, c, d);
}

Test(llm_config, defaults)
{
    gw_config_t *c = NULL;
    gw_diag_t d = GW_DIAG_INIT;
    cr_assert_eq(load("server: {port: 3000}\n", &c, &d), 0);
    cr_assert_eq(c->stream_keepalive_ms, 15000);
    cr_assert_eq(c->first_token_timeout_ms, 0);
    gw_config_free(c);
    gw_diag_free(&d);
}

Test(llm_config, values)
{
    gw_config_t *c = NULL;
    gw_diag_t d = GW_DIAG_INIT;
    cr_assert_eq(load("server:\n  limits: {streamKeepAliveMs: 0, firstTokenTimeoutMs: 2500}\n",
                      &c, &d), 0);
    cr_assert_eq(c->stream_keepalive_ms, 0, "0 turns keep-alives off");
    cr_assert_eq(c->first_token_timeout_ms, 2500);
    gw_config_free(c);
    gw_diag_free(&d);
}

Test(llm_config, bad_values_are_reported_where_they_are)
{
    gw_config_t *c = NULL;
    gw_diag_t d = GW_DIAG_INIT;
    cr_assert_neq(load("server:\n  limits:\n    streamKeepAliveMs: -1\n"
                       "    firstTokenTimeoutMs: soon\n", &c, &d), 0);
    cr_assert(gw_diag_contains(&d, "t.yaml:3:24: server.limits.streamKeepAliveMs: expected an "
                                   "integer from 0 to 3600000, got -1"),
              "%s", d.count ? d.msgs[0] : "(none)");
    cr_assert(gw_diag_contains(&d, "t.yaml:4:26: server.limits.firstTokenTimeoutMs: expected "
                                   "an integer from 0 to 3600000, got \"soon\""),
              "%s", d.count > 1 ? d.msgs[1] : "(none)");
    gw_diag_free(&d);
}
