#define _GNU_SOURCE
/* test_abi.c - the loader's refusals, each with its exact message, and the
 * compatibility promise (a plugin built against frozen 1.0 headers loads). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openclaw/testing.h>

#include "plugin/module.h"
#include "plugin/plugins.h"

static char *fixture(const char *name)
{
    const char *dir = getenv("OPENCLAW_TEST_FIXTURE_DIR");
    cr_assert(dir, "OPENCLAW_TEST_FIXTURE_DIR is not set");
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

/* Opens fixture `name` and expects refusal `rc` with exactly `msg`. */
static void expect_refusal(const char *name, int rc, const char *msg)
{
    char *path = fixture(name);
    gw_diag_t d = GW_DIAG_INIT;
    gw_module_t *m = NULL;
    int got = gw_module_open(path, NULL, 0, &m, &d);
    cr_expect_eq(got, rc, "%s: rc %d, expected %d", name, got, rc);
    cr_expect_null(m);
    cr_assert_eq(d.count, 1, "%s: %zu messages", name, d.count);
    cr_expect_str_eq(d.msgs[0], msg);
    gw_diag_free(&d);
    free(path);
}

Test(abi, good_fixture_loads)
{
    char *path = fixture("fx-good.so");
    gw_diag_t d = GW_DIAG_INIT;
    gw_module_t *m = NULL;
    cr_assert_eq(gw_module_open(path, NULL, 0, &m, &d), OC_OK, "%s", d.count ? d.msgs[0] : "");
    cr_expect_str_eq(m->desc.name, "auth-fixture");
    cr_expect_eq(m->desc.kind, OC_KIND_AUTH);
    cr_expect_not_null(m->k.auth.authenticate);
    gw_module_close(m);
    gw_diag_free(&d);
    free(path);
}

Test(abi, dlopen_failure_names_file_and_dlerror)
{
    char *path = fixture("fx-undefined.so");
    gw_diag_t d = GW_DIAG_INIT;
    gw_module_t *m = NULL;
    cr_expect_eq(gw_module_open(path, NULL, 0, &m, &d), OC_EABI);
    cr_assert_eq(d.count, 1);
    cr_expect(strstr(d.msgs[0], "plugin fx-undefined.so: cannot load: ") == d.msgs[0], "%s",
              d.msgs[0]);
    cr_expect(strstr(d.msgs[0], "undefined symbol: fx_symbol_nobody_defines"), "%s", d.msgs[0]);
    cr_expect(strstr(d.msgs[0], "(check its dependencies with `ldd "), "%s", d.msgs[0]);
    gw_diag_free(&d);
    free(path);
}

Test(abi, not_an_elf_file)
{
    char tmpl[] = "/tmp/oc-abi-XXXXXX";
    cr_assert(mkdtemp(tmpl));
    char path[256];
    snprintf(path, sizeof(path), "%s/garbage.so", tmpl);
    FILE *f = fopen(path, "w");
    fputs("this is not a shared object\n", f);
    fclose(f);
    gw_diag_t d = GW_DIAG_INIT;
    gw_module_t *m = NULL;
    cr_expect_eq(gw_module_open(path, NULL, 0, &m, &d), OC_EABI);
    cr_assert_eq(d.count, 1);
    cr_expect(strstr(d.msgs[0], "plugin garbage.so: cannot load: "), "%s", d.msgs[0]);
    gw_diag_free(&d);
    unlink(path);
    rmdir(tmpl);
}

Test(abi, missing_entry_symbol)
{
    expect_refusal("fx-no-entry.so", OC_EABI,
                   "plugin fx-no-entry.so: not an OpenClaw plugin: it does not export "
                   "openclaw_plugin_entry (build it with OC_PLUGIN_DEFINE from "
                   "<openclaw/plugin.h>)");
}

Test(abi, null_descriptor)
{
    expect_refusal("fx-null-desc.so", OC_EABI,
                   "plugin fx-null-desc.so: openclaw_plugin_entry() returned NULL instead of a "
                   "descriptor");
}

