/* Unit tests of plugins/auth-apikey: the real auth-apikey.so, loaded through
 * the test host, driven through its oc_auth_ops_t. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <elf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openclaw/plugin.h>
#include <openclaw/testing.h>

#define API_KEY "ak-0123456789abcdef0123"
#define BEARER "bt-fedcba9876543210fedc"
#define WRONG "zz-not-the-right-key-000"
#define DENIED_REASON "credentials match neither apiKey nor bearerToken"

static const char *plugin_path(void)
{
    static char path[4096];
    const char *dir = getenv("OPENCLAW_TEST_PLUGIN_DIR");
    cr_assert_not_null(dir, "OPENCLAW_TEST_PLUGIN_DIR is not set (run through ctest)");
    snprintf(path, sizeof path, "%s/auth-apikey.so", dir);
    return path;
}

typedef struct fx_s {
    oc_test_host_t *th;
    const oc_auth_ops_t *ops;
    void *st;
    const oc_host_api_t *host;
} fx_t;

/* Creates a test host from `yaml` and loads the plugin; returns the load
 * status (the fixture is usable only when it is OC_OK). */
static int32_t fx_try(fx_t *f, const char *yaml)
{
    unsetenv("OPENCLAW_API_KEY");
    unsetenv("OPENCLAW_BEARER_TOKEN");
    memset(f, 0, sizeof *f);
    f->th = oc_test_host_new(yaml);
    cr_assert_not_null(f->th, "test host: %s", oc_test_host_last_error());
    int32_t rc = oc_test_host_load(f->th, plugin_path());
    if (rc == OC_OK) {
        f->ops = oc_test_host_kind_ops(f->th, "auth-apikey");
        f->st = oc_test_host_state(f->th, "auth-apikey");
        f->host = oc_test_host_api(f->th);
        cr_assert_not_null(f->ops);
        cr_assert_not_null(f->st);
    }
    return rc;
}

static void fx_load(fx_t *f, const char *yaml)
{
    int32_t rc = fx_try(f, yaml);
    cr_assert_eq(rc, OC_OK, "load failed (%d): %s", rc, oc_test_host_errors(f->th));
}

static void fx_free(fx_t *f)
{
    oc_test_host_free(f->th);
    f->th = NULL;
}

typedef struct call_s {
    const char *addr;
    int loopback;
    const char *authz;
    const char *api_key;
    const char *token;
} call_t;

static int32_t auth_call(const fx_t *f, call_t c, oc_auth_result_t *res)
{
    oc_auth_request_t req = {
        .struct_size = sizeof req,
        .remote_is_loopback = c.loopback,
        .remote_addr = c.addr ? c.addr : "203.0.113.7",
        .method = "POST",
        .path = "/v1/chat/completions",
        .authorization = c.authz,
        .api_key = c.api_key,
        .token = c.token,
    };
    memset(res, 0, sizeof *res);
    res->struct_size = sizeof *res;
    return f->ops->authenticate(f->st, &req, res);
}

/* Shorthands. */
static int32_t bearer(const fx_t *f, const char *addr, const char *secret, oc_auth_result_t *res)
{
    char h[256];
    snprintf(h, sizeof h, "Bearer %s", secret);
    return auth_call(f, (call_t){.addr = addr, .authz = h}, res);
}

#define BASE_YAML                                                                              \
    "auth:\n"                                                                                  \
    "  apiKey: " API_KEY "\n"                                                                  \
    "  bearerToken: " BEARER "\n"

/* ---- ABI ---------------------------------------------------------------- */

/* Counts the defined, globally visible symbols of the .so's .dynsym and
 * stores the name of the last one in `name`. */
static int count_exports(const char *path, char *name, size_t name_len)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "cannot open %s", path);
    struct stat sb;
    cr_assert_eq(fstat(fileno(fp), &sb), 0);
    unsigned char *img = malloc((size_t)sb.st_size);
    cr_assert_not_null(img);
    cr_assert_eq(fread(img, 1, (size_t)sb.st_size, fp), (size_t)sb.st_size);
    fclose(fp);

    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    cr_assert(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64,
              "not an ELF64 file");
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
    int count = 0;
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_DYNSYM)
            continue;
        const Elf64_Sym *syms = (const Elf64_Sym *)(img + sh[i].sh_offset);
        const char *strtab = (const char *)(img + sh[sh[i].sh_link].sh_offset);
        size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
        for (size_t k = 1; k < n; k++) {
            unsigned bind = ELF64_ST_BIND(syms[k].st_info);
            if (syms[k].st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK))
                continue;
            count++;
            snprintf(name, name_len, "%s", strtab + syms[k].st_name);
        }
    }
    free(img);
    return count;
}

