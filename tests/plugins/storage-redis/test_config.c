/* storage-redis configuration: storage.url and the other keys, checked in
 * init (no server needed, as `openclaw gateway validate` does). Every bad
 * value is refused with file:line:column and what is wrong; a password
 * never appears in any message. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "redis_fixture.h"

#define SECRET "s3cret-Pw"

static void setup(void)
{
    rf_setup_offline();
}

/* Loads `section` (the lines under storage:) through init only. */
static oc_test_host_t *init_with(const char *section, int32_t expect)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "storage:\n  type: redis\n%s", section);
    oc_test_host_t *th = oc_test_host_new(yaml);
    cr_assert_not_null(th, "test host: %s", oc_test_host_last_error());
    int32_t rc = oc_test_host_load_init_only(th, rf_so);
    cr_assert_eq(rc, expect, "init gave %d, not %d, for:\n%s\n%s", rc, expect, yaml,
                 oc_test_host_errors(th));
    return th;
}

static void expect_error(const char *section, const char *needle)
{
    oc_test_host_t *th = init_with(section, OC_ECONFIG);
    const char *errs = oc_test_host_errors(th);
    cr_assert(strstr(errs, needle) != NULL, "errors do not say \"%s\":\n%s", needle, errs);
    cr_assert(strstr(errs, "test.yaml:") != NULL, "no file:line:column:\n%s", errs);
    cr_assert(strstr(errs, SECRET) == NULL, "the password leaked:\n%s", errs);
    oc_test_host_free(th);
}

static void expect_url_error(const char *url, const char *needle)
{
    char section[1024];
    snprintf(section, sizeof section, "  url: '%s'\n", url);
    expect_error(section, needle);
}

Test(storage_redis_config, bad_schemes_are_named, .init = setup)
{
    expect_url_error("http://127.0.0.1:6379/0", "unsupported scheme \"http\"");
    expect_url_error("postgresql://u:" SECRET "@127.0.0.1/db", "unsupported scheme");
    expect_url_error("rediss://u:" SECRET "@127.0.0.1:6380/0",
                     "rediss:// (TLS) is not supported: hiredis 0.14 has no TLS");
    expect_url_error("127.0.0.1:6379", "not a redis URL");
    expect_url_error("redis:/" SECRET "@127.0.0.1", "not a redis URL");
}

Test(storage_redis_config, bad_ports_are_named, .init = setup)
{
    expect_url_error("redis://127.0.0.1:abc/0",
                     "bad port \"abc\": a port is a number from 1 to 65535");
    expect_url_error("redis://127.0.0.1:0/0", "bad port \"0\"");
    expect_url_error("redis://127.0.0.1:65536/0", "bad port \"65536\"");
    expect_url_error("redis://127.0.0.1:/0", "bad port \"\"");
    expect_url_error("redis://:" SECRET "@127.0.0.1:12x/0", "bad port \"12x\"");
}

Test(storage_redis_config, bad_hosts_are_named, .init = setup)
{
    expect_url_error("redis://:6379/0", "the host is missing");
    expect_url_error("redis://u:" SECRET "@/0", "the host is missing");
    expect_url_error("redis://bad host!:6379/0", "bad host \"bad host!\"");
    expect_url_error("redis://[::1/0", "bad host: \"[\" without \"]\"");
    expect_url_error("redis://[fe80::zz]:6379/0", "not an IPv6 address");
    expect_url_error("redis://-x.example:6379/0", "bad host \"-x.example\"");
}

Test(storage_redis_config, bad_database_indexes_are_named, .init = setup)
{
    expect_url_error("redis://127.0.0.1:6379/16",
                     "bad database index \"16\": Redis databases are numbered 0 to 15");
    expect_url_error("redis://127.0.0.1:6379/x", "bad database index \"x\"");
    expect_url_error("redis://127.0.0.1:6379/-1", "bad database index \"-1\"");
    expect_url_error("redis://127.0.0.1:6379/0/extra", "bad database index \"0/extra\"");
}

Test(storage_redis_config, other_url_mistakes_are_named, .init = setup)
{
    expect_url_error("redis://127.0.0.1:6379/0?timeout=5", "query parameters are not supported");
    expect_url_error("redis://" SECRET "@127.0.0.1:6379/0", "a user name without a password");
    expect_url_error("redis://gw:@127.0.0.1:6379/0", "the password is empty");
    expect_url_error("redis://gw:" SECRET "%zz@127.0.0.1:6379/0", "bad %-escape in the password");
    expect_url_error("redis://127.0.0.1:6379/0#frag", "unexpected \"#\" at the end");
    expect_error("  keyPrefix: 'x:'\n", "url is required");
    expect_error("  url: ''\n", "url is required");
}

Test(storage_redis_config, errors_show_the_url_redacted, .init = setup)
{
    oc_test_host_t *th = init_with("  url: 'redis://gw:" SECRET "@127.0.0.1:99999/0'\n",
                                   OC_ECONFIG);
    const char *errs = oc_test_host_errors(th);
    cr_assert(strstr(errs, "\"redis://gw:***@127.0.0.1:99999/0\"") != NULL, "%s", errs);
    oc_test_host_free(th);
    /* A password with '/' or '@' unescaped still stays hidden. */
    th = init_with("  url: 'redis://gw:a/b@c" SECRET "@127.0.0.1:1x/0'\n", OC_ECONFIG);
    errs = oc_test_host_errors(th);
    cr_assert(strstr(errs, "redis://gw:***@127.0.0.1:1x/0") != NULL, "%s", errs);
    cr_assert(strstr(errs, "a/b@c") == NULL, "%s", errs);
    oc_test_host_free(th);
}

Test(storage_redis_config, other_keys_are_checked, .init = setup)
{
    expect_error("  url: 'redis://127.0.0.1/0'\n  keyPrefix: ''\n", "keyPrefix must be 1 to 128");
    expect_error("  url: 'redis://127.0.0.1/0'\n  keyPrefix: 'a b:'\n", "keyPrefix must be");
    expect_error("  url: 'redis://127.0.0.1/0'\n  timeoutMs: 0\n", "timeoutMs");
    expect_error("  url: 'redis://127.0.0.1/0'\n  connectTimeoutMs: fast\n", "connectTimeoutMs");
    expect_error("  url: 'redis://127.0.0.1/0'\n  startupRetrySeconds: -1\n",
                 "startupRetrySeconds");
    expect_error("  url: 'redis://127.0.0.1/0'\n  poolSize: 4\n", "poolSize");
}

Test(storage_redis_config, good_urls_are_accepted, .init = setup)
{
    static const char *const good[] = {
        "  url: 'redis://localhost'\n",
        "  url: 'REDIS://127.0.0.1:6380/15'\n",
        "  url: 'redis://:" SECRET "@redis.internal:6379/'\n",
        "  url: 'redis://gw-user:p%40ss%2Fword@[::1]:6379/3'\n",
        "  url: 'redis://127.0.0.1/0'\n  keyPrefix: 'app1:'\n  timeoutMs: 100\n"
        "  connectTimeoutMs: 600000\n  startupRetrySeconds: 0\n",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        oc_test_host_t *th = init_with(good[i], OC_OK);
        /* init does no I/O: the plugin says it has not started. */
        const oc_storage_ops_t *ops = rf_ops(th);
        const char *text = NULL;
        cr_assert_eq(ops->health(rf_state(th), &text), OC_EUNAVAIL);
        cr_assert_str_eq(text, "not started");
        oc_test_host_free(th);
    }
}
