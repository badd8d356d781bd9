/* The core schema: every section, its errors, and what it leaves to plugins. */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

TestSuite(schema, .init = cfg_setup, .fini = cfg_teardown);

static const char *full =
    "x-timeouts: &timeouts {headerTimeoutMs: 5000, idleTimeoutMs: 30000}\n"
    "server:\n"
    "  host: loopback\n"
    "  port: 8080\n"
    "  logLevel: debug\n"
    "  logFormat: json\n"
    "  cors: {enabled: false, origins: [\"https://app.example.com\", \"http://localhost:5173\"]}\n"
    "  workers: 2\n"
    "  limits:\n"
    "    <<: *timeouts\n"
    "    maxBodyBytes: 1048576\n"
    "    maxHeaderBytes: 8192\n"
    "  reload: {mode: restart, debounceMs: 500}\n"
    "  controlUi: {enabled: false, basePath: /ui/}\n"
    "auth:\n"
    "  apiKey: ${GW_T_KEY:-sk-local}\n"
    "  rateLimit: {maxAttempts: 5}\n"
    "plugins:\n"
    "  path: [/opt/openclaw/plugins]\n"
    "  load: [provider-openai, provider-anthropic, channel-telegram, auth-apikey, "
    "storage-postgres]\n"
    "providers:\n"
    "  - name: openai\n"
    "    type: openai\n"
    "    apiKey: sk-test\n"
    "    baseUrl: http://127.0.0.1:18080/v1\n"
    "    models: [gpt-4o-mini]\n"
    "  - name: claude\n"
    "    type: anthropic\n"
    "    apiKey: sk-ant\n"
    "agents:\n"
    "  defaults:\n"
    "    model: {primary: openai/gpt-4o-mini, fallbacks: [claude/claude-3-5-haiku, fast]}\n"
    "    models:\n"
    "      openai/gpt-4o-mini: {alias: fast}\n"
    "      \"claude/claude-3.5-sonnet\": {alias: smart}\n"
    "      openai/o3:\n"
    "    systemPrompt: You are helpful.\n"
    "    historyLimit: 20\n"
    "    timeoutSeconds: 120\n"
    "    maxConcurrent: 8\n"
    "  list:\n"
    "    - id: main\n"
    "      name: Main\n"
    "    - id: support\n"
    "      default: true\n"
    "      name: Support\n"
    "      systemPrompt: Be brief.\n"
    "      model: smart\n"
    "      groupChat: {mentionPatterns: [\"@?support\", \"^help\"]}\n"
    "    - id: ops_1\n"
    "      model: {primary: claude/claude-3-5-haiku, fallbacks: [openai/gpt-4o-mini]}\n"
    "bindings:\n"
    "  - agentId: support\n"
    "    match: {channel: telegram, accountId: acct1, peer: {kind: group, id: \"-100123\"}}\n"
    "  - agentId: ops_1\n"
    "    match: {channel: slack}\n"
    "channels:\n"
    "  telegram: {botToken: \"123:abc\", dmPolicy: pairing, allowFrom: [\"42\"]}\n"
    "session:\n"
    "  dmScope: per-channel-peer\n"
    "  reset: {mode: daily, atHour: 3, idleMinutes: 30}\n"
    "  resetTriggers: [/new, /start]\n"
    "messages:\n"
    "  queue: {mode: interrupt, debounceMs: 200, cap: 5, drop: new}\n"
    "storage:\n"
    "  type: postgres\n"
    "  url: postgresql://postgres@127.0.0.1:55432/gwtest\n"
    "monitoring: {healthCheck: false, metricsPort: 0}\n"
    "identity: {name: Claw, theme: crab, emoji: \"🦀\"}\n";