Test(auth_apikey_abi, exports_exactly_the_entry_symbol)
{
    char name[256] = "";
    int n = count_exports(plugin_path(), name, sizeof name);
    cr_assert_eq(n, 1, "auth-apikey.so exports %d symbols (last: %s); want only %s", n, name,
                 OC_PLUGIN_ENTRY_SYMBOL);
    cr_assert_str_eq(name, OC_PLUGIN_ENTRY_SYMBOL);
}

Test(auth_apikey_abi, descriptor)
{
    void *h = dlopen(plugin_path(), RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(h, "dlopen: %s", dlerror());
    oc_plugin_entry_fn entry = (oc_plugin_entry_fn)dlsym(h, OC_PLUGIN_ENTRY_SYMBOL);
    cr_assert_not_null(entry);
    const oc_plugin_desc_t *d = entry();
    cr_assert_eq(d->magic, OC_PLUGIN_MAGIC);
    cr_assert_eq(d->abi_major, OC_ABI_MAJOR);
    cr_assert_leq(d->abi_minor, OC_ABI_MINOR);
    cr_assert_eq(d->struct_size, sizeof(oc_plugin_desc_t));
    cr_assert_eq(d->kind, OC_KIND_AUTH);
    cr_assert_str_eq(d->name, "auth-apikey");
    cr_assert(d->flags & OC_PLUGIN_F_MULTI_LOOP, "authenticate runs on worker loops");
    cr_assert_not_null(d->ops->init);
    cr_assert_not_null(d->ops->destroy);
    const oc_auth_ops_t *a = d->kind_ops;
    cr_assert_eq(a->kind, OC_KIND_AUTH);
    cr_assert_not_null(a->authenticate);
    cr_assert_not_null(a->has_credentials);
    dlclose(h);
}

/* ---- accepting ---------------------------------------------------------- */

Test(auth_apikey, bearer_api_key_and_bearer_token)
{
    fx_t f;
    fx_load(&f, BASE_YAML);
    oc_auth_result_t r;
    cr_assert_eq(f.ops->has_credentials(f.st), 1);
    cr_assert_eq(bearer(&f, NULL, API_KEY, &r), OC_OK, "%s", r.reason);
    cr_assert_str_eq(r.principal, "apiKey");
    cr_assert_eq(bearer(&f, NULL, BEARER, &r), OC_OK, "%s", r.reason);
    cr_assert_str_eq(r.principal, "bearerToken");
    fx_free(&f);
}

Test(auth_apikey, scheme_case_and_spaces)
{
    fx_t f;
    fx_load(&f, BASE_YAML);
    oc_auth_result_t r;
    const char *ok[] = {"bearer " API_KEY, "BEARER " API_KEY, "BeArEr " BEARER,
                        "Bearer    " API_KEY, "  Bearer\t " API_KEY "  ", "bearer " BEARER " \t"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        cr_assert_eq(auth_call(&f, (call_t){.authz = ok[i]}, &r), OC_OK, "[%zu] %s", i,
                     r.reason);
    /* Other schemes and a bare scheme are not credentials this plugin reads. */
    const char *declined[] = {"Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Bearerx " API_KEY,
                              API_KEY, ""};
    for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++)
        cr_assert_eq(auth_call(&f, (call_t){.authz = declined[i]}, &r), OC_DECLINED, "[%zu]",
                     i);
    /* The secret itself is case-sensitive. */
    char upper[] = "Bearer " API_KEY;
    for (char *p = upper + 7; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 32);
    cr_assert_eq(auth_call(&f, (call_t){.authz = upper}, &r), OC_EACCES);
    fx_free(&f);
}

Test(auth_apikey, x_api_key_header)
{
    fx_t f;
    fx_load(&f, BASE_YAML);
    oc_auth_result_t r;
    cr_assert_eq(auth_call(&f, (call_t){.api_key = API_KEY}, &r), OC_OK, "%s", r.reason);
    cr_assert_str_eq(r.principal, "apiKey");
    /* X-API-Key carries the apiKey only. */
    cr_assert_eq(auth_call(&f, (call_t){.api_key = BEARER}, &r), OC_EACCES);
    cr_assert_eq(auth_call(&f, (call_t){.api_key = WRONG}, &r), OC_EACCES);
    fx_free(&f);
}

Test(auth_apikey, websocket_token)
{
    fx_t f;
    fx_load(&f, BASE_YAML);
    oc_auth_result_t r;
    call_t c = {.token = API_KEY};
    c.token = API_KEY;
    cr_assert_eq(auth_call(&f, c, &r), OC_OK, "%s", r.reason);
    cr_assert_str_eq(r.principal, "apiKey");
    c.token = BEARER;
    cr_assert_eq(auth_call(&f, c, &r), OC_OK, "%s", r.reason);
    cr_assert_str_eq(r.principal, "bearerToken");
    c.token = WRONG;
    cr_assert_eq(auth_call(&f, c, &r), OC_EACCES);
    fx_free(&f);
}

Test(auth_apikey, wrong_key_is_eacces_without_the_secret)
{
    fx_t f;
    fx_load(&f, BASE_YAML);
    oc_auth_result_t r;
    cr_assert_eq(bearer(&f, NULL, WRONG, &r), OC_EACCES);
    cr_assert_str_eq(r.reason, DENIED_REASON);
    cr_assert_null(strstr(r.reason, WRONG));
    cr_assert_null(strstr(r.reason, API_KEY));
    cr_assert_null(strstr(r.reason, BEARER));
    cr_assert_str_empty(r.principal);
    cr_assert_eq(r.retry_after_s, 0u);
    /* A prefix, a longer value and an empty-ish value are all wrong. */
    cr_assert_eq(bearer(&f, NULL, "ak-0123456789abcdef012", &r), OC_EACCES);
    cr_assert_eq(bearer(&f, NULL, API_KEY "4", &r), OC_EACCES);
    cr_assert_eq(bearer(&f, NULL, "x", &r), OC_EACCES);
    fx_free(&f);
}

Test(auth_apikey, no_credentials_declined)
{
    fx_t f;
    fx_load(&f, BASE_YAML);
    oc_auth_result_t r;
    cr_assert_eq(auth_call(&f, (call_t){0}, &r), OC_DECLINED);
    cr_assert_eq(auth_call(&f, (call_t){.api_key = "", .token = ""}, &r), OC_DECLINED);
    cr_assert_eq(auth_call(&f, (call_t){.api_key = "  "}, &r), OC_DECLINED);
    fx_free(&f);
}

Test(auth_apikey, any_offered_credential_that_matches_allows)
{
    fx_t f;
    fx_load(&f, BASE_YAML);
    oc_auth_result_t r;
    cr_assert_eq(auth_call(&f, (call_t){.authz = "Bearer " WRONG, .api_key = API_KEY}, &r),
                 OC_OK);
    cr_assert_eq(auth_call(&f, (call_t){.authz = "Basic Zm9vOmJhcg==", .token = BEARER}, &r),
                 OC_OK);
    cr_assert_str_eq(r.principal, "bearerToken");
    fx_free(&f);
}

Test(auth_apikey, only_bearer_token_configured)
{
    fx_t f;
    fx_load(&f, "auth:\n  bearerToken: " BEARER "\n");
    oc_auth_result_t r;
    cr_assert_eq(f.ops->has_credentials(f.st), 1);
    cr_assert_eq(bearer(&f, NULL, BEARER, &r), OC_OK);
    cr_assert_eq(auth_call(&f, (call_t){.api_key = BEARER}, &r), OC_EACCES);
    fx_free(&f);
}

Test(auth_apikey, same_value_for_both_is_allowed)
{
    fx_t f;
    fx_load(&f, "auth:\n  apiKey: " API_KEY "\n  bearerToken: " API_KEY "\n");
    oc_auth_result_t r;
    cr_assert_eq(bearer(&f, NULL, API_KEY, &r), OC_OK);
    cr_assert_str_eq(r.principal, "apiKey");
    fx_free(&f);
}

/* ---- configuration ------------------------------------------------------ */

Test(auth_apikey_config, no_auth_section)
{
    fx_t f;
    fx_load(&f, "server:\n  port: 3000\n");
    oc_auth_result_t r;
    cr_assert_eq(f.ops->has_credentials(f.st), 0);
    cr_assert_eq(bearer(&f, NULL, API_KEY, &r), OC_DECLINED);
    fx_free(&f);
}

Test(auth_apikey_config, empty_from_env_default_means_unset)
{
    unsetenv("OC_TEST_AUTH_UNSET_VAR");
    fx_t f;
    fx_load(&f, "auth:\n"
                "  apiKey: ${OC_TEST_AUTH_UNSET_VAR:-}\n"
                "  bearerToken: \"\"\n");
    oc_auth_result_t r;
    cr_assert_eq(f.ops->has_credentials(f.st), 0);
    cr_assert_eq(bearer(&f, NULL, API_KEY, &r), OC_DECLINED);
    cr_assert_eq(auth_call(&f, (call_t){.token = ""}, &r), OC_DECLINED);
    fx_free(&f);
}

Test(auth_apikey_config, env_expansion_sets_key)
{
    setenv("OC_TEST_AUTH_KEY_VAR", API_KEY, 1);
    fx_t f;
    fx_load(&f, "auth:\n  apiKey: ${OC_TEST_AUTH_KEY_VAR:-}\n");
    oc_auth_result_t r;
    cr_assert_eq(f.ops->has_credentials(f.st), 1);
    cr_assert_eq(auth_call(&f, (call_t){.api_key = API_KEY}, &r), OC_OK);
    fx_free(&f);
}

Test(auth_apikey_config, too_short_names_line_and_column)
{
    fx_t f;
    int32_t rc = fx_try(&f, "auth:\n  apiKey: short\n");
    cr_assert_eq(rc, OC_ECONFIG);
    const char *e = oc_test_host_errors(f.th);
    cr_assert(strstr(e, "test.yaml:2:11:") != NULL, "no file:line:col in: %s", e);
    cr_assert(strstr(e, "auth.apiKey") != NULL, "%s", e);
    cr_assert(strstr(e, "too short (5 characters)") != NULL, "%s", e);
    cr_assert(strstr(e, "openssl rand -hex 24") != NULL, "%s", e);
    cr_assert(strstr(e, ": short") == NULL && strstr(e, "\"short\"") == NULL,
              "the value itself is not echoed: %s", e);
    fx_free(&f);
}

Test(auth_apikey_config, every_problem_reported)
{
    fx_t f;
    int32_t rc = fx_try(&f, "auth:\n"
                            "  apiKey: 1234567\n"
                            "  bearerToken: abc\n");
    cr_assert_eq(rc, OC_ECONFIG);
    const char *e = oc_test_host_errors(f.th);
    cr_assert(strstr(e, "test.yaml:2:11:") && strstr(e, "auth.apiKey"), "%s", e);
    cr_assert(strstr(e, "test.yaml:3:16:") && strstr(e, "auth.bearerToken"), "%s", e);
    fx_free(&f);
}

Test(auth_apikey_config, map_for_api_key_is_a_type_error)
{
    fx_t f;
    int32_t rc = fx_try(&f, "auth:\n"
                            "  apiKey:\n"
                            "    value: " API_KEY "\n");
    cr_assert_eq(rc, OC_ECONFIG);
    const char *e = oc_test_host_errors(f.th);
    cr_assert(strstr(e, "test.yaml:3:5:") != NULL || strstr(e, "test.yaml:2:3:") != NULL,
              "no line:col in: %s", e);
    cr_assert(strstr(e, "auth.apiKey") != NULL, "%s", e);
    fx_free(&f);
}

Test(auth_apikey_config, control_character_rejected)
{
    fx_t f;
    int32_t rc = fx_try(&f, "auth:\n  apiKey: \"" API_KEY "\\n\"\n");
    cr_assert_eq(rc, OC_ECONFIG);
    const char *e = oc_test_host_errors(f.th);
    cr_assert(strstr(e, "test.yaml:2:11:") && strstr(e, "control character"), "%s", e);
    fx_free(&f);
}

Test(auth_apikey_config, surrounding_whitespace_rejected)
{
    fx_t f;
    int32_t rc = fx_try(&f, "auth:\n  bearerToken: \" " BEARER "\"\n");
    cr_assert_eq(rc, OC_ECONFIG);
    const char *e = oc_test_host_errors(f.th);
    cr_assert(strstr(e, "auth.bearerToken") && strstr(e, "whitespace"), "%s", e);
    fx_free(&f);
}

Test(auth_apikey_config, rate_limit_values_checked)
{
    fx_t f;
    int32_t rc = fx_try(&f, "auth:\n"
                            "  apiKey: " API_KEY "\n"
                            "  rateLimit:\n"
                            "    maxAttempts: 0\n"
                            "    windowMs: soon\n"
                            "    lockoutMs: -1\n"
                            "    exemptLoopback: maybe\n");
    cr_assert_eq(rc, OC_ECONFIG);
    const char *e = oc_test_host_errors(f.th);
    cr_assert(strstr(e, "test.yaml:4:") && strstr(e, "maxAttempts"), "%s", e);
    cr_assert(strstr(e, "test.yaml:5:") && strstr(e, "windowMs"), "%s", e);
    cr_assert(strstr(e, "test.yaml:6:") && strstr(e, "lockoutMs"), "%s", e);
    cr_assert(strstr(e, "test.yaml:7:") && strstr(e, "exemptLoopback"), "%s", e);
    fx_free(&f);
}

Test(auth_apikey_config, rate_limit_must_be_a_map)
{
    fx_t f;
    int32_t rc = fx_try(&f, "auth:\n  apiKey: " API_KEY "\n  rateLimit: 5\n");
    cr_assert_eq(rc, OC_ECONFIG);
    const char *e = oc_test_host_errors(f.th);
    cr_assert(strstr(e, "test.yaml:3:") && strstr(e, "auth.rateLimit") && strstr(e, "map"),
              "%s", e);
    fx_free(&f);
}

Test(auth_apikey_config, unknown_rate_limit_key_reported_by_host)
{
    fx_t f;
    int32_t rc = fx_try(&f, "auth:\n"
                            "  apiKey: " API_KEY "\n"
                            "  rateLimit:\n"
                            "    maxAttempt: 3\n");
    cr_assert_neq(rc, OC_OK, "a misspelt key must not pass silently");
    cr_assert(strstr(oc_test_host_errors(f.th), "maxAttempt") != NULL, "%s",
              oc_test_host_errors(f.th));
    fx_free(&f);
}

/* ---- rate limiting ------------------------------------------------------ */

typedef struct until_s {
    const oc_host_api_t *host;
    uint64_t at;
} until_t;

static int time_reached(void *arg)
{
    const until_t *u = arg;
    return u->host->now_ms() >= u->at;
}

static int never(void *arg)
{
    (void)arg;
    return 0;
}

/* Runs the test host's loop until its clock reached now + ms. The run
 * blocks until its deadline timer fires, so the deadline is kept just past
 * the target. That timer counts from the loop's cached time, which is stale
 * after a long stretch of calls made outside the loop; a zero-length run
 * refreshes it first (else the timer fires at once and the loop then waits
 * on nothing). */
static void run_for(fx_t *f, uint64_t ms)
{
    oc_test_host_run_until(f->th, never, NULL, 0);
    until_t u = {f->host, f->host->now_ms() + ms};
    cr_assert(oc_test_host_run_until(f->th, time_reached, &u, ms + 10));
    cr_assert(time_reached(&u));
}

#define RL_YAML(max, window, lockout, exempt)                                                 \
    BASE_YAML "  rateLimit:\n"                                                                 \
              "    maxAttempts: " #max "\n"                                                    \
              "    windowMs: " #window "\n"                                                    \
              "    lockoutMs: " #lockout "\n"                                                  \
              "    exemptLoopback: " #exempt "\n"

Test(auth_apikey_limit, lockout_after_max_attempts)
{
    fx_t f;
    fx_load(&f, RL_YAML(3, 60000, 50, true));
    oc_auth_result_t r;
    const char *a = "198.51.100.20";
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES);
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES);
    /* The 3rd failure starts the lockout but is itself still a 401. */
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES, "the 3rd failure is still a denial");
    cr_assert_str_eq(r.reason, DENIED_REASON);
    cr_assert_eq(r.retry_after_s, 0u);
    /* From the next attempt on, the address is locked. */
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_ELIMIT, "the 4th attempt is refused");
    cr_assert_eq(r.retry_after_s, 1u);
    cr_assert(strstr(r.reason, "too many") != NULL, "%s", r.reason);
    /* Locked: even the right key is refused, through every way in. */
    cr_assert_eq(bearer(&f, a, API_KEY, &r), OC_ELIMIT);
    cr_assert_geq(r.retry_after_s, 1u);
    cr_assert_eq(auth_call(&f, (call_t){.addr = a, .api_key = API_KEY}, &r), OC_ELIMIT);
    cr_assert_eq(auth_call(&f, (call_t){.addr = a, .token = BEARER}, &r), OC_ELIMIT);
    /* No credentials is not an attempt. */
    cr_assert_eq(auth_call(&f, (call_t){.addr = a}, &r), OC_DECLINED);
    /* Other addresses are not affected. */
    cr_assert_eq(bearer(&f, "198.51.100.21", API_KEY, &r), OC_OK);
    /* After lockoutMs the address is free again, with a fresh count. */
    run_for(&f, 51);
    cr_assert_eq(bearer(&f, a, API_KEY, &r), OC_OK, "%s", r.reason);
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES);
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES);
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES);
    cr_assert_eq(r.retry_after_s, 0u);
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_ELIMIT);
    cr_assert_eq(r.retry_after_s, 1u);
    fx_free(&f);
}

