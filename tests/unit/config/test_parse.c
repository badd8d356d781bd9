/* The YAML parser: positions, paths, errors, aliases, nulls, the tree API. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "config/parse.h"
#include "helpers.h"

TestSuite(parse, .init = cfg_setup, .fini = cfg_teardown);

static int parse_fail(const char *yaml, gw_diag_t *d)
{
    gw_cfg_node_t *root = (gw_cfg_node_t *)1;
    int rc = gw_cfg_parse_string("t.yaml", yaml, &root, d);
    cr_assert_neq(root, (gw_cfg_node_t *)1);
    /* Syntax errors give no tree; value problems give the tree back. */
    gw_cfg_free(root);
    return rc;
}

Test(parse, positions_and_paths)
{
    gw_cfg_node_t *root = cfg_parse_ok("server:\n"
                                       "  port: 3000\n"
                                       "  host: \"127.0.0.1\"\n"
                                       "providers:\n"
                                       "  - name: openai\n"
                                       "    type: openai\n");
    cr_assert_eq(root->type, OC_CFG_MAP);
    cr_assert_str_eq(root->path, "");
    cr_assert_str_eq(root->file, "t.yaml");

    gw_cfg_node_t *server = gw_cfg_find(root, "server");
    cr_assert_eq(server->type, OC_CFG_MAP);
    cr_assert_eq(server->key_line, 1);
    cr_assert_eq(server->key_col, 1);
    cr_assert_eq(server->line, 2); /* a block map starts at its first key */
    cr_assert_eq(server->col, 3);

    gw_cfg_node_t *port = gw_cfg_find(root, "server.port");
    cr_assert_str_eq(port->scalar, "3000");
    cr_assert_str_eq(port->path, "server.port");
    cr_assert_eq(port->line, 2);
    cr_assert_eq(port->col, 9);
    cr_assert_eq(port->key_line, 2);
    cr_assert_eq(port->key_col, 3);
    cr_assert_eq(port->quoted, 0);
    cr_assert_str_eq(port->file, "t.yaml");
    cr_assert_null(port->origin);

    gw_cfg_node_t *host = gw_cfg_find(root, "server.host");
    cr_assert_eq(host->quoted, 1);
    cr_assert_eq(host->col, 9);

    gw_cfg_node_t *name = gw_cfg_find(root, "providers[0].name");
    cr_assert_not_null(name);
    cr_assert_str_eq(name->path, "providers[0].name");
    cr_assert_eq(name->line, 5);
    cr_assert_eq(name->col, 11);
    gw_cfg_node_t *entry = gw_cfg_find(root, "providers[0]");
    cr_assert_eq(entry->line, 5);
    cr_assert_eq(entry->col, 5);
    cr_assert_str_eq(entry->path, "providers[0]");
    cr_assert_eq(entry->parent, gw_cfg_find(root, "providers"));
    gw_cfg_free(root);
}

Test(parse, flow_style_positions)
{
    gw_cfg_node_t *root = cfg_parse_ok("server: {port: 1, cors: {origins: [a, b]}}\n");
    gw_cfg_node_t *b = gw_cfg_find(root, "server.cors.origins[1]");
    cr_assert_str_eq(b->scalar, "b");
    cr_assert_str_eq(b->path, "server.cors.origins[1]");
    cr_assert_eq(b->line, 1);
    cr_assert_eq(b->col, 39);
    gw_cfg_free(root);
}

Test(parse, quoted_keys_in_paths)
{
    gw_cfg_node_t *root = cfg_parse_ok("agents:\n"
                                       "  defaults:\n"
                                       "    models:\n"
                                       "      \"openai/gpt-4.1\": {alias: smart}\n"
                                       "      openai/gpt-4o: {alias: fast}\n");
    gw_cfg_node_t *a = gw_cfg_find(root, "agents.defaults.models.\"openai/gpt-4.1\".alias");
    cr_assert_not_null(a);
    cr_assert_str_eq(a->path, "agents.defaults.models.\"openai/gpt-4.1\".alias");
    a = gw_cfg_find(root, "agents.defaults.models.openai/gpt-4o.alias");
    cr_assert_str_eq(a->scalar, "fast");
    cr_assert_null(gw_cfg_find(root, "agents.defaults.models.\"unterminated"));
    cr_assert_null(gw_cfg_find(root, "agents..defaults"));
    cr_assert_null(gw_cfg_find(root, "agents[0]"));
    gw_cfg_free(root);
}