Test(schema, a_full_valid_config)
{
    gw_config_t *c = cfg_load_ok(NULL, full);
    cr_assert_str_eq(c->host, "127.0.0.1");
    cr_assert_eq(c->port, 8080);
    cr_assert_eq(c->log_level, OC_LOG_DEBUG);
    cr_assert_eq(c->log_json, 1);
    cr_assert_eq(c->cors_enabled, 0);
    cr_assert_eq(c->cors_origin_count, 2);
    cr_assert_str_eq(c->cors_origins[1], "http://localhost:5173");
    cr_assert_eq(c->workers, 2);
    cr_assert_eq(c->max_body_bytes, 1048576);
    cr_assert_eq(c->max_header_bytes, 8192);
    cr_assert_eq(c->header_timeout_ms, 5000);
    cr_assert_eq(c->idle_timeout_ms, 30000);
    cr_assert_eq(c->reload_mode, GW_RELOAD_RESTART);
    cr_assert_eq(c->reload_debounce_ms, 500);
    cr_assert_eq(c->control_ui_enabled, 0);
    cr_assert_str_eq(c->control_ui_base_path, "/ui");
    cr_assert_eq(c->plugin_path_count, 1);
    cr_assert_str_eq(c->plugin_paths[0], "/opt/openclaw/plugins");
    cr_assert_eq(c->plugin_load_count, 5);
    cr_assert_str_eq(c->plugin_load[4], "storage-postgres");
    cr_assert_str_eq(c->storage_type, "postgres");
    cr_assert_eq(c->health_check, 0);
    cr_assert_eq(c->metrics_port, 0);

    cr_assert_eq(c->provider_count, 2);
    cr_assert_str_eq(c->providers[1].name, "claude");
    cr_assert_str_eq(c->providers[1].type, "anthropic");
    cr_assert_eq(c->providers[1].node, gw_cfg_find(c->root, "providers[1]"));
    cr_assert_eq(gw_config_provider(c, "openai"), &c->providers[0]);
    cr_assert_null(gw_config_provider(c, "nope"));

    const gw_agent_defaults_cfg_t *ad = &c->agent_defaults;
    cr_assert_str_eq(ad->model.primary, "openai/gpt-4o-mini");
    cr_assert_eq(ad->model.fallback_count, 2);
    cr_assert_str_eq(ad->model.fallbacks[1], "fast");
    cr_assert_eq(ad->model_count, 3);
    cr_assert_str_eq(ad->models[1].model, "claude/claude-3.5-sonnet");
    cr_assert_str_eq(ad->models[1].alias, "smart");
    cr_assert_null(ad->models[2].alias);
    cr_assert_str_eq(ad->system_prompt, "You are helpful.");
    cr_assert_eq(ad->history_limit, 20);
    cr_assert_eq(ad->timeout_seconds, 120);
    cr_assert_eq(ad->max_concurrent, 8);

    cr_assert_eq(c->agent_count, 3);
    cr_assert_eq(c->default_agent, 1);
    cr_assert_eq(c->agents[0].is_default, 0);
    const gw_agent_cfg_t *s = gw_config_agent(c, "support");
    cr_assert_eq(s, &c->agents[1]);
    cr_assert_eq(s->is_default, 1);
    cr_assert_str_eq(s->name, "Support");
    cr_assert_str_eq(s->system_prompt, "Be brief.");
    cr_assert_str_eq(s->model.primary, "smart");
    cr_assert_eq(s->mention_pattern_count, 2);
    cr_assert_str_eq(s->mention_patterns[0], "@?support");
    cr_assert_null(c->agents[0].model.primary);
    cr_assert_str_eq(c->agents[2].model.fallbacks[0], "openai/gpt-4o-mini");

    cr_assert_eq(c->binding_count, 2);
    cr_assert_str_eq(c->bindings[0].agent_id, "support");
    cr_assert_str_eq(c->bindings[0].channel, "telegram");
    cr_assert_str_eq(c->bindings[0].account_id, "acct1");
    cr_assert_eq(c->bindings[0].peer_kind, GW_PEER_GROUP);
    cr_assert_str_eq(c->bindings[0].peer_id, "-100123");
    cr_assert_null(c->bindings[1].account_id);
    cr_assert_eq(c->bindings[1].peer_kind, 0);

    cr_assert_eq(c->session.dm_scope, GW_DM_SCOPE_PER_CHANNEL_PEER);
    cr_assert_eq(c->session.reset_mode, GW_RESET_DAILY);
    cr_assert_eq(c->session.reset_at_hour, 3);
    cr_assert_eq(c->session.reset_idle_minutes, 30);
    cr_assert_str_eq(c->session.reset_triggers[1], "/start");
    cr_assert_eq(c->queue.mode, GW_QUEUE_INTERRUPT);
    cr_assert_eq(c->queue.debounce_ms, 200);
    cr_assert_eq(c->queue.cap, 5);
    cr_assert_eq(c->queue.drop, GW_QUEUE_DROP_NEW);
    cr_assert_str_eq(c->identity.name, "Claw");
    cr_assert_str_eq(c->identity.emoji, "🦀");
    gw_config_free(c);
}

