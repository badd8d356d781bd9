/* gw_config_load: file location, defaults, --dev, precedence, origins. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(load, .init = cfg_setup, .fini = cfg_teardown);

static char *home_path(const char *rel)
{
    static char p[512];
    snprintf(p, sizeof(p), "%s/%s", cfg_home(), rel);
    return p;
}

Test(load, defaults_when_the_default_file_is_missing)
{
    gw_diag_t d = GW_DIAG_INIT;
    gw_config_t *c = NULL;
    gw_config_opts_t o = {0};
    cr_assert_eq(gw_config_load(&o, &c, &d), 0);
    cr_assert_eq(d.count, 0);
    cr_assert_null(c->path);
    cr_assert_str_eq(c->state_dir, home_path(".openclaw"));
    cr_assert_eq(c->dev, 0);
    cr_assert_str_eq(c->host, "0.0.0.0");
    cr_assert_eq(c->port, 3000);
    cr_assert_eq(c->log_level, OC_LOG_INFO);
    cr_assert_eq(c->log_json, 0);
    cr_assert_eq(c->cors_enabled, 1);
    cr_assert_eq(c->cors_origin_count, 1);
    cr_assert_str_eq(c->cors_origins[0], "*");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cr_assert_eq(c->workers, ncpu < 1 ? 1 : ncpu > 256 ? 256 : ncpu);
    cr_assert_eq(c->max_body_bytes, 20u * 1024 * 1024);
    cr_assert_eq(c->max_header_bytes, 16384);
    cr_assert_eq(c->header_timeout_ms, 10000);
    cr_assert_eq(c->idle_timeout_ms, 60000);
    cr_assert_null(c->tls_cert_path);
    cr_assert_null(c->tls_key_path);
    cr_assert_eq(c->reload_mode, GW_RELOAD_HYBRID);
    cr_assert_eq(c->reload_debounce_ms, 300);
    cr_assert_eq(c->control_ui_enabled, 1);
    cr_assert_str_eq(c->control_ui_base_path, "/openclaw");
    cr_assert_eq(c->plugin_path_count, 0);
    cr_assert_eq(c->plugin_load_count, 0);
    cr_assert_str_eq(c->storage_type, "sqlite");
    cr_assert_eq(c->health_check, 1);
    cr_assert_eq(c->metrics_port, 9090);
    cr_assert_eq(c->provider_count, 0);
    cr_assert_eq(c->agent_count, 1);
    cr_assert_str_eq(c->agents[0].id, "main");
    cr_assert_eq(c->agents[0].is_default, 1);
    cr_assert_eq(c->default_agent, 0);
    cr_assert_null(c->agent_defaults.model.primary);
    cr_assert_eq(c->agent_defaults.history_limit, 50);
    cr_assert_eq(c->agent_defaults.timeout_seconds, 600);
    cr_assert_eq(c->agent_defaults.max_concurrent, 4);
    cr_assert_eq(c->binding_count, 0);
    cr_assert_eq(c->session.dm_scope, GW_DM_SCOPE_MAIN);
    cr_assert_eq(c->session.reset_mode, GW_RESET_NONE);
    cr_assert_eq(c->session.reset_at_hour, 4);
    cr_assert_eq(c->session.reset_idle_minutes, 60);
    cr_assert_eq(c->session.reset_trigger_count, 2);
    cr_assert_str_eq(c->session.reset_triggers[0], "/new");
    cr_assert_str_eq(c->session.reset_triggers[1], "/reset");
    cr_assert_eq(c->queue.mode, GW_QUEUE_COLLECT);
    cr_assert_eq(c->queue.debounce_ms, 1000);
    cr_assert_eq(c->queue.cap, 20);
    cr_assert_eq(c->queue.drop, GW_QUEUE_DROP_OLD);
    cr_assert_null(c->identity.name);
    cr_assert_eq(c->root->type, OC_CFG_MAP);
    gw_config_free(c);
}

Test(load, the_default_file_is_read)
{
    const char *p = cfg_write(".openclaw/gateway.yaml", "server:\n  port: 4000\n");
    gw_diag_t d = GW_DIAG_INIT;
    gw_config_t *c = NULL;
    cr_assert_eq(gw_config_load(NULL, &c, &d), 0);
    cr_assert_eq(c->port, 4000);
    char real[PATH_MAX];
    cr_assert_not_null(realpath(p, real));
    cr_assert_str_eq(c->path, real);
    gw_config_free(c);
}

Test(load, explicit_missing_files_are_errors)
{
    gw_diag_t d = GW_DIAG_INIT;
    gw_config_t *c = (gw_config_t *)1;
    gw_config_opts_t o = {.path = "/nonexistent/gw/gateway.yaml"};
    cr_assert_eq(gw_config_load(&o, &c, &d), -ENOENT);
    cr_assert_null(c);
    cfg_expect(&d, "cannot read /nonexistent/gw/gateway.yaml: No such file or directory");
    cfg_expect_count(&d, 1);
    gw_diag_free(&d);

    setenv("OPENCLAW_CONFIG_PATH", "/nonexistent/gw/env.yaml", 1);
    cr_assert_eq(gw_config_load(NULL, &c, &d), -ENOENT);
    cfg_expect(&d, "cannot read /nonexistent/gw/env.yaml: No such file or directory");
    gw_diag_free(&d);
}

Test(load, config_path_precedence)
{
    const char *a = strdup(cfg_write("a.yaml", "server: {port: 4001}\n"));
    const char *b = strdup(cfg_write("b.yaml", "server: {port: 4002}\n"));
    cfg_write(".openclaw/gateway.yaml", "server: {port: 4003}\n");
    gw_config_opts_t o = {0};
    gw_config_t *c = NULL;
    gw_diag_t d = GW_DIAG_INIT;
    cr_assert_eq(gw_config_load(&o, &c, &d), 0);
    cr_assert_eq(c->port, 4003);
    gw_config_free(c);
    setenv("OPENCLAW_CONFIG_PATH", b, 1);
    cr_assert_eq(gw_config_load(&o, &c, &d), 0);
    cr_assert_eq(c->port, 4002);
    gw_config_free(c);
    o.path = a;
    cr_assert_eq(gw_config_load(&o, &c, &d), 0);
    cr_assert_eq(c->port, 4001);
    gw_config_free(c);

    int ex = -1;
    char *p = gw_config_path(NULL, &ex);
    cr_assert_eq(ex, 1);
    cr_assert_str_eq(p, b);
    free(p);
    free((void *)a);
    free((void *)b);
    unsetenv("OPENCLAW_CONFIG_PATH");
    p = gw_config_path(NULL, &ex);
    cr_assert_eq(ex, 0);
    cr_assert_str_eq(p, home_path(".openclaw/gateway.yaml"));
    free(p);
    gw_config_opts_t dev = {.dev = 1};
    p = gw_config_path(&dev, &ex);
    cr_assert_str_eq(p, home_path(".openclaw-dev/gateway.yaml"));
    free(p);
    gw_config_opts_t tilde = {.path = "~/x.yaml"};
    p = gw_config_path(&tilde, &ex);
    cr_assert_eq(ex, 1);
    cr_assert_str_eq(p, home_path("x.yaml"));
    free(p);
}

Test(load, relative_paths_resolve_against_the_config_file)
{
    cfg_write("conf/tls/cert.pem", "cert");
    cfg_write("conf/tls/key.pem", "key");
    const char *p = cfg_write("conf/gateway.yaml", "server:\n"
                                                   "  tls: {certPath: tls/cert.pem, keyPath: "
                                                   "~/conf/tls/key.pem}\n"
                                                   "plugins:\n"
                                                   "  path: [plugins, /abs/dir]\n"
                                                   "  load: [provider-mock, ./my/x.so]\n");
    gw_config_opts_t o = {.path = p};
    gw_config_t *c = NULL;
    gw_diag_t d = GW_DIAG_INIT;
    cr_assert_eq(gw_config_load(&o, &c, &d), 0);
    char dir[PATH_MAX];
    cr_assert_not_null(realpath(home_path("conf"), dir));
    char want[PATH_MAX + 64];
    snprintf(want, sizeof(want), "%s/tls/cert.pem", dir);
    cr_assert_str_eq(c->tls_cert_path, want);
    cr_assert_str_eq(c->tls_key_path, home_path("conf/tls/key.pem"));
    snprintf(want, sizeof(want), "%s/plugins", dir);
    cr_assert_str_eq(c->plugin_paths[0], want);
    cr_assert_str_eq(c->plugin_paths[1], "/abs/dir");
    cr_assert_str_eq(c->plugin_load[0], "provider-mock");
    snprintf(want, sizeof(want), "%s/./my/x.so", dir);
    cr_assert_str_eq(c->plugin_load[1], want);
    gw_config_free(c);
}

Test(load, state_dir)
{
    char *s = gw_config_state_dir(0);
    cr_assert_str_eq(s, home_path(".openclaw"));
    free(s);
    s = gw_config_state_dir(1);
    cr_assert_str_eq(s, home_path(".openclaw-dev"));
    free(s);
    setenv("OPENCLAW_STATE_DIR", "/var/lib/oc", 1);
    s = gw_config_state_dir(1); /* explicit beats the dev profile */
    cr_assert_str_eq(s, "/var/lib/oc");
    free(s);
    setenv("OPENCLAW_STATE_DIR", "rel/state", 1);
    s = gw_config_state_dir(0);
    char cwd[PATH_MAX], want[PATH_MAX + 32];
    cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
    snprintf(want, sizeof(want), "%s/rel/state", cwd);
    cr_assert_str_eq(s, want);
    free(s);
    setenv("OPENCLAW_STATE_DIR", "~/st", 1);
    s = gw_config_state_dir(0);
    cr_assert_str_eq(s, home_path("st"));
    free(s);

    gw_config_t *c = cfg_load_ok(NULL, "");
    cr_assert_str_eq(c->state_dir, home_path("st"));
    gw_config_free(c);
}