Test(parse, empty_and_comment_only_files_are_empty_maps)
{
    const char *docs[] = {"", "# nothing here\n", "---\n", "~\n", "\n\n"};
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        gw_cfg_node_t *root = cfg_parse_ok(docs[i]);
        cr_assert_eq(root->type, OC_CFG_MAP);
        cr_assert_eq(gw_cfg_len(root), 0);
        gw_cfg_free(root);
    }
}

Test(parse, nulls_and_quoted_null)
{
    gw_cfg_node_t *root = cfg_parse_ok("a:\nb: ~\nc: null\nd: \"null\"\ne: !!str 12\nf: ''\n");
    cr_assert_eq(gw_cfg_type(gw_cfg_find(root, "a")), OC_CFG_NULL);
    cr_assert_eq(gw_cfg_type(gw_cfg_find(root, "b")), OC_CFG_NULL);
    cr_assert_eq(gw_cfg_type(gw_cfg_find(root, "c")), OC_CFG_NULL);
    cr_assert_str_eq(gw_cfg_scalar(gw_cfg_find(root, "d")), "null");
    cr_assert_eq(gw_cfg_find(root, "e")->quoted, 1);
    cr_assert_str_eq(gw_cfg_scalar(gw_cfg_find(root, "f")), "");
    gw_cfg_free(root);
}

Test(parse, top_level_must_be_a_map)
{
    gw_diag_t d = GW_DIAG_INIT;
    cr_assert_eq(parse_fail("- a\n- b\n", &d), -EINVAL);
    cfg_expect(&d, "t.yaml:1:1: the top level must be a map of sections (server:, plugins:, "
                   "...), got a list");
    gw_diag_free(&d);
    cr_assert_eq(parse_fail("just text\n", &d), -EINVAL);
    cfg_expect(&d, "t.yaml:1:1: the top level must be a map of sections (server:, plugins:, "
                   "...), got a string");
    gw_diag_free(&d);
}

Test(parse, duplicate_keys_name_both_lines)
{
    gw_diag_t d = GW_DIAG_INIT;
    cr_assert_eq(parse_fail("server:\n  port: 1\n  host: lan\n  port: 2\nserver: {}\n", &d),
                 -EINVAL);
    cfg_expect(&d, "t.yaml:4:3: duplicate key 'port' in server (first defined at line 2; "
                   "keep one)");
    cfg_expect(&d, "t.yaml:5:1: duplicate key 'server' at the top level (first defined at "
                   "line 1; keep one)");
    cfg_expect_count(&d, 2);
    gw_diag_free(&d);
}

Test(parse, duplicate_value_with_nested_duplicates_reports_once)
{
    gw_diag_t d = GW_DIAG_INIT;
    parse_fail("a: 1\na:\n  b: 1\n  b: 2\n  c: ${UNSET_IN_DUPLICATE}\n", &d);
    cfg_expect(&d, "t.yaml:2:1: duplicate key 'a' at the top level (first defined at line 1; "
                   "keep one)");
    cfg_expect_count(&d, 1);
    gw_diag_free(&d);
}

Test(parse, syntax_errors_have_positions_and_context)
{
    gw_diag_t d = GW_DIAG_INIT;
    parse_fail("server:\n  port: 1\n bad: [\n", &d);
    cfg_expect(&d, "t.yaml:3:2: invalid YAML: did not find expected key (while parsing a "
                   "block mapping at line 1, column 1)");
    gw_diag_free(&d);

    parse_fail("a: {b: 1\n", &d);
    cfg_expect(&d, "t.yaml:2:1: invalid YAML: did not find expected ',' or '}' (while parsing "
                   "a flow mapping at line 1, column 4)");
    gw_diag_free(&d);

    parse_fail("key: \"unterminated\n", &d);
    cfg_expect(&d, "t.yaml:2:1: invalid YAML: found unexpected end of stream (while scanning a "
                   "quoted scalar at line 1, column 6)");
    gw_diag_free(&d);
}