Test(abi, bad_magic)
{
    expect_refusal("fx-bad-magic.so", OC_EABI,
                   "plugin fx-bad-magic.so: bad magic 0xdeadbeef (expected 0x4c50434f): not an "
                   "OpenClaw plugin descriptor, or a corrupt build");
}

Test(abi, major_mismatch)
{
    char msg[256];
    snprintf(msg, sizeof(msg),
             "plugin fx-major2.so: built for ABI 2.0, this gateway provides %d.%d; rebuild "
             "against SDK %d.x",
             OC_ABI_MAJOR, OC_ABI_MINOR, OC_ABI_MAJOR);
    expect_refusal("fx-major2.so", OC_EABI, msg);
}

Test(abi, minor_too_new)
{
    char msg[320];
    snprintf(msg, sizeof(msg),
             "plugin fx-minor-new.so: built for ABI %d.%d, this gateway provides %d.%d; it "
             "needs a gateway with ABI %d.%d or later, or a rebuild against SDK %d.%d",
             OC_ABI_MAJOR, OC_ABI_MINOR + 1, OC_ABI_MAJOR, OC_ABI_MINOR, OC_ABI_MAJOR,
             OC_ABI_MINOR + 1, OC_ABI_MAJOR, OC_ABI_MINOR);
    expect_refusal("fx-minor-new.so", OC_EABI, msg);
}

Test(abi, descriptor_too_small)
{
    char msg[256];
    snprintf(msg, sizeof(msg),
             "plugin fx-small-desc.so: descriptor is 12 bytes, smaller than the ABI 1.0 "
             "descriptor (%zu bytes): corrupt build",
             (size_t)GW_DESC_V1_0_SIZE);
    expect_refusal("fx-small-desc.so", OC_EABI, msg);
}

Test(abi, bad_kind)
{
    expect_refusal("fx-bad-kind.so", OC_EABI,
                   "plugin fx-bad-kind.so: unknown kind 9 (expected 1 channel, 2 provider, 3 "
                   "storage or 4 auth)");
}

Test(abi, bad_name)
{
    expect_refusal("fx-bad-name.so", OC_EABI,
                   "plugin fx-bad-name.so: invalid name \"Auth_Fixture\": a auth plugin's name "
                   "is \"auth-<name>\" of at most 63 characters from [a-z0-9-]");
}

Test(abi, name_does_not_match_kind)
{
    expect_refusal("fx-kind-mismatch.so", OC_EABI,
                   "plugin fx-kind-mismatch.so: invalid name \"channel-fixture\": a auth "
                   "plugin's name is \"auth-<name>\" of at most 63 characters from [a-z0-9-]");
}

Test(abi, missing_lifecycle_op)
{
    expect_refusal("fx-no-init.so", OC_EABI,
                   "plugin fx-no-init.so: missing required lifecycle operation 'init'");
}

Test(abi, missing_kind_op)
{
    expect_refusal("fx-no-authenticate.so", OC_EABI,
                   "plugin fx-no-authenticate.so: missing required auth operation "
                   "'authenticate'");
}

Test(abi, duplicate_name)
{
    const char *dir = getenv("OPENCLAW_TEST_FIXTURE_DIR");
    char yaml[1024];
    snprintf(yaml, sizeof(yaml),
             "plugins:\n  load:\n    - %s/fx-dup-a.so\n    - %s/fx-dup-b.so\n", dir, dir);
    gw_config_opts_t o = {0};
    gw_config_t *c = NULL;
    gw_diag_t d = GW_DIAG_INIT;
    cr_assert_eq(gw_config_load_string(&o, "dup.yaml", yaml, &c, &d), 0, "%s",
                 d.count ? d.msgs[0] : "");
    gw_plugins_t ps;
    gw_plugins_init(&ps, NULL, NULL);
    cr_expect_eq(gw_plugins_open(&ps, c, &d), OC_EEXIST);
    cr_assert_eq(d.count, 1);
    char msg[512];
    snprintf(msg, sizeof(msg),
             "dup.yaml:4:7: plugin fx-dup-b.so: name \"auth-dup\" is already taken by "
             "%s/fx-dup-a.so; list "
             "each plugin once in plugins.load",
             dir);
    cr_expect_str_eq(d.msgs[0], msg);
    gw_plugins_free(&ps);
    gw_config_free(c);
    gw_diag_free(&d);
}