Test(load, expand_home)
{
    char *s = gw_config_expand_home("~");
    cr_assert_str_eq(s, cfg_home());
    free(s);
    s = gw_config_expand_home("~/a/b");
    cr_assert_str_eq(s, home_path("a/b"));
    free(s);
    s = gw_config_expand_home("~user/x"); /* not ours to guess */
    cr_assert_str_eq(s, "~user/x");
    free(s);
    s = gw_config_expand_home("/abs");
    cr_assert_str_eq(s, "/abs");
    free(s);
    setenv("HOME", "/", 1);
    s = gw_config_expand_home("~/x");
    cr_assert_str_eq(s, "/x");
    free(s);
}

Test(load, dev_defaults)
{
    gw_config_opts_t o = {.dev = 1};
    gw_config_t *c = cfg_load_ok(&o, "");
    cr_assert_eq(c->dev, 1);
    cr_assert_eq(c->port, 19001);
    cr_assert_str_eq(c->host, "127.0.0.1");
    cr_assert_str_eq(c->state_dir, home_path(".openclaw-dev"));
    gw_config_free(c);

    /* explicit values still win over the dev defaults */
    c = cfg_load_ok(&o, "server: {port: 4000, host: lan}\n");
    cr_assert_eq(c->port, 4000);
    cr_assert_str_eq(c->host, "0.0.0.0");
    gw_config_free(c);
    setenv("OPENCLAW_PORT", "4500", 1);
    c = cfg_load_ok(&o, "");
    cr_assert_eq(c->port, 4500);
    cr_assert_str_eq(c->host, "127.0.0.1");
    gw_config_free(c);
}

