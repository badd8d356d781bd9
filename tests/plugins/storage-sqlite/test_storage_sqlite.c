/* Tests of plugins/storage-sqlite: the storage conformance suite
 * (tests/storage/) against the real storage-sqlite.so on a temporary file,
 * then what only sqlite has: schema versions and migrations, the files it
 * creates, its configuration, an unopenable database. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openclaw/plugin.h>
#include <openclaw/testing.h>

#include "conformance.h"

#define PLUGIN "storage-sqlite"
#define SCHEMA_LATEST 4

static char g_dir[1024];      /* per-test temporary directory */
static char g_db[PATH_MAX];   /* <dir>/data/sessions.db (data/ does not exist yet) */
static char g_so[PATH_MAX];
static char g_yaml[2 * PATH_MAX];
static sc_backend_t g_backend;

static void setup(void)
{
    const char *dir = getenv("OPENCLAW_TEST_PLUGIN_DIR");
    cr_assert_not_null(dir, "OPENCLAW_TEST_PLUGIN_DIR is not set (run through ctest)");
    snprintf(g_so, sizeof g_so, "%s/" PLUGIN ".so", dir);
    unsetenv("OPENCLAW_STORAGE_TYPE"); /* would override storage.type */
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/oc-sqlite-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(g_dir));
    snprintf(g_db, sizeof g_db, "%s/data/sessions.db", g_dir);
    snprintf(g_yaml, sizeof g_yaml,
             "storage:\n  type: sqlite\n  path: '%s'\n  synchronous: normal\n  busyTimeoutMs: 5000\n", g_db);
    g_backend = (sc_backend_t){
        .plugin = PLUGIN, .so_path = g_so, .yaml = g_yaml, .persistent = 1};
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    if (g_dir[0] != '\0')
        nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the conformance suite --------------------------------------------- */

#define SC_TEST(name)                                                                          \
    Test(storage_sqlite_conformance, name, .init = setup, .fini = teardown)                   \
    {                                                                                          \
        sc_run(&g_backend, #name);                                                             \
    }
SC_FOR_EACH_CASE(SC_TEST)

/* ---- helpers ------------------------------------------------------------- */

/* Run SQL on a file with the sqlite3 library, as an operator would. */
static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, err ? err : "?");
    sqlite3_free(err);
    sqlite3_close(db);
}

/* The first column of the first row as an integer (-1 when no row). */
static long long sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void mkdir_data(void)
{
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s/data", g_dir);
    cr_assert_eq(mkdir(d, 0700), 0);
}

static void open_with(sc_env_t *env, const char *yaml)
{
    static sc_backend_t b;
    b = g_backend;
    b.yaml = yaml;
    sc_env_open(env, &b);
}

/* Load with `yaml`, expecting init to refuse it. */
static void expect_config_error(const char *yaml, const char *needle)
{
    oc_test_host_t *th = oc_test_host_new(yaml);
    cr_assert_not_null(th, "%s", oc_test_host_last_error());
    int32_t rc = oc_test_host_load(th, g_so);
    cr_assert_eq(rc, OC_ECONFIG, "config accepted: %s", yaml);
    const char *errs = oc_test_host_errors(th);
    cr_assert(strstr(errs, needle) != NULL, "errors do not mention \"%s\":\n%s", needle, errs);
    oc_test_host_free(th);
}

/* ---- schema versions and migrations ------------------------------------ */

static void noop_done(void *data, int32_t status)
{
    *(int32_t *)data = status;
}

static int32_t get_status(sc_env_t *env, const char *key)
{
    return sc_get(env, key, NULL);
}