Test(auth_apikey_limit, retry_after_is_remaining_lockout)
{
    fx_t f;
    fx_load(&f, RL_YAML(2, 60000, 300000, true));
    oc_auth_result_t r;
    const char *a = "2001:db8:1:2::7";
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES);
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES, "the 2nd failure locks but is a 401");
    cr_assert_eq(r.retry_after_s, 0u);
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_ELIMIT);
    cr_assert_eq(r.retry_after_s, 300u);
    run_for(&f, 5);
    cr_assert_eq(bearer(&f, a, API_KEY, &r), OC_ELIMIT);
    cr_assert(r.retry_after_s == 300u || r.retry_after_s == 299u, "%u", r.retry_after_s);
    /* IPv6 addresses are limited per /64. */
    cr_assert_eq(bearer(&f, "2001:db8:1:2:ffff::1", API_KEY, &r), OC_ELIMIT);
    cr_assert_eq(bearer(&f, "2001:db8:1:3::7", API_KEY, &r), OC_OK);
    fx_free(&f);
}

Test(auth_apikey_limit, ipv4_mapped_is_the_ipv4_address)
{
    fx_t f;
    fx_load(&f, RL_YAML(1, 60000, 300000, true));
    oc_auth_result_t r;
    cr_assert_eq(bearer(&f, "192.0.2.33", WRONG, &r), OC_EACCES, "the only allowed failure locks");
    cr_assert_eq(bearer(&f, "::ffff:192.0.2.33", API_KEY, &r), OC_ELIMIT);
    cr_assert_eq(bearer(&f, "::ffff:192.0.2.34", API_KEY, &r), OC_OK);
    fx_free(&f);
}

