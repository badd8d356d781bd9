/* The storage conformance suite (tests/storage/) against the real
 * storage-redis.so and the shared test Redis: every case of
 * SC_FOR_EACH_CASE, each under a key prefix of its own that is deleted
 * afterwards. */
#include <criterion/criterion.h>

#include "conformance.h"
#include "redis_fixture.h"

static sc_backend_t g_backend;
static char g_yaml[4096];

static void setup(void)
{
    rf_setup();
    /* A generous timeoutMs: the bulk cases queue 20,000 ops at once on a
     * loaded 2-core machine; deadlines are tested in test_connection.c. */
    snprintf(g_yaml, sizeof g_yaml, "%s", rf_yaml(NULL, "  timeoutMs: 60000\n"));
    g_backend = (sc_backend_t){
        .plugin = RF_PLUGIN, .so_path = rf_so, .yaml = g_yaml, .persistent = 1};
}

static void teardown(void)
{
    rf_teardown();
}

#define SC_TEST(name)                                                                          \
    Test(storage_redis_conformance, name, .init = setup, .fini = teardown)                    \
    {                                                                                          \
        sc_run(&g_backend, #name);                                                             \
    }
SC_FOR_EACH_CASE(SC_TEST)