Test(parse, tabs_get_a_hint)
{
    gw_diag_t d = GW_DIAG_INIT;
    parse_fail("server:\n\tport: 1\n", &d);
    cfg_expect(&d, "t.yaml:2:1: invalid YAML: found character that cannot start any token "
                   "(while scanning for the next token at line 2, column 1; indent with "
                   "spaces, YAML does not allow tabs)");
    gw_diag_free(&d);
}

Test(parse, invalid_utf8_is_reported)
{
    gw_diag_t d = GW_DIAG_INIT;
    parse_fail("a: 1\nb: \xff\xfe\n", &d);
    cr_assert_eq(d.count, 1);
    cr_assert(strncmp(d.msgs[0], "t.yaml:2:4: invalid YAML: ", 26) == 0, "%s", d.msgs[0]);
    cr_assert(strstr(d.msgs[0], "(the file must be UTF-8 text)"), "%s", d.msgs[0]);
    gw_diag_free(&d);
}

Test(parse, multiple_documents_are_an_error)
{
    gw_diag_t d = GW_DIAG_INIT;
    parse_fail("a: 1\n---\nb: 2\n", &d);
    cfg_expect(&d, "t.yaml:2:1: a second YAML document starts here; a config file holds one "
                   "(remove this '---' and what follows, or merge the two)");
    gw_diag_free(&d);
}

Test(parse, complex_keys_are_rejected)
{
    gw_diag_t d = GW_DIAG_INIT;
    parse_fail("? [a, b]\n: 1\n", &d);
    cfg_expect(&d, "t.yaml:1:3: a map or list used as a key is not supported (keys are plain "
                   "strings)");
    gw_diag_free(&d);
}

Test(parse, aliases_are_deep_copies_with_their_own_paths)
{
    gw_cfg_node_t *root = cfg_parse_ok("x-common: &common\n"
                                       "  timeoutMs: 5000\n"
                                       "  headers: {A: b}\n"
                                       "providers:\n"
                                       "  - name: a\n"
                                       "    opts: *common\n");
    gw_cfg_node_t *t = gw_cfg_find(root, "providers[0].opts.timeoutMs");
    cr_assert_not_null(t);
    cr_assert_str_eq(t->path, "providers[0].opts.timeoutMs");
    cr_assert_eq(t->line, 2); /* inner values: where they were written */
    gw_cfg_node_t *opts = gw_cfg_find(root, "providers[0].opts");
    cr_assert_eq(opts->line, 6); /* the copy itself: where the alias is */
    cr_assert_eq(opts->col, 11);
    cr_assert_neq(opts, gw_cfg_find(root, "x-common"));
    cr_assert_str_eq(gw_cfg_find(root, "providers[0].opts.headers.A")->scalar, "b");
    gw_cfg_free(root);
}

Test(parse, merge_keys)
{
    gw_cfg_node_t *root = cfg_parse_ok("x-base: &base {port: 1, host: lan}\n"
                                       "x-more: &more {host: loopback, workers: 2}\n"
                                       "server:\n"
                                       "  port: 5\n"
                                       "  <<: [*base, *more]\n"
                                       "  workers: 3\n");
    gw_cfg_node_t *s = gw_cfg_find(root, "server");
    cr_assert_eq(gw_cfg_len(s), 3);
    cr_assert_str_eq(gw_cfg_find(root, "server.port")->scalar, "5");    /* explicit wins */
    cr_assert_str_eq(gw_cfg_find(root, "server.host")->scalar, "lan");  /* first source */
    cr_assert_str_eq(gw_cfg_find(root, "server.workers")->scalar, "3"); /* later explicit */
    cr_assert_null(gw_cfg_find(root, "server.<<"));
    gw_cfg_free(root);
}

Test(parse, alias_errors)
{
    gw_diag_t d = GW_DIAG_INIT;
    parse_fail("a: &a [1, *a]\n", &d);
    cfg_expect(&d, "t.yaml:1:11: alias *a is inside the value it refers to (recursive "
                   "aliases are not supported)");
    gw_diag_free(&d);
    parse_fail("a: *nope\n", &d);
    cfg_expect(&d, "t.yaml:1:4: unknown alias *nope (define &nope on a value above this "
                   "line)");
    gw_diag_free(&d);
    parse_fail("a: {<<: 1}\n", &d);
    cfg_expect(&d, "t.yaml:1:9: a merge key (<<) takes a map or a list of maps, got a string");
    gw_diag_free(&d);
}