Test(auth_apikey_limit, failures_outside_the_window_do_not_add_up)
{
    fx_t f;
    fx_load(&f, RL_YAML(2, 30, 300000, true));
    oc_auth_result_t r;
    const char *a = "198.51.100.30";
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES);
    run_for(&f, 31);
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES);
    /* Had the first failure still counted, the one above would have locked. */
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES, "the window started over");
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_ELIMIT);
    fx_free(&f);
}

Test(auth_apikey_limit, success_resets_the_count_when_not_locked)
{
    fx_t f;
    fx_load(&f, RL_YAML(3, 60000, 300000, true));
    oc_auth_result_t r;
    const char *a = "198.51.100.40";
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES);
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES);
    cr_assert_eq(bearer(&f, a, API_KEY, &r), OC_OK);
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES);
    /* Without the reset this would be the 4th failure, refused as locked. */
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES, "the success cleared the count");
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES);
    cr_assert_eq(bearer(&f, a, WRONG, &r), OC_ELIMIT);
    fx_free(&f);
}

Test(auth_apikey_limit, zero_lockout_never_locks)
{
    fx_t f;
    fx_load(&f, RL_YAML(2, 60000, 0, true));
    oc_auth_result_t r;
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(bearer(&f, "198.51.100.50", WRONG, &r), OC_EACCES, "attempt %d", i);
        cr_assert_eq(r.retry_after_s, 0u);
    }
    cr_assert_eq(bearer(&f, "198.51.100.50", API_KEY, &r), OC_OK);
    fx_free(&f);
}