Test(schema, plugin_sections_are_left_unmarked)
{
    gw_config_t *c = cfg_load_ok(NULL, full);
    const char *unmarked[] = {"auth", "auth.apiKey", "auth.rateLimit", "channels",
                              "channels.telegram", "channels.telegram.botToken",
                              "storage.url", "providers[0].apiKey", "providers[0].baseUrl",
                              "providers[0].models", "providers[1].apiKey"};
    for (size_t i = 0; i < sizeof(unmarked) / sizeof(unmarked[0]); i++) {
        gw_cfg_node_t *n = gw_cfg_find(c->root, unmarked[i]);
        cr_assert_not_null(n, "%s", unmarked[i]);
        cr_assert_eq(n->used, 0, "%s was marked used", unmarked[i]);
    }
    const char *marked[] = {"server.port", "storage.type", "providers[0].name",
                            "providers[1].type", "agents.list", "monitoring.metricsPort"};
    for (size_t i = 0; i < sizeof(marked) / sizeof(marked[0]); i++)
        cr_assert_eq(gw_cfg_find(c->root, marked[i])->used, 1, "%s", marked[i]);
    /* what a plugin host does after the plugins read their sections */
    gw_diag_t d = GW_DIAG_INIT;
    cr_assert_eq(gw_cfg_report_unused(gw_cfg_find(c->root, "channels.telegram"), &d), 3);
    cr_assert_eq(gw_cfg_report_unused(gw_cfg_find(c->root, "channels"), &d), 1);
    gw_cfg_mark_used(gw_cfg_find(c->root, "channels.telegram"));
    cr_assert_eq(gw_cfg_report_unused(gw_cfg_find(c->root, "channels"), &d), 3);
    gw_diag_free(&d);
    gw_config_free(c);
}

Test(schema, unknown_keys_in_core_sections)
{
    gw_diag_t d = GW_DIAG_INIT;
    cfg_load_fail(NULL,
                  "sever: {}\n"
                  "server:\n"
                  "  prot: 3000\n"
                  "  limits: {maxBodyByte: 10}\n"
                  "plugins: {lod: []}\n"
                  "monitoring: {metricsport: 9000}\n"
                  "agents: {defaults: {histroyLimit: 3}, list: [{id: a, nmae: x}]}\n"
                  "bindings: [{agentId: a, match: {channel: x, acountId: y}}]\n"
                  "session: {dmscope: main}\n"
                  "messages: {queue: {mode: followup, captain: 1}, inbound: {}}\n"
                  "identity: {nmae: x}\n"
                  "x-anchors: {anything: goes}\n",
                  &d);
    cfg_expect(&d, "t.yaml:1:1: unknown key 'sever' at the top level (did you mean 'server'?)");
    cfg_expect(&d, "t.yaml:3:3: unknown key 'prot' in server (did you mean 'port'?)");
    cfg_expect(&d, "t.yaml:4:12: unknown key 'maxBodyByte' in server.limits (did you mean "
                   "'maxBodyBytes'?)");
    cfg_expect(&d, "t.yaml:5:11: unknown key 'lod' in plugins (did you mean 'load'?)");
    cfg_expect(&d, "t.yaml:6:14: unknown key 'metricsport' in monitoring (did you mean "
                   "'metricsPort'?)");
    cfg_expect(&d, "t.yaml:7:21: unknown key 'histroyLimit' in agents.defaults (did you mean "
                   "'historyLimit'?)");
    cfg_expect(&d, "t.yaml:7:54: unknown key 'nmae' in agents.list[0] (did you mean 'name'?)");
    cfg_expect(&d, "t.yaml:8:45: unknown key 'acountId' in bindings[0].match (did you mean "
                   "'accountId'?)");
    cfg_expect(&d, "t.yaml:9:11: unknown key 'dmscope' in session (did you mean 'dmScope'?)");
    cfg_expect(&d, "t.yaml:10:36: unknown key 'captain' in messages.queue (remove it; known "
                   "keys here: mode, debounceMs, cap, drop)");
    cfg_expect(&d, "t.yaml:10:49: unknown key 'inbound' in messages (remove it; known keys "
                   "here: queue)");
    cfg_expect(&d, "t.yaml:11:12: unknown key 'nmae' in identity (did you mean 'name'?)");
    cfg_expect_count(&d, 12);
    gw_diag_free(&d);
}