Test(load, dev_reads_the_dev_profile_file)
{
    cfg_write(".openclaw/gateway.yaml", "server: {port: 4000}\n");
    cfg_write(".openclaw-dev/gateway.yaml", "server: {logLevel: debug}\n");
    gw_config_opts_t o = {.dev = 1};
    gw_config_t *c = NULL;
    gw_diag_t d = GW_DIAG_INIT;
    cr_assert_eq(gw_config_load(&o, &c, &d), 0);
    cr_assert_eq(c->port, 19001);
    cr_assert_eq(c->log_level, OC_LOG_DEBUG);
    gw_config_free(c);
}

static const char *file = "server:\n  port: 4000\n  host: lan\n  logLevel: warn\n";

Test(load, precedence_port)
{
    gw_config_t *c = cfg_load_ok(NULL, "");
    cr_assert_eq(c->port, 3000); /* default */
    gw_config_free(c);
    c = cfg_load_ok(NULL, file);
    cr_assert_eq(c->port, 4000); /* file */
    gw_config_free(c);
    setenv("OPENCLAW_GATEWAY_PORT", "4100", 1);
    c = cfg_load_ok(NULL, file);
    cr_assert_eq(c->port, 4100); /* env beats file */
    gw_config_free(c);
    setenv("OPENCLAW_PORT", "4200", 1);
    c = cfg_load_ok(NULL, file);
    cr_assert_eq(c->port, 4200); /* OPENCLAW_PORT beats OPENCLAW_GATEWAY_PORT */
    cr_assert_str_eq(gw_cfg_find(c->root, "server.port")->origin, "env OPENCLAW_PORT");
    gw_config_free(c);
    gw_config_opts_t o = {.port = 4300};
    c = cfg_load_ok(&o, file);
    cr_assert_eq(c->port, 4300); /* flag beats env */
    cr_assert_str_eq(gw_cfg_find(c->root, "server.port")->origin, "flag --port");
    gw_config_free(c);
    setenv("OPENCLAW_PORT", "", 1); /* empty = unset */
    c = cfg_load_ok(NULL, file);
    cr_assert_eq(c->port, 4100);
    gw_config_free(c);
}