Test(abi, not_found_by_name_says_where)
{
    const char *dirs[] = {"/nonexistent/a", "/nonexistent/b"};
    gw_diag_t d = GW_DIAG_INIT;
    gw_module_t *m = NULL;
    cr_expect_eq(gw_module_open("provider-nope", dirs, 2, &m, &d), OC_ENOENT);
    cr_assert_eq(d.count, 1);
    cr_expect_str_eq(d.msgs[0], "plugin provider-nope: not found (looked for "
                                "/nonexistent/a/provider-nope.so, /nonexistent/b/provider-nope.so"
                                "); install it, or add its folder to plugins.path");
    gw_diag_free(&d);
}

Test(abi, listed_name_must_match_file)
{
    const char *dir = getenv("OPENCLAW_TEST_FIXTURE_DIR");
    char tmpl[] = "/tmp/oc-abi-XXXXXX";
    cr_assert(mkdtemp(tmpl));
    char cmd[1024], path[512];
    snprintf(path, sizeof(path), "%s/auth-other.so", tmpl);
    snprintf(cmd, sizeof(cmd), "cp %s/fx-good.so %s", dir, path);
    cr_assert_eq(system(cmd), 0);
    const char *dirs[] = {tmpl};
    gw_diag_t d = GW_DIAG_INIT;
    gw_module_t *m = NULL;
    cr_expect_eq(gw_module_open("auth-other", dirs, 1, &m, &d), OC_EABI);
    cr_assert_eq(d.count, 1);
    cr_expect_str_eq(d.msgs[0], "plugin auth-other.so: the file calls itself \"auth-fixture\" "
                                "but plugins.load lists \"auth-other\"");
    gw_diag_free(&d);
    unlink(path);
    rmdir(tmpl);
}

/* The compatibility promise: built against the frozen 1.0 headers, loaded
 * by today's gateway, initialised with its config, and working. */
Test(abi, frozen_1_0_plugin_loads_and_works)
{
    oc_test_host_t *th = oc_test_host_new("auth:\n  frozenToken: frozen-abc-123\n");
    cr_assert_not_null(th, "%s", oc_test_host_last_error());
    char *path = fixture("auth-frozen.so");
    cr_assert_eq(oc_test_host_load(th, path), OC_OK, "%s", oc_test_host_errors(th));
    const oc_auth_ops_t *ops = oc_test_host_kind_ops(th, "auth-frozen");
    void *st = oc_test_host_state(th, "auth-frozen");
    cr_assert_not_null(ops);
    oc_auth_request_t req = {.struct_size = sizeof(req), .api_key = "frozen-abc-123"};
    oc_auth_result_t res = {.struct_size = sizeof(res)};
    cr_expect_eq(ops->authenticate(st, &req, &res), OC_OK);
    cr_expect_str_eq(res.principal, "frozen");
    req.api_key = "wrong";
    cr_expect_eq(ops->authenticate(st, &req, &res), OC_EACCES);
    free(path);
    oc_test_host_free(th);
}

/* Unknown keys in a plugin's section are reported with their position. */
Test(abi, plugin_section_unknown_key)
{
    oc_test_host_t *th = oc_test_host_new("auth:\n  frozenToken: x\n  frozenTokn: y\n");
    cr_assert_not_null(th);
    char *path = fixture("auth-frozen.so");
    cr_expect_eq(oc_test_host_load(th, path), OC_ECONFIG);
    cr_expect(strstr(oc_test_host_errors(th), "test.yaml:3:3: unknown key 'frozenTokn' in auth"),
              "%s", oc_test_host_errors(th));
    free(path);
    oc_test_host_free(th);
}
