/* The storage conformance suite (tests/storage/) against the real
 * storage-postgres.so and the PostgreSQL of OPENCLAW_TEST_PG_URL, each case
 * in a schema of its own (dropped afterwards). */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "conformance.h"
#include "pgtest.h"

static char g_schema[64];
static char *g_yaml;
static sc_backend_t g_backend;

static void setup(void)
{
    pgt_schema_name(g_schema, sizeof g_schema);
    g_yaml = pgt_yaml(pgt_url(), g_schema, "  poolSize: 4\n");
    g_backend = (sc_backend_t){
        .plugin = PGT_PLUGIN, .so_path = pgt_so(), .yaml = g_yaml, .persistent = 1};
}

static void teardown(void)
{
    if (g_schema[0] != '\0' && getenv("OPENCLAW_TEST_PG_URL") != NULL)
        pgt_schema_drop(g_schema);
    free(g_yaml);
    g_yaml = NULL;
}

#define SC_TEST(name)                                                                          \
    Test(storage_postgres_conformance, name, .init = setup, .fini = teardown)                 \
    {                                                                                          \
        sc_run(&g_backend, #name);                                                             \
    }
SC_FOR_EACH_CASE(SC_TEST)