Test(load, precedence_host)
{
    gw_config_t *c = cfg_load_ok(NULL, "");
    cr_assert_str_eq(c->host, "0.0.0.0");
    gw_config_free(c);
    c = cfg_load_ok(NULL, "server: {host: loopback}\n");
    cr_assert_str_eq(c->host, "127.0.0.1");
    gw_config_free(c);
    setenv("OPENCLAW_HOST", "10.1.2.3", 1);
    c = cfg_load_ok(NULL, "server: {host: loopback}\n");
    cr_assert_str_eq(c->host, "10.1.2.3");
    gw_config_free(c);
    gw_config_opts_t o = {.host = "::1"};
    c = cfg_load_ok(&o, "server: {host: loopback}\n");
    cr_assert_str_eq(c->host, "::1");
    gw_config_free(c);
}

Test(load, precedence_log_level)
{
    gw_config_t *c = cfg_load_ok(NULL, "");
    cr_assert_eq(c->log_level, OC_LOG_INFO);
    gw_config_free(c);
    c = cfg_load_ok(NULL, file);
    cr_assert_eq(c->log_level, OC_LOG_WARN);
    gw_config_free(c);
    setenv("OPENCLAW_LOG_LEVEL", "error", 1);
    c = cfg_load_ok(NULL, file);
    cr_assert_eq(c->log_level, OC_LOG_ERROR);
    gw_config_free(c);
    gw_config_opts_t o = {.log_level = "debug"};
    c = cfg_load_ok(&o, file);
    cr_assert_eq(c->log_level, OC_LOG_DEBUG);
    gw_config_free(c);
}

Test(load, other_env_overrides)
{
    setenv("OPENCLAW_STORAGE_TYPE", "postgres", 1);
    setenv("OPENCLAW_API_KEY", "sk-env", 1);
    setenv("OPENCLAW_BEARER_TOKEN", "tok-env", 1);
    gw_config_t *c = cfg_load_ok(NULL, "storage: {type: redis, url: \"redis://x\"}\n"
                                       "auth: {apiKey: from-file}\n");
    cr_assert_str_eq(c->storage_type, "postgres");
    gw_cfg_node_t *k = gw_cfg_find(c->root, "auth.apiKey");
    cr_assert_str_eq(k->scalar, "sk-env");
    cr_assert_str_eq(k->origin, "env OPENCLAW_API_KEY");
    cr_assert_eq(k->secret, 1);
    cr_assert_eq(k->used, 0); /* the auth plugin reads it, not the core */
    cr_assert_str_eq(gw_cfg_find(c->root, "auth.bearerToken")->scalar, "tok-env");
    gw_config_free(c);
}

Test(load, override_errors_name_their_origin)
{
    gw_diag_t d = GW_DIAG_INIT;
    setenv("OPENCLAW_PORT", "abc", 1);
    cfg_load_fail(NULL, file, &d);
    cfg_expect(&d, "env OPENCLAW_PORT: server.port: expected an integer from 1 to 65535, got "
                   "\"abc\" (write a whole number in digits, without units or a decimal point)");
    cfg_expect_count(&d, 1);
    gw_diag_free(&d);
    unsetenv("OPENCLAW_PORT");

    gw_config_opts_t o = {.port = 70000, .host = "not a host", .log_level = "loud"};
    cfg_load_fail(&o, file, &d);
    cfg_expect(&d, "flag --port: server.port: expected an integer from 1 to 65535, got 70000 "
                   "(out of range)");
    cfg_expect(&d, "flag --host: server.host: expected an IP address, a host name, "
                   "\"loopback\" or \"lan\", got \"not a host\" (for example 127.0.0.1, ::1 or "
                   "gateway.internal)");
    cfg_expect(&d, "command line: server.logLevel: expected one of debug, info, warn, error, "
                   "got \"loud\" (use one of those values)");
    cfg_expect_count(&d, 3);
    gw_diag_free(&d);

    setenv("OPENCLAW_STORAGE_TYPE", "mysql", 1);
    cfg_load_fail(NULL, "", &d);
    cfg_expect(&d, "env OPENCLAW_STORAGE_TYPE: storage.type: expected one of sqlite, postgres, "
                   "redis, got \"mysql\" (use one of those values)");
    gw_diag_free(&d);
}