Test(parse, alias_bombs_are_refused)
{
    gw_diag_t d = GW_DIAG_INIT;
    parse_fail("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
               "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
               "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
               "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
               "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
               "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
               "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
               &d);
    cr_assert_eq(d.count, 1);
    cr_assert(strstr(d.msgs[0], "the document has more than 200000 values"), "%s", d.msgs[0]);
    gw_diag_free(&d);
}

Test(parse, file_errors)
{
    gw_diag_t d = GW_DIAG_INIT;
    gw_cfg_node_t *root = (gw_cfg_node_t *)1;
    cr_assert_eq(gw_cfg_parse_file("/nonexistent/gw/x.yaml", &root, &d), -ENOENT);
    cr_assert_null(root);
    cfg_expect(&d, "cannot read /nonexistent/gw/x.yaml: No such file or directory");
    gw_diag_free(&d);

    cr_assert_eq(gw_cfg_parse_file(cfg_home(), &root, &d), -EISDIR);
    gw_diag_free(&d);

    const char *p = cfg_write("conf/g.yaml", "server:\n  port: 7\n");
    cr_assert_eq(gw_cfg_parse_file(p, &root, &d), 0);
    cr_assert_str_eq(gw_cfg_find(root, "server.port")->file, p);
    gw_cfg_free(root);
}

Test(parse, set_scalar_creates_replaces_and_refuses)
{
    gw_cfg_node_t *root = cfg_parse_ok("server:\n  port: 3000\nauth:\nlist: [a, b]\n");
    cr_assert_eq(gw_cfg_set_scalar(root, "server.port", "4000", "flag --port"), 0);
    gw_cfg_node_t *p = gw_cfg_find(root, "server.port");
    cr_assert_str_eq(p->scalar, "4000");
    cr_assert_str_eq(p->origin, "flag --port");
    cr_assert_str_eq(p->path, "server.port");

    /* "auth:" (null) becomes a map */
    cr_assert_eq(gw_cfg_set_scalar(root, "auth.apiKey", "k", "env OPENCLAW_API_KEY"), 0);
    cr_assert_eq(gw_cfg_find(root, "auth")->type, OC_CFG_MAP);
    cr_assert_eq(gw_cfg_find(root, "auth")->key_line, 3);
    cr_assert_eq(gw_cfg_find(root, "auth.apiKey")->secret, 1);

    /* new intermediate maps */
    cr_assert_eq(gw_cfg_set_scalar(root, "storage.type", "redis", NULL), 0);
    cr_assert_str_eq(gw_cfg_find(root, "storage.type")->path, "storage.type");
    /* existing list items */
    cr_assert_eq(gw_cfg_set_scalar(root, "list[1]", "c", NULL), 0);
    cr_assert_str_eq(gw_cfg_find(root, "list[1]")->scalar, "c");

    cr_assert_eq(gw_cfg_set_scalar(root, "server.port.x", "1", NULL), -EINVAL);
    cr_assert_eq(gw_cfg_set_scalar(root, "list[5]", "1", NULL), -EINVAL);
    cr_assert_eq(gw_cfg_set_scalar(root, "a..b", "1", NULL), -EINVAL);
    cr_assert_eq(gw_cfg_set_scalar(root, "", "1", NULL), -EINVAL);
    gw_cfg_free(root);

    gw_cfg_node_t *empty = gw_cfg_new_root(NULL);
    cr_assert_eq(gw_cfg_set_scalar(empty, "server.host", "lan", "env OPENCLAW_HOST"), 0);
    cr_assert_str_eq(gw_cfg_find(empty, "server.host")->scalar, "lan");
    gw_cfg_free(empty);
}

