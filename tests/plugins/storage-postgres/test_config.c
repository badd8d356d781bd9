/* storage-postgres: the storage section and storage.url. Every bad value is
 * refused at init (OC_ECONFIG: `openclaw gateway validate` exits 78) with a
 * message naming what is wrong, at the key's file:line:column, and no
 * message ever shows the password. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtest.h"

#define SECRET "s3cret-Pa55"

/* Load with `yaml`, expecting init to refuse it with `needle` in the report. */
static void expect_config_error(const char *yaml, const char *needle)
{
    oc_test_host_t *th = oc_test_host_new(yaml);
    cr_assert_not_null(th, "%s", oc_test_host_last_error());
    int32_t rc = oc_test_host_load(th, pgt_so());
    const char *errs = oc_test_host_errors(th);
    cr_assert_eq(rc, OC_ECONFIG, "config accepted (%d):\n%s\nerrors: %s", rc, yaml, errs);
    cr_assert(strstr(errs, needle) != NULL, "errors do not mention \"%s\":\n%s", needle, errs);
    cr_assert(strstr(errs, SECRET) == NULL, "the password leaked:\n%s", errs);
    oc_test_host_free(th);
}

static void expect_bad_url(const char *url, const char *needle)
{
    char *yaml = NULL;
    cr_assert(asprintf(&yaml, "storage:\n  type: postgres\n  url: '%s'\n", url) > 0);
    expect_config_error(yaml, needle);
    /* The report points at the url key (line 3). */
    oc_test_host_t *th = oc_test_host_new(yaml);
    cr_assert_eq(oc_test_host_load(th, pgt_so()), OC_ECONFIG);
    cr_assert(strstr(oc_test_host_errors(th), "test.yaml:3:") != NULL,
              "no file:line:column in: %s", oc_test_host_errors(th));
    oc_test_host_free(th);
    free(yaml);
}

Test(storage_postgres_config, bad_urls_are_refused_with_the_reason)
{
    expect_bad_url("mysql://u:" SECRET "@db.example:3306/app",
                   "unsupported scheme \"mysql\": use postgresql:// or postgres://");
    expect_bad_url("POSTGRESQL://u:" SECRET "@db.example/app", "(lower case)");
    expect_bad_url("host=db.example dbname=app password=" SECRET,
                   "libpq key=value strings are not accepted");
    expect_bad_url("db.example/app", "not a URL");
    expect_bad_url("postgresql://u:" SECRET "@db.example:99999/app", "bad port \"99999\"");
    expect_bad_url("postgresql://u:" SECRET "@db.example:0/app", "bad port \"0\"");
    expect_bad_url("postgresql://u:" SECRET "@db.example:54x2/app", "bad port \"54x2\"");
    expect_bad_url("postgresql://u:" SECRET "@db.example:/app", "bad port \"\"");
    expect_bad_url("postgresql://u:" SECRET "@db!example/app", "bad host \"db!example\"");
    expect_bad_url("postgresql://u:" SECRET "@[::1/app", "bad host");
    expect_bad_url("postgresql://u:" SECRET "@[fe80::zz]/app", "is not an IPv6 address");
    expect_bad_url("postgresql://u:" SECRET "@:5432/app", "a port without a host");
    expect_bad_url("postgresql://u:" SECRET "@h1,h2/app", "several hosts are not supported");
    expect_bad_url("postgresql://u:" SECRET "@db example/app", "space");
    expect_bad_url("postgresql://u:" SECRET "@db.example/app#x", "fragment");
    expect_bad_url("postgresql://u:s%ZZ" SECRET "@db.example/app", "bad percent-encoding");
    expect_bad_url("postgresql://u:" SECRET "@db.example/app?sslmode=sometimes",
                   "sslmode \"sometimes\" is not one of");
    expect_bad_url("postgresql://u:" SECRET "@db.example/app?colour=blue",
                   "invalid URI query parameter: \"colour\"");
    expect_bad_url("postgresql://u:" SECRET "@db.example/app?host=other",
                   "query parameter \"host\" is not accepted");
    expect_bad_url("postgresql://u:" SECRET "@db.example/app?sslmode=disable&sslmode=require",
                   "\"sslmode\" is given twice");
    expect_bad_url("postgresql://u:" SECRET "@db.example/app?password=other",
                   "the password is given twice");
    expect_bad_url("", "url is required");
}