Test(auth_apikey_limit, loopback_exempt_by_default)
{
    fx_t f;
    fx_load(&f, BASE_YAML "  rateLimit:\n    maxAttempts: 2\n");
    oc_auth_result_t r;
    char h[64];
    snprintf(h, sizeof h, "Bearer %s", WRONG);
    for (int i = 0; i < 25; i++)
        cr_assert_eq(auth_call(&f, (call_t){.addr = "127.0.0.1", .loopback = 1, .authz = h}, &r),
                     OC_EACCES, "attempt %d", i);
    cr_assert_eq(
        auth_call(&f, (call_t){.addr = "127.0.0.1", .loopback = 1, .api_key = API_KEY}, &r),
        OC_OK);
    /* The same textual address without the host's loopback flag is limited. */
    cr_assert_eq(auth_call(&f, (call_t){.addr = "127.0.0.1", .authz = h}, &r), OC_EACCES);
    cr_assert_eq(auth_call(&f, (call_t){.addr = "127.0.0.1", .authz = h}, &r), OC_EACCES);
    cr_assert_eq(auth_call(&f, (call_t){.addr = "127.0.0.1", .authz = h}, &r), OC_ELIMIT);
    cr_assert_eq(r.retry_after_s, 300u, "the default lockoutMs");
    fx_free(&f);
}