Test(load, override_into_a_non_map_section)
{
    gw_diag_t d = GW_DIAG_INIT;
    gw_config_opts_t o = {.port = 4000};
    cfg_load_fail(&o, "server: 5\n", &d);
    cfg_expect(&d, "t.yaml:1:9: server: expected a map, got \"5\" (write the keys indented "
                   "under 'server:', or {key: value})");
    gw_diag_free(&d);
}

Test(load, host_resolution)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"loopback", "127.0.0.1"}, {"lan", "0.0.0.0"},      {"192.168.1.5", "192.168.1.5"},
        {"::", "::"},              {"[::1]", "::1"},        {"fe80::1", "fe80::1"},
        {"localhost", "localhost"}, {"gw-1.internal", "gw-1.internal"},
    };
    char yaml[128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(yaml, sizeof(yaml), "server: {host: \"%s\"}\n", cases[i].in);
        gw_config_t *c = cfg_load_ok(NULL, yaml);
        cr_assert_str_eq(c->host, cases[i].out, "%s", cases[i].in);
        gw_config_free(c);
    }
    const char *bad[] = {"300.1.1.1", "-x.com", "a..b", "host name", "", "x_y"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gw_diag_t d = GW_DIAG_INIT;
        snprintf(yaml, sizeof(yaml), "server: {host: \"%s\"}\n", bad[i]);
        cfg_load_fail(NULL, yaml, &d);
        cr_assert_eq(d.count, 1, "%s", bad[i]);
        cr_assert(strstr(d.msgs[0], "t.yaml:1:16: server.host: expected an IP address"), "%s",
                  d.msgs[0]);
        gw_diag_free(&d);
    }
}

Test(load, parse_errors_stop_the_load)
{
    gw_diag_t d = GW_DIAG_INIT;
    cfg_load_fail(NULL, "server:\n  port: 1\n  port: 2\n", &d);
    cfg_expect(&d, "t.yaml:3:3: duplicate key 'port' in server (first defined at line 2; keep "
                   "one)");
    cfg_expect_count(&d, 1);
    gw_diag_free(&d);

    const char *p = cfg_write("bad.yaml", "server: [\n");
    gw_config_opts_t o = {.path = p};
    gw_config_t *c = NULL;
    cr_assert_eq(gw_config_load(&o, &c, &d), -EINVAL);
    cr_assert_eq(d.count, 1);
    cr_assert(strncmp(d.msgs[0], p, strlen(p)) == 0, "%s", d.msgs[0]);
    gw_diag_free(&d);
}

Test(load, a_null_diag_is_allowed)
{
    gw_config_t *c = NULL;
    cr_assert_eq(gw_config_load_string(NULL, "t.yaml", "server: {port: x}\n", &c, NULL),
                 -EINVAL);
    cr_assert_null(c);
    cr_assert_eq(gw_config_load_string(NULL, "t.yaml", NULL, &c, NULL), 0);
    gw_config_free(c);
}

/* An unset ${VAR} does not hide the other problems of the file. */
Test(load, every_problem_in_one_run)
{
    unsetenv("GW_T_NOT_SET_ANYWHERE");
    gw_config_opts_t o = {0};
    gw_config_t *c = NULL;
    gw_diag_t d = GW_DIAG_INIT;
    int rc = gw_config_load_string(&o, "t.yaml",
                                   "server:\n"
                                   "  prot: 3000\n"
                                   "  port: abc\n"
                                   "auth:\n"
                                   "  apiKey: ${GW_T_NOT_SET_ANYWHERE}\n",
                                   &c, &d);
    cr_assert_eq(rc, -EINVAL);
    cr_assert_null(c);
    cr_expect(gw_diag_contains(&d, "t.yaml:5:11: auth.apiKey: environment variable "
                                   "GW_T_NOT_SET_ANYWHERE is not set"));
    cr_expect(gw_diag_contains(&d, "t.yaml:2:3: unknown key 'prot' in server (did you mean "
                                   "'port'?)"));
    cr_expect(gw_diag_contains(&d, "t.yaml:3:9: server.port: expected an integer"));
    gw_diag_free(&d);
}