Test(schema, server_errors)
{
    gw_diag_t d = GW_DIAG_INIT;
    cfg_load_fail(NULL,
                  "server:\n"
                  "  port: \"80a\"\n"
                  "  logLevel: verbose\n"
                  "  logFormat: xml\n"
                  "  workers: 0\n"
                  "  cors: {enabled: maybe, origins: [\"https://a.com/\", \"ftp://x\", \"*\"]}\n"
                  "  limits: {maxBodyBytes: 0, maxHeaderBytes: 100}\n"
                  "  reload: {mode: sometimes, debounceMs: -1}\n"
                  "  controlUi: {basePath: ui}\n",
                  &d);
    cfg_expect(&d, "t.yaml:2:9: server.port: expected an integer from 1 to 65535, got \"80a\" "
                   "(write a whole number in digits, without units or a decimal point)");
    cfg_expect(&d, "t.yaml:3:13: server.logLevel: expected one of debug, info, warn, error, "
                   "got \"verbose\" (use one of those values)");
    cfg_expect(&d, "t.yaml:4:14: server.logFormat: expected one of pretty, json, got \"xml\" "
                   "(use one of those values)");
    cfg_expect(&d, "t.yaml:5:12: server.workers: expected an integer from 1 to 256, got 0 "
                   "(out of range)");
    cfg_expect(&d, "t.yaml:6:19: server.cors.enabled: expected true or false, got \"maybe\" "
                   "(yes/no and on/off work too)");
    cfg_expect(&d, "t.yaml:6:36: server.cors.origins[0]: expected \"*\" or an origin like "
                   "https://app.example.com, got \"https://a.com/\" (scheme://host[:port], no "
                   "path or trailing /)");
    cfg_expect(&d, "t.yaml:6:54: server.cors.origins[1]: expected \"*\" or an origin like "
                   "https://app.example.com, got \"ftp://x\" (scheme://host[:port], no path or "
                   "trailing /)");
    cfg_expect(&d, "t.yaml:7:26: server.limits.maxBodyBytes: expected an integer from 1 to "
                   "1073741824, got 0 (out of range)");
    cfg_expect(&d, "t.yaml:7:45: server.limits.maxHeaderBytes: expected an integer from 1024 "
                   "to 1048576, got 100 (out of range)");
    cfg_expect(&d, "t.yaml:8:18: server.reload.mode: expected one of hybrid, hot, restart, "
                   "off, got \"sometimes\" (use one of those values)");
    cfg_expect(&d, "t.yaml:8:41: server.reload.debounceMs: expected an integer from 0 to "
                   "60000, got -1 (out of range)");
    cfg_expect(&d, "t.yaml:9:25: server.controlUi.basePath: expected a URL path starting with "
                   "/, got \"ui\" (for example /openclaw)");
    cfg_expect_count(&d, 12);
    gw_diag_free(&d);
}