Test(parse, secret_keys)
{
    const char *yes[] = {"apiKey", "token", "botToken", "secret", "password", "signingSecret",
                         "appSecret", "bearerToken", "APIKEY", "webhookToken", "Authorization",
                         "clientSecret", "dbPassword"};
    const char *no[] = {"name", "keyPath", "maxTokens", "certPath", "baseUrl", "secrets"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        cr_assert(gw_cfg_key_is_secret(yes[i]), "%s", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        cr_assert(!gw_cfg_key_is_secret(no[i]), "%s", no[i]);

    gw_cfg_node_t *root = cfg_parse_ok("providers:\n"
                                       "  - {name: a, apiKey: sk-1, headers: {Authorization: "
                                       "Bearer x, X-Org: o}}\n"
                                       "channels: {telegram: {botToken: 123:abc}}\n");
    cr_assert(gw_cfg_is_secret(gw_cfg_find(root, "providers[0].apiKey")));
    cr_assert(gw_cfg_is_secret(gw_cfg_find(root, "providers[0].headers.Authorization")));
    cr_assert(!gw_cfg_is_secret(gw_cfg_find(root, "providers[0].headers.X-Org")));
    cr_assert(gw_cfg_is_secret(gw_cfg_find(root, "channels.telegram.botToken")));

    gw_buf_t b = GW_BUF_INIT;
    cr_assert_eq(gw_cfg_to_json(root, &b, GW_CFG_JSON_REDACT), 0);
    cr_assert_str_eq(b.data, "{\"providers\":[{\"name\":\"a\",\"apiKey\":\"***\",\"headers\":"
                             "{\"Authorization\":\"***\",\"X-Org\":\"o\"}}],\"channels\":"
                             "{\"telegram\":{\"botToken\":\"***\"}}}");
    gw_buf_reset(&b);
    cr_assert_eq(gw_cfg_to_json(gw_cfg_find(root, "channels.telegram.botToken"), &b, 0), 0);
    cr_assert_str_eq(b.data, "\"123:abc\"");
    gw_buf_reset(&b);
    cr_assert_eq(gw_cfg_to_json(gw_cfg_find(root, "channels.telegram.botToken"), &b,
                                GW_CFG_JSON_REDACT), 0);
    cr_assert_str_eq(b.data, "\"***\"");
    gw_buf_free(&b);
    gw_cfg_free(root);
}

Test(parse, json_types)
{
    gw_cfg_node_t *root = cfg_parse_ok("a: 1\nb: \"2\"\nc: true\nd: 1.5\ne:\nf: [x, -3, 007]\n"
                                       "g: \"q\\\"uote\"\n");
    gw_buf_t b = GW_BUF_INIT;
    cr_assert_eq(gw_cfg_to_json(root, &b, 0), 0);
    cr_assert_str_eq(b.data, "{\"a\":1,\"b\":\"2\",\"c\":true,\"d\":\"1.5\",\"e\":null,"
                             "\"f\":[\"x\",-3,\"007\"],\"g\":\"q\\\"uote\"}");
    gw_buf_free(&b);
    gw_cfg_free(root);
}

Test(parse, iteration_marks_used_and_lookup_does_not)
{
    gw_cfg_node_t *root = cfg_parse_ok("m: {a: 1, b: 2}\nl: [x]\n");
    gw_cfg_node_t *m = gw_cfg_find(root, "m");
    cr_assert_eq(m->used, 0);
    cr_assert_eq(gw_cfg_child(root, "m"), m);
    cr_assert_eq(m->used, 1);
    cr_assert_eq(gw_cfg_len(m), 2);
    cr_assert_str_eq(gw_cfg_key_at(m, 1), "b");
    cr_assert_eq(gw_cfg_lookup(m, "a")->used, 0);
    cr_assert_str_eq(gw_cfg_scalar(gw_cfg_at(m, 0)), "1");
    cr_assert_eq(gw_cfg_lookup(m, "a")->used, 1);
    cr_assert_null(gw_cfg_at(m, 2));
    cr_assert_null(gw_cfg_key_at(gw_cfg_find(root, "l"), 0));
    cr_assert_str_eq(gw_cfg_key_of(gw_cfg_lookup(m, "b")), "b");
    cr_assert_null(gw_cfg_child(gw_cfg_find(root, "l"), "x"));
    cr_assert_null(gw_cfg_child(NULL, "x"));
    cr_assert_eq(gw_cfg_type(NULL), OC_CFG_NULL);
    gw_cfg_free(root);
}