Test(storage_sqlite, newer_schema_is_refused, .init = setup, .fini = teardown)
{
    mkdir_data();
    sql_exec(g_db, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
                   "INSERT INTO schema_version VALUES (99);"
                   "CREATE TABLE future (x);");
    sc_env_t env;
    sc_env_open(&env, &g_backend); /* start only submits the open */
    /* An op queued behind the open fails with EUNAVAIL. */
    cr_assert_eq(get_status(&env, "agent:main:main"), OC_EUNAVAIL);
    const char *text = NULL;
    cr_assert_eq(env.ops->health(env.st, &text), OC_EUNAVAIL);
    cr_assert_not_null(text);
    cr_assert(strstr(text, "database schema version 99 is newer than this storage-sqlite (4); "
                           "upgrade the gateway") != NULL,
              "health text: %s", text);
    cr_assert(strstr(text, g_db) != NULL, "health text names the file: %s", text);
    /* Later ops are refused at once, without a callback. */
    int32_t st = 1;
    oc_session_t s = {.struct_size = sizeof s, .key = "agent:main:main", .agent_id = "main"};
    cr_assert_eq(env.ops->session_put(env.st, &s, noop_done, &st), OC_EUNAVAIL);
    cr_assert_eq(env.ops->transcript_clear(env.st, "agent:main:main", noop_done, &st),
                 OC_EUNAVAIL);
    sc_env_close(&env);
    cr_assert_eq(st, 1, "a refused op never calls back");
    /* The file was not touched. */
    cr_assert_eq(sql_int(g_db, "SELECT MAX(version) FROM schema_version"), 99);
    cr_assert_eq(sql_int(g_db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sessions'"),
                 0);
}

Test(storage_sqlite, failed_open_refuses_ops_at_once, .init = setup, .fini = teardown)
{
    mkdir_data();
    FILE *f = fopen(g_db, "w");
    cr_assert_not_null(f);
    fputs("this is not a database, but it is long enough to look like a header......"
          "................................................................\n",
          f);
    fclose(f);
    sc_env_t env;
    sc_env_open(&env, &g_backend);
    cr_assert_eq(get_status(&env, "agent:main:main"), OC_EUNAVAIL);
    const char *text = NULL;
    cr_assert_eq(env.ops->health(env.st, &text), OC_EUNAVAIL);
    cr_assert(text != NULL && strstr(text, "not a database") != NULL, "health: %s", text);
    int32_t st = 1;
    oc_session_t s = {.struct_size = sizeof s, .key = "agent:main:main", .agent_id = "main"};
    cr_assert_eq(env.ops->session_put(env.st, &s, noop_done, &st), OC_EUNAVAIL);
    cr_assert_eq(st, 1, "a refused op never calls back");
    sc_env_close(&env);
}

Test(storage_sqlite, unopenable_path_reports_why, .init = setup, .fini = teardown)
{
    char file[PATH_MAX], yaml[2 * PATH_MAX];
    snprintf(file, sizeof file, "%s/plainfile", g_dir);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fclose(f);
    snprintf(yaml, sizeof yaml, "storage:\n  path: '%s/sub/x.db'\n", file);
    sc_env_t env;
    open_with(&env, yaml);
    cr_assert_eq(get_status(&env, "agent:main:main"), OC_EUNAVAIL);
    const char *text = NULL;
    cr_assert_eq(env.ops->health(env.st, &text), OC_EUNAVAIL);
    cr_assert(text != NULL && strstr(text, "cannot create directory") != NULL &&
                  strstr(text, "plainfile") != NULL,
              "health: %s", text);
    sc_env_close(&env);
}

/* The v1 schema exactly as storage-sqlite 1.0's first migration made it. */
static const char v1_schema[] =
    "CREATE TABLE sessions ("
    " key TEXT PRIMARY KEY NOT NULL,"
    " agent_id TEXT NOT NULL,"
    " channel TEXT,"
    " meta_json TEXT,"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " turn_count INTEGER NOT NULL DEFAULT 0,"
    " next_seq INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE turns ("
    " session_key TEXT NOT NULL,"
    " seq INTEGER NOT NULL,"
    " role TEXT NOT NULL,"
    " content TEXT NOT NULL,"
    " meta_json TEXT,"
    " created_ms INTEGER NOT NULL,"
    " PRIMARY KEY (session_key, seq));"
    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
    "INSERT INTO schema_version VALUES (1);";

Test(storage_sqlite, migrates_v1_and_keeps_data, .init = setup, .fini = teardown)
{
    mkdir_data();
    sql_exec(g_db, v1_schema);
    sql_exec(g_db,
             "INSERT INTO sessions VALUES ('agent:main:main', 'main', 'telegram', '{\"a\":1}',"
             " 100, 200, 2, 3);"
             "INSERT INTO turns VALUES ('agent:main:main', 1, 'user', 'hi', NULL, 101);"
             "INSERT INTO turns VALUES ('agent:main:main', 2, 'assistant', 'hello', '{}', 102);");
    sc_env_t env;
    sc_env_open(&env, &g_backend);
    sc_res_t r;
    cr_assert_eq(sc_get(&env, "agent:main:main", &r), OC_OK);
    cr_assert_str_eq(r.sessions[0].agent_id, "main");
    cr_assert_str_eq(r.sessions[0].channel, "telegram");
    cr_assert_str_eq(r.sessions[0].meta_json, "{\"a\":1}");
    cr_assert_eq(r.sessions[0].created_ms, 100);
    cr_assert_eq(r.sessions[0].updated_ms, 200);
    cr_assert_eq(r.sessions[0].turn_count, 2);
    sc_res_free(&r);
    cr_assert_eq(sc_read(&env, "agent:main:main", 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 2);
    cr_assert_str_eq(r.turns[0].content, "hi");
    cr_assert_str_eq(r.turns[1].meta_json, "{}");
    cr_assert_eq(r.turns[1].created_ms, 102);
    sc_res_free(&r);
    uint64_t last;
    cr_assert_eq(sc_append_text(&env, "agent:main:main", "user", "after", &last), OC_OK);
    cr_assert_eq(last, 3);
    cr_assert_eq(sc_list(&env, 0, "main", NULL, &r), OC_OK);
    cr_assert_eq(r.nsessions, 1);
    sc_res_free(&r);
    sc_env_close(&env);

    cr_assert_eq(sql_int(g_db, "SELECT MAX(version) FROM schema_version"), SCHEMA_LATEST);
    cr_assert_eq(sql_int(g_db, "SELECT COUNT(*) FROM schema_version"), 1);
    cr_assert_eq(sql_int(g_db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND"
                               " name IN ('sessions_by_updated', 'sessions_by_agent')"),
                 2);
    cr_assert_eq(sql_int(g_db, "SELECT COUNT(*) FROM turns"), 3);
}

/* The v2 schema exactly as storage-sqlite's migrations 1 and 2 made it
 * (ABI 1.0 builds): sessions, turns and the list indexes. */
static const char v2_schema[] =
    "CREATE TABLE sessions ("
    " key TEXT PRIMARY KEY NOT NULL,"
    " agent_id TEXT NOT NULL,"
    " channel TEXT,"
    " meta_json TEXT,"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " turn_count INTEGER NOT NULL DEFAULT 0,"
    " next_seq INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE turns ("
    " session_key TEXT NOT NULL,"
    " seq INTEGER NOT NULL,"
    " role TEXT NOT NULL,"
    " content TEXT NOT NULL,"
    " meta_json TEXT,"
    " created_ms INTEGER NOT NULL,"
    " PRIMARY KEY (session_key, seq));"
    "CREATE INDEX sessions_by_updated ON sessions (updated_ms DESC, key DESC);"
    "CREATE INDEX sessions_by_agent ON sessions (agent_id, updated_ms DESC, key DESC);"
    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
    "INSERT INTO schema_version VALUES (2);";

static void count_done(void *data, int32_t status)
{
    int *n = data;
    cr_expect_eq(status, OC_OK);
    (*n)++;
}

static int reached_one(void *arg)
{
    return *(int *)arg >= 1;
}

static void got_put(void *data, int32_t status, uint64_t id, int32_t dup)
{
    uint64_t *out = data;
    cr_expect_eq(status, OC_OK);
    cr_expect_eq(dup, 0);
    out[0] = id;
    out[1] = 1;
}

static int put_done(void *arg)
{
    return ((uint64_t *)arg)[1] != 0;
}

Test(storage_sqlite, migrates_v2_to_v3_and_keeps_data, .init = setup, .fini = teardown)
{
    mkdir_data();
    sql_exec(g_db, v2_schema);
    sql_exec(g_db,
             "INSERT INTO sessions VALUES ('agent:main:main', 'main', 'telegram', '{\"a\":1}',"
             " 100, 200, 2, 5);"
             "INSERT INTO turns VALUES ('agent:main:main', 3, 'user', 'hi', NULL, 101);"
             "INSERT INTO turns VALUES ('agent:main:main', 4, 'assistant', 'hello', '{}', 102);");
    sc_env_t env;
    sc_env_open(&env, &g_backend);
    sc_res_t r;
    cr_assert_eq(sc_get(&env, "agent:main:main", &r), OC_OK, "the v2 session was lost");
    cr_assert_str_eq(r.sessions[0].channel, "telegram");
    cr_assert_str_eq(r.sessions[0].meta_json, "{\"a\":1}");
    cr_assert_eq(r.sessions[0].created_ms, 100);
    cr_assert_eq(r.sessions[0].updated_ms, 200);
    cr_assert_eq(r.sessions[0].turn_count, 2);
    sc_res_free(&r);
    cr_assert_eq(sc_read(&env, "agent:main:main", 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 2);
    cr_assert_eq(r.turns[0].seq, 3);
    cr_assert_str_eq(r.turns[1].content, "hello");
    sc_res_free(&r);

    /* The 1.1 tables work on the migrated file, next to the old data. */
    uint64_t put[2] = {0, 0};
    oc_inbox_item_t it = {.struct_size = sizeof it, .channel = "telegram", .account = "default",
                          .message_id = "m1", .envelope_json = "{}", .received_ms = 5};
    cr_assert_eq(env.ops->inbox_put(env.st, &it, got_put, put), OC_PENDING);
    cr_assert(oc_test_host_run_until(env.th, put_done, put, SC_TIMEOUT_MS));
    cr_assert_eq(put[0], 1, "the first inbox id of a migrated file is 1");
    oc_turn_t t = {.struct_size = sizeof t, .role = "assistant", .content = "after"};
    const oc_turn_t *tp[1] = {&t};
    oc_outbox_item_t o = {.struct_size = sizeof o, .idempotency_key = "k1", .channel = "telegram",
                          .account = "default", .peer_kind = OC_PEER_DIRECT, .peer_id = "42",
                          .text = "after"};
    const oc_outbox_item_t *op[1] = {&o};
    oc_commit_t c = {.struct_size = sizeof c, .session_key = "agent:main:main", .turns = tp,
                     .turn_count = 1, .inbox_done = put, .inbox_done_count = 1, .outbox = op,
                     .outbox_count = 1};
    cr_assert_eq(sc_commit(&env, &c), OC_OK);
    int added = 0;
    cr_assert_eq(env.ops->allow_add(env.st, "telegram", "default", "42", count_done, &added),
                 OC_PENDING);
    cr_assert(oc_test_host_run_until(env.th, reached_one, &added, SC_TIMEOUT_MS));
    cr_assert_eq(sc_read(&env, "agent:main:main", 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 3);
    cr_assert_eq(r.turns[2].seq, 5, "next_seq of the v2 row continues");
    sc_res_free(&r);
    sc_env_close(&env);

    cr_assert_eq(sql_int(g_db, "SELECT MAX(version) FROM schema_version"), SCHEMA_LATEST);
    cr_assert_eq(sql_int(g_db, "SELECT COUNT(*) FROM schema_version"), 1);
    cr_assert_eq(sql_int(g_db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND"
                               " name IN ('inbox', 'outbox', 'pairing_requests',"
                               " 'allow_entries')"),
                 4);
    cr_assert_eq(sql_int(g_db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND"
                               " name IN ('sessions_by_updated', 'sessions_by_agent',"
                               " 'inbox_by_state', 'outbox_by_state')"),
                 4);
    cr_assert_eq(sql_int(g_db, "SELECT state FROM inbox WHERE message_id = 'm1'"),
                 OC_INBOX_DONE);
    cr_assert_eq(sql_int(g_db, "SELECT COUNT(*) FROM outbox WHERE state = 1"), 1);
    cr_assert_eq(sql_int(g_db, "SELECT COUNT(*) FROM allow_entries"), 1);
    cr_assert_eq(sql_int(g_db, "SELECT COUNT(*) FROM turns"), 3);
}

/* A v3 file stays v3 and is not migrated again. */
Test(storage_sqlite, reopen_at_latest_runs_no_migration, .init = setup, .fini = teardown)
{
    sc_env_t env;
    sc_env_open(&env, &g_backend);
    cr_assert_eq(sc_inbox_put(&env, "telegram", "default", "m1", "{}", NULL, NULL), OC_OK);
    sc_env_reopen(&env);
    int32_t dup = 0;
    cr_assert_eq(sc_inbox_put(&env, "telegram", "default", "m1", "{}", NULL, &dup), OC_OK);
    cr_assert_eq(dup, 1);
    sc_env_close(&env);
    cr_assert_eq(sql_int(g_db, "SELECT MAX(version) FROM schema_version"), SCHEMA_LATEST);
    cr_assert_eq(sql_int(g_db, "SELECT COUNT(*) FROM schema_version"), 1);
}

Test(storage_sqlite, new_file_wal_permissions_schema, .init = setup, .fini = teardown)
{
    sc_env_t env;
    sc_env_open(&env, &g_backend);
    cr_assert_eq(sc_put_simple(&env, "agent:main:main", "main", 0), OC_OK);
    struct stat sb;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/data", g_dir);
    cr_assert_eq(stat(dir, &sb), 0, "parent directory created");
    cr_assert_eq(sb.st_mode & 0777, 0700, "directory mode %o", sb.st_mode & 0777);
    cr_assert_eq(stat(g_db, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600, "database mode %o", sb.st_mode & 0777);
    char wal[PATH_MAX + 8];
    snprintf(wal, sizeof wal, "%s-wal", g_db);
    cr_assert_eq(stat(wal, &sb), 0, "WAL file exists while open");
    cr_assert_eq(sb.st_mode & 0777, 0600, "WAL mode %o", sb.st_mode & 0777);
    sc_env_close(&env);
    cr_assert_eq(sql_int(g_db, "SELECT MAX(version) FROM schema_version"), SCHEMA_LATEST);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_open(g_db, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- configuration ------------------------------------------------------ */

Test(storage_sqlite, tilde_expands_to_home, .init = setup, .fini = teardown)
{
    setenv("HOME", g_dir, 1);
    sc_env_t env;
    open_with(&env, "storage:\n  path: ~/state/s.db\n  synchronous: full\n");
    cr_assert_eq(sc_put_simple(&env, "agent:main:main", "main", 0), OC_OK);
    sc_env_close(&env);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/state/s.db", g_dir);
    cr_assert_eq(access(path, F_OK), 0, "%s was not created", path);
    cr_assert_eq(sql_int(path, "SELECT COUNT(*) FROM sessions"), 1);
}

Test(storage_sqlite, memory_database, .init = setup, .fini = teardown)
{
    sc_env_t env;
    open_with(&env, "storage:\n  path: ':memory:'\n");
    cr_assert_eq(sc_put_simple(&env, "agent:main:main", "main", 0), OC_OK);
    uint64_t last;
    cr_assert_eq(sc_append_text(&env, "agent:main:main", "user", "hi", &last), OC_OK);
    cr_assert_eq(last, 1);
    const char *text = NULL;
    cr_assert_eq(env.ops->health(env.st, &text), OC_OK);
    sc_env_close(&env);
}

Test(storage_sqlite, bad_config_is_refused, .init = setup, .fini = teardown)
{
    expect_config_error("storage:\n  synchronous: sometimes\n", "synchronous");
    expect_config_error("storage:\n  busyTimeoutMs: -5\n", "busyTimeoutMs");
    expect_config_error("storage:\n  busyTimeoutMs: soon\n", "busyTimeoutMs");
    expect_config_error("storage:\n  path: ''\n", "path");
    expect_config_error("storage:\n  path: '~bob/x.db'\n", "~/");
    expect_config_error("storage:\n  path: /tmp/x.db\n  colour: blue\n", "colour");
}

Test(storage_sqlite, init_does_no_io, .init = setup, .fini = teardown)
{
    oc_test_host_t *th = oc_test_host_new(g_yaml);
    cr_assert_not_null(th);
    cr_assert_eq(oc_test_host_load_init_only(th, g_so), OC_OK, "%s", oc_test_host_errors(th));
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/data", g_dir);
    cr_assert_neq(access(dir, F_OK), 0, "init created %s", dir);
    const oc_storage_ops_t *ops = oc_test_host_kind_ops(th, PLUGIN);
    void *st = oc_test_host_state(th, PLUGIN);
    const char *text = NULL;
    cr_assert_eq(ops->health(st, &text), OC_EUNAVAIL);
    int32_t status = 1;
    oc_session_t s = {.struct_size = sizeof s, .key = "agent:main:main", .agent_id = "main"};
    cr_assert_eq(ops->session_put(st, &s, noop_done, &status), OC_EAGAIN, "before start");
    oc_test_host_free(th);
    cr_assert_eq(status, 1);
    cr_assert_neq(access(dir, F_OK), 0);
}

/* ---- group commit and metrics ------------------------------------------ */

static void count_append(void *data, int32_t status, uint64_t last)
{
    (void)last;
    int *n = data;
    cr_expect_eq(status, OC_OK);
    (*n)++;
}

static int reached_2000(void *arg)
{
    return *(int *)arg >= 2000;
}

static double metric_value(const char *page, const char *series)
{
    const char *p = page;
    size_t n = strlen(series);
    while ((p = strstr(p, series)) != NULL) {
        if ((p == page || p[-1] == '\n') && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p += n;
    }
    return -1;
}

Test(storage_sqlite, group_commit_and_metrics, .init = setup, .fini = teardown)
{
    sc_env_t env;
    sc_env_open(&env, &g_backend);
    cr_assert_eq(sc_put_simple(&env, "agent:main:main", "main", 0), OC_OK);
    int done = 0;
    oc_turn_t t = {.struct_size = sizeof t, .role = "user", .content = "x"};
    const oc_turn_t *tp[] = {&t};
    for (int i = 0; i < 2000; i++)
        cr_assert_eq(env.ops->transcript_append(env.st, "agent:main:main", tp, 1, count_append,
                                                &done),
                     OC_PENDING);
    cr_assert(oc_test_host_run_until(env.th, reached_2000, &done, SC_TIMEOUT_MS));
    cr_assert_eq(sc_get(&env, "agent:main:nobody", NULL), OC_ENOENT);

    char *page = oc_test_host_metrics(env.th);
    cr_assert_not_null(page);
    double appends =
        metric_value(page, "openclaw_storage_ops_total{op=\"transcript_append\",status=\"ok\"}");
    double enoent =
        metric_value(page, "openclaw_storage_ops_total{op=\"session_get\",status=\"enoent\"}");
    double batches = metric_value(page, "openclaw_storage_sqlite_batch_ops_count");
    double latency = metric_value(page, "openclaw_storage_op_seconds_count{op=\"transcript_append\"}");
    char excerpt[2048];
    snprintf(excerpt, sizeof excerpt, "%s", page);
    free(page);
    cr_assert_eq(appends, 2000, "appends counted: %g\n%s", appends, excerpt);
    cr_assert_eq(enoent, 1, "enoent counted: %g", enoent);
    cr_assert_eq(latency, 2000, "latency observations: %g", latency);
    /* 2002 ops in far fewer transactions: group commit works. */
    cr_assert(batches >= 3 && batches < 200, "transactions: %g", batches);
    sc_env_close(&env);
}