Test(schema, tls)
{
    gw_diag_t d = GW_DIAG_INIT;
    cfg_load_fail(NULL, "server:\n  tls:\n    certPath: /nonexistent/cert.pem\n", &d);
    cfg_expect(&d, "t.yaml:2:3: server.tls: missing required key 'keyPath' (server.tls needs "
                   "both certPath and keyPath, PEM files)");
    cfg_expect(&d, "t.yaml:3:15: server.tls.certPath: cannot read /nonexistent/cert.pem: No "
                   "such file or directory");
    cfg_expect_count(&d, 2);
    gw_diag_free(&d);

    cfg_load_fail(NULL, "server: {tls: on}\n", &d);
    cfg_expect(&d, "t.yaml:1:15: server.tls: expected a map, got \"on\" (write the keys "
                   "indented under 'tls:', or {key: value})");
    gw_diag_free(&d);

    char *cert = strdup(cfg_write("c.pem", "x"));
    char *key = strdup(cfg_write("k.pem", "x"));
    char yaml[1200];
    snprintf(yaml, sizeof(yaml), "server: {tls: {certPath: %s, keyPath: %s}}\n", cert, key);
    gw_config_t *c = cfg_load_ok(NULL, yaml);
    cr_assert_str_eq(c->tls_cert_path, cert);
    cr_assert_str_eq(c->tls_key_path, key);
    gw_config_free(c);
    free(cert);
    free(key);
}

Test(schema, monitoring_and_storage)
{
    gw_diag_t d = GW_DIAG_INIT;
    cfg_load_fail(NULL, "server: {port: 9100}\nmonitoring: {metricsPort: 9100, healthCheck: "
                        "1}\nstorage: {type: sqlite3}\nauth: [x]\nchannels: on\n", &d);
    cfg_expect(&d, "t.yaml:2:27: monitoring.metricsPort: port 9100 is also server.port "
                   "(metrics get their own listener: pick another port, or 0 to turn it off)");
    cfg_expect(&d, "t.yaml:2:46: monitoring.healthCheck: expected true or false, got \"1\" "
                   "(yes/no and on/off work too)");
    cfg_expect(&d, "t.yaml:3:17: storage.type: expected one of sqlite, postgres, redis, got "
                   "\"sqlite3\" (did you mean 'sqlite'?)");
    cfg_expect(&d, "t.yaml:4:7: auth: expected a map, got a list (write the keys indented "
                   "under 'auth:')");
    cfg_expect(&d, "t.yaml:5:11: channels: expected a map, got a string (write the keys "
                   "indented under 'channels:')");
    cfg_expect_count(&d, 5);
    gw_diag_free(&d);
}

Test(schema, plugins)
{
    gw_diag_t d = GW_DIAG_INIT;
    cfg_load_fail(NULL, "plugins:\n  path: /one/dir\n  load:\n    - provider-openai\n"
                        "    - \"bad name!\"\n    - provider-openai\n", &d);
    cfg_expect(&d, "t.yaml:2:9: plugins.path: expected a list of strings, got \"/one/dir\" "
                   "(write [a, b] or one '- item' per line)");
    cfg_expect(&d, "t.yaml:5:7: plugins.load[1]: expected a plugin name (like provider-openai) "
                   "or a path to a .so file, got \"bad name!\"");
    cfg_expect(&d, "t.yaml:6:7: plugins.load[2]: plugin \"provider-openai\" is listed twice "
                   "(also at line 4; keep one)");
    cfg_expect_count(&d, 3);
    gw_diag_free(&d);
}

Test(schema, providers)
{
    gw_diag_t d = GW_DIAG_INIT;
    cfg_load_fail(NULL,
                  "providers:\n"
                  "  - {type: openai}\n"
                  "  - {name: OpenAI, type: openai}\n"
                  "  - {name: a, type: openai}\n"
                  "  - {name: a}\n"
                  "  - just-a-name\n"
                  "  - {name: b, type: {x: 1}}\n",
                  &d);
    cfg_expect(&d, "t.yaml:2:5: providers[0]: missing required key 'name' (models are "
                   "referenced as <name>/<model>)");
    cfg_expect(&d, "t.yaml:3:12: providers[1].name: expected a name of a-z, 0-9, _ and -, got "
                   "\"OpenAI\"");
    cfg_expect(&d, "t.yaml:5:12: providers[3].name: duplicate provider name \"a\" (also "
                   "providers[2] at line 4; names must be unique)");
    cfg_expect(&d, "t.yaml:5:5: providers[3]: missing required key 'type' (the provider "
                   "plugin: openai, anthropic, mock, ...)");
    cfg_expect(&d, "t.yaml:6:5: providers[4]: expected a map like {name: openai, type: openai, "
                   "apiKey: ...}, got a string");
    cfg_expect(&d, "t.yaml:7:21: providers[5].type: expected a string, got a map (write one "
                   "value on the same line, quoted if it contains ': ' or ' #')");
    cfg_expect_count(&d, 6);
    gw_diag_free(&d);

    cfg_load_fail(NULL, "providers: {name: a}\n", &d);
    cfg_expect(&d, "t.yaml:1:12: providers: expected a list, got a map (write [a, b] or one "
                   "'- item' per line)");
    gw_diag_free(&d);
}