Test(auth_apikey_limit, loopback_limited_when_not_exempt)
{
    fx_t f;
    fx_load(&f, RL_YAML(2, 60000, 300000, false));
    oc_auth_result_t r;
    char h[64];
    snprintf(h, sizeof h, "Bearer %s", WRONG);
    cr_assert_eq(auth_call(&f, (call_t){.addr = "::1", .loopback = 1, .authz = h}, &r),
                 OC_EACCES);
    cr_assert_eq(auth_call(&f, (call_t){.addr = "::1", .loopback = 1, .authz = h}, &r),
                 OC_EACCES);
    cr_assert_eq(auth_call(&f, (call_t){.addr = "::1", .loopback = 1, .authz = h}, &r),
                 OC_ELIMIT);
    cr_assert_eq(r.retry_after_s, 300u);
    cr_assert_eq(
        auth_call(&f, (call_t){.addr = "::1", .loopback = 1, .api_key = API_KEY}, &r),
        OC_ELIMIT);
    fx_free(&f);
}

Test(auth_apikey_limit, odd_remote_addresses)
{
    fx_t f;
    fx_load(&f, RL_YAML(1, 60000, 300000, true));
    oc_auth_result_t r;
    cr_assert_eq(bearer(&f, "unix:/run/openclaw.sock", WRONG, &r), OC_EACCES);
    cr_assert_eq(bearer(&f, "unix:/run/openclaw.sock", API_KEY, &r), OC_ELIMIT);
    cr_assert_eq(bearer(&f, "unix:/run/other.sock", API_KEY, &r), OC_OK);
    oc_auth_request_t req = {.struct_size = sizeof req, .authorization = "Bearer " API_KEY};
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    cr_assert_eq(f.ops->authenticate(f.st, &req, &r), OC_OK, "NULL remote_addr");
    fx_free(&f);
}