Test(storage_postgres_config, bad_keys_are_refused)
{
    const char *base = "storage:\n  type: postgres\n  url: postgresql://u:" SECRET
                       "@db.example/app\n";
    static const struct {
        const char *line, *needle;
    } cases[] = {
        {"  schema: Bad-Name\n", "schema \"Bad-Name\" is not usable"},
        {"  schema: pg_catalog\n", "schema \"pg_catalog\" is not usable"},
        {"  poolSize: 0\n", "poolSize"},
        {"  poolSize: 65\n", "poolSize"},
        {"  timeoutMs: soon\n", "timeoutMs"},
        {"  connectTimeoutMs: -1\n", "connectTimeoutMs"},
        {"  startupRetrySeconds: 7200\n", "startupRetrySeconds"},
        {"  pipelineDepth: 0\n", "pipelineDepth"},
        {"  colour: blue\n", "colour"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *yaml = NULL;
        cr_assert(asprintf(&yaml, "%s%s", base, cases[i].line) > 0);
        expect_config_error(yaml, cases[i].needle);
        free(yaml);
    }
    expect_config_error("storage:\n  type: postgres\n", "url is required");
    expect_config_error("storage:\n  type: postgres\n  url: [a, b]\n", "url");
}

Test(storage_postgres_config, good_urls_are_accepted)
{
    static const char *const urls[] = {
        "postgresql://db.example/app",
        "postgres://u@db.example:6543/app?sslmode=require&connect_timeout=3"
        "&application_name=gw",
        "postgresql://u:p%40ss%3Aw%2Frd@10.1.2.3/app",
        "postgresql://u@[::1]:5432/app",
        "postgresql://u@%2Fvar%2Frun%2Fpostgresql/app",
        "postgresql:///app",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char *yaml = NULL;
        cr_assert(asprintf(&yaml, "storage:\n  type: postgres\n  url: '%s'\n", urls[i]) > 0);
        oc_test_host_t *th = oc_test_host_new(yaml);
        cr_assert_not_null(th);
        cr_assert_eq(oc_test_host_load_init_only(th, pgt_so()), OC_OK, "%s refused: %s",
                     urls[i], oc_test_host_errors(th));
        oc_test_host_free(th);
        free(yaml);
    }
}

static void noop_done(void *data, int32_t status)
{
    *(int32_t *)data = status;
}

/* init connects to nothing, and the storage works from start on. */
Test(storage_postgres_config, init_does_no_io_and_ops_wait_for_start)
{
    char yaml[256];
    snprintf(yaml, sizeof yaml, "storage:\n  type: postgres\n  url: postgresql://u:" SECRET
             "@127.0.0.1:%d/app\n", pgt_free_port());
    oc_test_host_t *th = oc_test_host_new(yaml);
    cr_assert_eq(oc_test_host_load_init_only(th, pgt_so()), OC_OK, "%s",
                 oc_test_host_errors(th));
    const oc_storage_ops_t *ops = oc_test_host_kind_ops(th, PGT_PLUGIN);
    void *st = oc_test_host_state(th, PGT_PLUGIN);
    const char *text = NULL;
    cr_assert_eq(ops->health(st, &text), OC_EUNAVAIL);
    cr_assert_str_eq(text, "not started");
    int32_t status = 1;
    oc_session_t s = {.struct_size = sizeof s, .key = "agent:main:main", .agent_id = "main"};
    cr_assert_eq(ops->session_put(st, &s, noop_done, &status), OC_EAGAIN, "before start");
    oc_test_host_free(th);
    cr_assert_eq(status, 1, "a refused op never calls back");
}

/* Every error shows the URL with its secrets as "***". */
Test(storage_postgres_config, password_is_redacted_everywhere)
{
    int port = pgt_free_port();
    char yaml[512], want[160], errs[4096];
    snprintf(yaml, sizeof yaml,
             "storage:\n  type: postgres\n  url: 'postgresql://alice:" SECRET
             "@127.0.0.1:%d/app?sslmode=disable'\n  startupRetrySeconds: 0\n",
             port);
    snprintf(want, sizeof want, "postgresql://alice:***@127.0.0.1:%d/app?sslmode=disable",
             port);
    cr_assert_eq(pgt_load_fails(yaml, errs, sizeof errs, NULL), OC_EUNAVAIL);
    cr_assert(strstr(errs, want) != NULL, "errors: %s", errs);
    cr_assert(strstr(errs, SECRET) == NULL, "the error leaked the password: %s", errs);

    /* A password given as a query parameter is redacted too. */
    snprintf(yaml, sizeof yaml,
             "storage:\n  type: postgres\n  url: 'postgresql://alice@127.0.0.1:%d/app?"
             "password=" SECRET "&sslmode=disable'\n  startupRetrySeconds: 0\n",
             port);
    snprintf(want, sizeof want, "127.0.0.1:%d/app?password=***&sslmode=disable", port);
    cr_assert_eq(pgt_load_fails(yaml, errs, sizeof errs, NULL), OC_EUNAVAIL);
    cr_assert(strstr(errs, want) != NULL, "errors: %s", errs);
    cr_assert(strstr(errs, SECRET) == NULL, "the error leaked the password: %s", errs);
}