Test(schema, agents)
{
    gw_diag_t d = GW_DIAG_INIT;
    cfg_load_fail(NULL,
                  "agents:\n"
                  "  defaults: {historyLimit: -1, timeoutSeconds: 0, maxConcurrent: 0}\n"
                  "  list:\n"
                  "    - {id: main, default: true}\n"
                  "    - {id: main}\n"
                  "    - {id: Sales, default: yes}\n"
                  "    - {name: no id}\n"
                  "    - {id: two, default: true}\n",
                  &d);
    cfg_expect(&d, "t.yaml:2:28: agents.defaults.historyLimit: expected an integer from 0 to "
                   "100000, got -1 (out of range)");
    cfg_expect(&d, "t.yaml:2:48: agents.defaults.timeoutSeconds: expected an integer from 1 "
                   "to 604800, got 0 (out of range)");
    cfg_expect(&d, "t.yaml:2:66: agents.defaults.maxConcurrent: expected an integer from 1 to "
                   "1024, got 0 (out of range)");
    cfg_expect(&d, "t.yaml:5:12: agents.list[1].id: duplicate agent id \"main\" (ids must be "
                   "unique)");
    cfg_expect(&d, "t.yaml:6:12: agents.list[2].id: expected an id of a-z, 0-9, _ and - (at "
                   "most 64), got \"Sales\"");
    cfg_expect(&d, "t.yaml:7:7: agents.list[3]: missing required key 'id' (a short name of "
                   "a-z, 0-9, _ and -)");
    cfg_expect(&d, "t.yaml:8:26: agents.list[4].default: only one agent can be the default "
                   "(agents.list[0] at line 4 already is)");
    cfg_expect_count(&d, 7);
    gw_diag_free(&d);

    cfg_load_fail(NULL, "agents: {list: []}\n", &d);
    cfg_expect(&d, "t.yaml:1:16: agents.list: the list is empty (add an agent like {id: main}, "
                   "or remove agents.list to get the default agent 'main')");
    gw_diag_free(&d);
}

Test(schema, first_agent_is_the_default_without_a_flag)
{
    gw_config_t *c = cfg_load_ok(NULL, "agents: {list: [{id: a}, {id: b}]}\n");
    cr_assert_eq(c->default_agent, 0);
    cr_assert_eq(c->agents[0].is_default, 1);
    cr_assert_eq(c->agents[1].is_default, 0);
    gw_config_free(c);
}

Test(schema, mention_patterns_must_compile)
{
    regex_t re;
    int err = regcomp(&re, "(unclosed", REG_EXTENDED | REG_NOSUB);
    cr_assert_neq(err, 0);
    char why[256], want[512];
    regerror(err, &re, why, sizeof(why));
    snprintf(want, sizeof(want), "t.yaml:3:49: agents.list[0].groupChat.mentionPatterns[1]: "
                                 "invalid regular expression \"(unclosed\": %s (POSIX extended "
                                 "syntax; escape special characters with \\)", why);
    gw_diag_t d = GW_DIAG_INIT;
    cfg_load_fail(NULL, "agents:\n  list:\n    - {id: a, groupChat: {mentionPatterns: [ok, "
                        "\"(unclosed\"]}}\n", &d);
    cfg_expect(&d, want);
    cfg_expect_count(&d, 1);
    gw_diag_free(&d);
}