Test(auth_apikey_limit, small_result_struct_is_respected)
{
    fx_t f;
    fx_load(&f, RL_YAML(1, 60000, 300000, true));
    /* A host that knows only struct_size and retry_after_s: nothing past it
     * may be written. */
    struct {
        oc_auth_result_t res;
    } box;
    memset(&box, 0xAB, sizeof box);
    box.res.struct_size = offsetof(oc_auth_result_t, principal);
    box.res.retry_after_s = 0;
    oc_auth_request_t req = {.struct_size = sizeof req,
                             .remote_addr = "198.51.100.60",
                             .authorization = "Bearer " WRONG};
    /* The failure that locks is a denial: a reason, but no room for it. */
    cr_assert_eq(f.ops->authenticate(f.st, &req, &box.res), OC_EACCES);
    cr_assert_eq(box.res.retry_after_s, 0u);
    for (size_t i = 0; i < sizeof box.res.principal; i++)
        cr_assert_eq((unsigned char)box.res.principal[i], 0xABu);
    for (size_t i = 0; i < sizeof box.res.reason; i++)
        cr_assert_eq((unsigned char)box.res.reason[i], 0xABu);
    /* The next one is refused with a retry_after_s, which does fit. */
    cr_assert_eq(f.ops->authenticate(f.st, &req, &box.res), OC_ELIMIT);
    cr_assert_eq(box.res.retry_after_s, 300u);
    for (size_t i = 0; i < sizeof box.res.principal; i++)
        cr_assert_eq((unsigned char)box.res.principal[i], 0xABu);
    for (size_t i = 0; i < sizeof box.res.reason; i++)
        cr_assert_eq((unsigned char)box.res.reason[i], 0xABu);
    fx_free(&f);
}

/* ---- threads ------------------------------------------------------------ */

#define THREADS 4
#define SHARED_PER_THREAD 250
#define OWN_ROUNDS 500
/* maxAttempts for the shared address: below the THREADS * SHARED_PER_THREAD
 * = 1000 shared attempts, so both answers happen concurrently. */
#define SHARED_MAX 700
#define STR_(x) #x
#define STR(x) STR_(x)

typedef struct worker_s {
    const fx_t *f;
    int idx;
    int shared_eacces, shared_elimit, shared_other;
    int own_ok, own_eacces, own_other;
} worker_t;

static void *worker(void *arg)
{
    worker_t *w = arg;
    char own[32];
    snprintf(own, sizeof own, "198.51.100.%d", 100 + w->idx);
    oc_auth_result_t r;
    for (int i = 0; i < OWN_ROUNDS || i < SHARED_PER_THREAD; i++) {
        if (i < SHARED_PER_THREAD) {
            int32_t rc = bearer(w->f, "192.0.2.250", WRONG, &r);
            if (rc == OC_EACCES)
                w->shared_eacces++;
            else if (rc == OC_ELIMIT)
                w->shared_elimit++;
            else
                w->shared_other++;
        }
        if (i < OWN_ROUNDS) {
            /* wrong then right: the count never gets past 1 */
            int32_t a = auth_call(w->f, (call_t){.addr = own, .api_key = WRONG}, &r);
            int32_t b = (i & 1) ? bearer(w->f, own, BEARER, &r)
                                : auth_call(w->f, (call_t){.addr = own, .token = API_KEY}, &r);
            w->own_eacces += a == OC_EACCES;
            w->own_ok += b == OC_OK;
            w->own_other += (a != OC_EACCES) + (b != OC_OK);
        }
    }
    return NULL;
}

Test(auth_apikey_threads, concurrent_counts_are_exact)
{
    fx_t f;
    /* Exactly SHARED_MAX failures are counted (each a 401, the last of them
     * locking); every later shared attempt meets the lockout (429). */
    fx_load(&f, BASE_YAML "  rateLimit:\n"
                          "    maxAttempts: " STR(SHARED_MAX) "\n"
                          "    windowMs: 600000\n"
                          "    lockoutMs: 600000\n"
                          "    exemptLoopback: true\n");
    pthread_t t[THREADS];
    worker_t w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_t){.f = &f, .idx = i};
        cr_assert_eq(pthread_create(&t[i], NULL, worker, &w[i]), 0);
    }
    int eacces = 0, elimit = 0, other = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        eacces += w[i].shared_eacces;
        elimit += w[i].shared_elimit;
        other += w[i].shared_other;
        cr_assert_eq(w[i].own_ok, OWN_ROUNDS, "thread %d", i);
        cr_assert_eq(w[i].own_eacces, OWN_ROUNDS, "thread %d", i);
        cr_assert_eq(w[i].own_other, 0, "thread %d", i);
    }
    cr_assert_eq(THREADS * SHARED_PER_THREAD, 1000);
    cr_assert_eq(eacces, SHARED_MAX, "EACCES %d ELIMIT %d other %d", eacces, elimit, other);
    cr_assert_eq(elimit, THREADS * SHARED_PER_THREAD - SHARED_MAX, "EACCES %d ELIMIT %d", eacces,
                 elimit);
    cr_assert_eq(other, 0);
    oc_auth_result_t r;
    cr_assert_eq(bearer(&f, "192.0.2.250", API_KEY, &r), OC_ELIMIT);
    fx_free(&f);
}

/* ---- bounded table ------------------------------------------------------ */

static void addr_n(char *buf, size_t len, unsigned n)
{
    snprintf(buf, len, "10.%u.%u.%u", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

#ifndef OPENCLAW_SANITIZE
static long rss_kib(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    if (fp == NULL)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, fp))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(fp);
    return kib;
}
#endif

Test(auth_apikey_table, bounded_evicts_oldest, .timeout = 120)
{
    fx_t f;
    /* Every failure (a 401) locks for 10 minutes: nothing ever expires. */
    fx_load(&f, RL_YAML(1, 600000, 600000, true));
    oc_auth_result_t r;
    const char *first = "192.0.2.1";
    cr_assert_eq(bearer(&f, first, WRONG, &r), OC_EACCES);
    cr_assert_eq(bearer(&f, first, API_KEY, &r), OC_ELIMIT, "locked");
    char a[32];
    unsigned n = 0;
    for (; n < 70000; n++) {
        addr_n(a, sizeof a, n);
        cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES, "%s", a);
        /* Each new address is locked (checked on a sample, to keep it quick). */
        if (n % 1024 == 0)
            cr_assert_eq(bearer(&f, a, API_KEY, &r), OC_ELIMIT, "%s", a);
    }
#ifndef OPENCLAW_SANITIZE
    long before = rss_kib();
#endif
    for (; n < 140000; n++) {
        addr_n(a, sizeof a, n);
        cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES, "%s", a);
        if (n % 1024 == 0)
            cr_assert_eq(bearer(&f, a, API_KEY, &r), OC_ELIMIT, "%s", a);
    }
#ifndef OPENCLAW_SANITIZE
    long after = rss_kib();
    cr_assert(before > 0 && after > 0);
    cr_assert_lt(after - before, 1024, "RSS grew by %ld KiB over 70000 more addresses",
                 after - before);
#endif
    /* The table is full of newer lockouts: the oldest one made room. */
    cr_assert_eq(bearer(&f, first, API_KEY, &r), OC_OK, "%s", r.reason);
    /* The newest are still there. */
    addr_n(a, sizeof a, n - 1);
    cr_assert_eq(bearer(&f, a, API_KEY, &r), OC_ELIMIT);
    fx_free(&f);
}

Test(auth_apikey_table, expired_entries_go_first, .timeout = 120)
{
    fx_t f;
    /* Single failures expire after 50 ms; two lock for 10 minutes. */
    fx_load(&f, RL_YAML(2, 50, 600000, true));
    oc_auth_result_t r;
    const char *locked = "192.0.2.2";
    cr_assert_eq(bearer(&f, locked, WRONG, &r), OC_EACCES);
    cr_assert_eq(bearer(&f, locked, WRONG, &r), OC_EACCES);
    cr_assert_eq(bearer(&f, locked, WRONG, &r), OC_ELIMIT, "locked");
    char a[32];
    unsigned n = 0;
    for (; n < 40000; n++) {
        addr_n(a, sizeof a, n);
        cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES);
    }
    run_for(&f, 51); /* every one of those has expired now */
    /* Together more than the table holds; the new ones alone fit. */
    for (; n < 40000 + 48000; n++) {
        addr_n(a, sizeof a, n);
        cr_assert_eq(bearer(&f, a, WRONG, &r), OC_EACCES);
    }
    cr_assert_eq(bearer(&f, locked, API_KEY, &r), OC_ELIMIT,
                 "a live lockout was evicted while expired entries were there");
    fx_free(&f);
}