Test(schema, model_references)
{
    gw_diag_t d = GW_DIAG_INIT;
    cfg_load_fail(NULL,
                  "providers: [{name: openai, type: openai}, {name: claude, type: anthropic}]\n"
                  "agents:\n"
                  "  defaults:\n"
                  "    models:\n"
                  "      gpt4: {alias: x}\n"
                  "      openai/a: {alias: fast}\n"
                  "      openai/b: {alias: fast}\n"
                  "      opnai/c: {alias: \"p/q\"}\n"
                  "      openai/d: yes\n"
                  "    model: {fallbacks: [slow, /x]}\n"
                  "  list:\n"
                  "    - {id: a, model: [x]}\n"
                  "    - {id: b, model: \"claude/\"}\n",
                  &d);
    cfg_expect(&d, "t.yaml:5:7: agents.defaults.models.gpt4: expected a key of the form "
                   "'provider/model', got \"gpt4\" (for example \"openai/gpt-4o-mini\")");
    cfg_expect(&d, "t.yaml:7:25: agents.defaults.models.openai/b.alias: alias \"fast\" is used "
                   "twice in agents.defaults.models (aliases must be unique)");
    cfg_expect(&d, "t.yaml:8:16: agents.defaults.models.opnai/c: unknown provider 'opnai' in "
                   "\"opnai/c\" (providers[] names: openai, claude)");
    cfg_expect(&d, "t.yaml:8:24: agents.defaults.models.opnai/c.alias: expected a short name "
                   "without '/', got \"p/q\"");
    cfg_expect(&d, "t.yaml:9:17: agents.defaults.models.openai/d: expected a map like {alias: "
                   "fast}, got a string");
    cfg_expect(&d, "t.yaml:10:5: agents.defaults.model: missing required key 'primary' (the "
                   "model tried first, as provider/model)");
    cfg_expect(&d, "t.yaml:10:25: agents.defaults.model.fallbacks[0]: expected "
                   "'provider/model' or an alias from agents.defaults.models, got \"slow\"");
    cfg_expect(&d, "t.yaml:10:31: agents.defaults.model.fallbacks[1]: expected "
                   "'provider/model', got \"/x\" (for example openai/gpt-4o-mini)");
    cfg_expect(&d, "t.yaml:12:22: agents.list[0].model: expected 'provider/model' or "
                   "{primary, fallbacks}, got a list");
    cfg_expect(&d, "t.yaml:13:22: agents.list[1].model: expected 'provider/model', got "
                   "\"claude/\" (for example openai/gpt-4o-mini)");
    cfg_expect_count(&d, 10);
    gw_diag_free(&d);

    /* without providers[] (dev, tests) any provider/model is accepted */
    gw_config_t *c = cfg_load_ok(NULL, "agents: {defaults: {model: mock/echo}}\n");
    cr_assert_str_eq(c->agent_defaults.model.primary, "mock/echo");
    gw_config_free(c);
}

Test(schema, bindings)
{
    gw_diag_t d = GW_DIAG_INIT;
    cfg_load_fail(NULL,
                  "agents: {list: [{id: main}, {id: support}]}\n"
                  "bindings:\n"
                  "  - {agentId: suport, match: {channel: telegram}}\n"
                  "  - {agentId: billing, match: {channel: telegram}}\n"
                  "  - {match: {accountId: x}}\n"
                  "  - {agentId: main}\n"
                  "  - {agentId: main, match: {channel: slack, peer: {kind: dm}}}\n"
                  "  - {agentId: main, match: {channel: slack, peer: {}}}\n",
                  &d);
    cfg_expect(&d, "t.yaml:3:15: bindings[0].agentId: unknown agent \"suport\" (did you mean "
                   "'support'?)");
    cfg_expect(&d, "t.yaml:4:15: bindings[1].agentId: unknown agent \"billing\" (agents: main, "
                   "support)");
    cfg_expect(&d, "t.yaml:5:5: bindings[2]: missing required key 'agentId' (an id from "
                   "agents.list, or main)");
    cfg_expect(&d, "t.yaml:5:6: bindings[2].match: missing required key 'channel' (the "
                   "channel name, as under channels:)");
    cfg_expect(&d, "t.yaml:6:5: bindings[3]: missing required key 'match' ({channel: telegram, "
                   "accountId: ..., peer: {kind, id}})");
    cfg_expect(&d, "t.yaml:7:58: bindings[4].match.peer.kind: expected one of direct, group, "
                   "got \"dm\" (use one of those values)");
    cfg_expect(&d, "t.yaml:7:45: bindings[4].match.peer: missing required key 'id' (the "
                   "platform's user or group id, or \"*\")");
    cfg_expect(&d, "t.yaml:8:45: bindings[5].match.peer: missing required key 'kind' (direct "
                   "or group)");
    cfg_expect(&d, "t.yaml:8:45: bindings[5].match.peer: missing required key 'id' (the "
                   "platform's user or group id, or \"*\")");
    cfg_expect_count(&d, 9);
    gw_diag_free(&d);

    /* without agents.list, "main" is the one agent */
    gw_config_t *c = cfg_load_ok(NULL, "bindings: [{agentId: main, match: {channel: x}}]\n");
    cr_assert_str_eq(c->bindings[0].agent_id, "main");
    gw_config_free(c);
}

Test(schema, session_and_messages)
{
    gw_diag_t d = GW_DIAG_INIT;
    cfg_load_fail(NULL,
                  "session:\n"
                  "  dmScope: per-user\n"
                  "  reset: {mode: weekly, atHour: 24, idleMinutes: 0}\n"
                  "  resetTriggers: [\"\", /new]\n"
                  "messages:\n"
                  "  queue: {mode: steer, debounceMs: 1s, cap: 0, drop: summarize}\n",
                  &d);
    cfg_expect(&d, "t.yaml:2:12: session.dmScope: expected one of main, per-peer, "
                   "per-channel-peer, per-account-channel-peer, got \"per-user\" (did you mean "
                   "'per-peer'?)");
    cfg_expect(&d, "t.yaml:3:17: session.reset.mode: expected one of none, daily, idle, got "
                   "\"weekly\" (use one of those values)");
    cfg_expect(&d, "t.yaml:3:33: session.reset.atHour: expected an integer from 0 to 23, got "
                   "24 (out of range)");
    cfg_expect(&d, "t.yaml:3:50: session.reset.idleMinutes: expected an integer from 1 to "
                   "525600, got 0 (out of range)");
    cfg_expect(&d, "t.yaml:4:19: session.resetTriggers[0]: expected a command like \"/new\", "
                   "got an empty string");
    cfg_expect(&d, "t.yaml:6:17: messages.queue.mode: expected one of followup, collect, "
                   "interrupt, got \"steer\" (use one of those values)");
    cfg_expect(&d, "t.yaml:6:36: messages.queue.debounceMs: expected an integer from 0 to "
                   "600000, got \"1s\" (write a whole number in digits, without units or a "
                   "decimal point)");
    cfg_expect(&d, "t.yaml:6:45: messages.queue.cap: expected an integer from 1 to 100000, got "
                   "0 (out of range)");
    cfg_expect(&d, "t.yaml:6:54: messages.queue.drop: expected one of old, new, got "
                   "\"summarize\" (use one of those values)");
    cfg_expect_count(&d, 9);
    gw_diag_free(&d);
}

Test(schema, null_sections_are_empty)
{
    gw_config_t *c = cfg_load_ok(NULL, "server:\nplugins:\nagents:\nsession:\nmessages:\n"
                                       "identity:\nmonitoring:\nstorage:\nauth:\nchannels:\n");
    cr_assert_eq(c->port, 3000);
    cr_assert_eq(c->agent_count, 1);
    gw_config_free(c);
}

Test(schema, every_problem_in_one_run)
{
    gw_diag_t d = GW_DIAG_INIT;
    cfg_load_fail(NULL, "server: {port: 0, host: \"a b\"}\nstorage: {type: x}\nextra: 1\n", &d);
    cfg_expect_count(&d, 4);
    gw_diag_free(&d);
}
