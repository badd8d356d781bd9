/* Typed getters, their messages, and unknown-key reports. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

TestSuite(get, .init = cfg_setup, .fini = cfg_teardown);

static gw_cfg_node_t *root;
static gw_cfg_node_t *s; /* the "s" map */
static gw_diag_t d = GW_DIAG_INIT;

static void load(const char *yaml)
{
    root = cfg_parse_ok(yaml);
    s = gw_cfg_find(root, "s");
}

static void done(void)
{
    gw_cfg_free(root);
    gw_diag_free(&d);
}

Test(get, str)
{
    load("s:\n  a: hello\n  n: 12\n  m: {x: 1}\n  l: [1]\n  z:\n");
    const char *v = NULL;
    cr_assert_eq(gw_cfg_get_str(s, "a", "d", &v, &d), 0);
    cr_assert_str_eq(v, "hello");
    cr_assert_eq(gw_cfg_get_str(s, "n", "d", &v, &d), 0); /* any scalar is text */
    cr_assert_str_eq(v, "12");
    cr_assert_eq(gw_cfg_get_str(s, "missing", "d", &v, &d), -ENOENT);
    cr_assert_str_eq(v, "d");
    cr_assert_eq(gw_cfg_get_str(s, "z", "d", &v, &d), -ENOENT); /* null = not set */
    cr_assert_str_eq(v, "d");
    cr_assert_eq(gw_cfg_get_str(NULL, "a", "d", &v, &d), -ENOENT);
    cr_assert_eq(gw_cfg_get_str(s, "m", "d", &v, &d), -EINVAL);
    cr_assert_str_eq(v, "d");
    cfg_expect(&d, "t.yaml:4:6: s.m: expected a string, got a map (write one value on the "
                   "same line, quoted if it contains ': ' or ' #')");
    cr_assert_eq(gw_cfg_get_str(s, "l", "d", &v, &d), -EINVAL);
    cfg_expect(&d, "t.yaml:5:6: s.l: expected a string, got a list (write one value on the "
                   "same line, quoted if it contains ': ' or ' #')");
    cfg_expect_count(&d, 2);
    cr_assert_eq(gw_cfg_lookup(s, "a")->used, 1);
    cr_assert_eq(gw_cfg_lookup(s, "m")->used, 1);
    done();
}

Test(get, int)
{
    load("s:\n  a: 3000\n  b: \"42\"\n  c: 12abc\n  d: 1.5\n  e: 70000\n  f: -7\n"
         "  g: 99999999999999999999\n  h: [1]\n  i: +5\n  j: \" 5\"\n");
    int64_t v = 0;
    cr_assert_eq(gw_cfg_get_int(s, "a", 0, 1, 65535, &v, &d), 0);
    cr_assert_eq(v, 3000);
    cr_assert_eq(gw_cfg_get_int(s, "b", 0, INT64_MIN, INT64_MAX, &v, &d), 0); /* quoted ok */
    cr_assert_eq(v, 42);
    cr_assert_eq(gw_cfg_get_int(s, "f", 0, INT64_MIN, INT64_MAX, &v, &d), 0);
    cr_assert_eq(v, -7);
    cr_assert_eq(gw_cfg_get_int(s, "missing", 9, 0, 10, &v, &d), -ENOENT);
    cr_assert_eq(v, 9);
    cr_assert_eq(d.count, 0);

    cr_assert_eq(gw_cfg_get_int(s, "c", 9, 1, 65535, &v, &d), -EINVAL);
    cr_assert_eq(v, 9);
    cfg_expect(&d, "t.yaml:4:6: s.c: expected an integer from 1 to 65535, got \"12abc\" (write "
                   "a whole number in digits, without units or a decimal point)");
    gw_cfg_get_int(s, "d", 0, 0, INT64_MAX, &v, &d);
    cfg_expect(&d, "t.yaml:5:6: s.d: expected an integer of at least 0, got \"1.5\" (write a "
                   "whole number in digits, without units or a decimal point)");
    cr_assert_eq(gw_cfg_get_int(s, "e", 0, 1, 65535, &v, &d), -EINVAL);
    cfg_expect(&d, "t.yaml:6:6: s.e: expected an integer from 1 to 65535, got 70000 (out of "
                   "range)");
    gw_cfg_get_int(s, "f", 0, 0, INT64_MAX, &v, &d);
    cfg_expect(&d, "t.yaml:7:6: s.f: expected an integer of at least 0, got -7 (out of range)");
    gw_cfg_get_int(s, "g", 0, INT64_MIN, 100, &v, &d);
    cfg_expect(&d, "t.yaml:8:6: s.g: expected an integer of at most 100, got "
                   "99999999999999999999 (out of range)");
    gw_cfg_get_int(s, "h", 0, INT64_MIN, INT64_MAX, &v, &d);
    cfg_expect(&d, "t.yaml:9:6: s.h: expected an integer, got a list (write a whole number)");
    gw_cfg_get_int(s, "i", 0, INT64_MIN, INT64_MAX, &v, &d);
    cfg_expect(&d, "t.yaml:10:6: s.i: expected an integer, got \"+5\" (write a whole number "
                   "in digits, without units or a decimal point)");
    cr_assert_eq(gw_cfg_get_int(s, "j", 0, INT64_MIN, INT64_MAX, &v, &d), -EINVAL);
    cfg_expect_count(&d, 8);
    done();
}

Test(get, int_limits)
{
    load("s: {max: 9223372036854775807, min: -9223372036854775808, over: "
         "9223372036854775808}\n");
    int64_t v = 0;
    cr_assert_eq(gw_cfg_get_int(s, "max", 0, INT64_MIN, INT64_MAX, &v, &d), 0);
    cr_assert_eq(v, INT64_MAX);
    cr_assert_eq(gw_cfg_get_int(s, "min", 0, INT64_MIN, INT64_MAX, &v, &d), 0);
    cr_assert_eq(v, INT64_MIN);
    cr_assert_eq(gw_cfg_get_int(s, "over", 0, INT64_MIN, INT64_MAX, &v, &d), -EINVAL);
    done();
}

Test(get, bool)
{
    load("s: {a: true, b: no, c: ON, d: \"false\", e: maybe, f: 1}\n");
    int v = -1;
    cr_assert_eq(gw_cfg_get_bool(s, "a", 0, &v, &d), 0);
    cr_assert_eq(v, 1);
    cr_assert_eq(gw_cfg_get_bool(s, "b", 1, &v, &d), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(gw_cfg_get_bool(s, "c", 0, &v, &d), 0);
    cr_assert_eq(v, 1);
    cr_assert_eq(gw_cfg_get_bool(s, "d", 1, &v, &d), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(gw_cfg_get_bool(s, "x", 1, &v, &d), -ENOENT);
    cr_assert_eq(v, 1);
    cr_assert_eq(gw_cfg_get_bool(s, "e", 1, &v, &d), -EINVAL);
    cr_assert_eq(v, 1);
    cfg_expect(&d, "t.yaml:1:43: s.e: expected true or false, got \"maybe\" (yes/no and on/off "
                   "work too)");
    cr_assert_eq(gw_cfg_get_bool(s, "f", 1, &v, &d), -EINVAL);
    cfg_expect_count(&d, 2);
    done();
}

Test(get, enum_with_suggestion)
{
    static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
    load("s:\n  a: WARN\n  b: wran\n  c: verbose\n  d: {x: 1}\n");
    const char *v = NULL;
    cr_assert_eq(gw_cfg_get_enum(s, "a", levels, "info", &v, &d), 0);
    cr_assert_eq(v, levels[2]); /* the canonical spelling */
    cr_assert_eq(gw_cfg_get_enum(s, "x", levels, "info", &v, &d), -ENOENT);
    cr_assert_str_eq(v, "info");
    cr_assert_eq(gw_cfg_get_enum(s, "b", levels, "info", &v, &d), -EINVAL);
    cr_assert_str_eq(v, "info");
    cfg_expect(&d, "t.yaml:3:6: s.b: expected one of debug, info, warn, error, got \"wran\" "
                   "(did you mean 'warn'?)");
    gw_cfg_get_enum(s, "c", levels, "info", &v, &d);
    cfg_expect(&d, "t.yaml:4:6: s.c: expected one of debug, info, warn, error, got \"verbose\" "
                   "(use one of those values)");
    gw_cfg_get_enum(s, "d", levels, "info", &v, &d);
    cfg_expect(&d, "t.yaml:5:6: s.d: expected one of debug, info, warn, error, got a map (use "
                   "one of those values)");
    done();
}

Test(get, str_list)
{
    load("s:\n  a: [x, \"y\", 3]\n  b: x\n  c:\n    - ok\n    - {no: 1}\n  e: []\n");
    const char **v = NULL;
    size_t n = 9;
    cr_assert_eq(gw_cfg_get_str_list(s, "a", &v, &n, &d), 0);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(v[0], "x");
    cr_assert_str_eq(v[2], "3");
    cr_assert_null(v[3]);
    free(v);
    cr_assert_eq(gw_cfg_get_str_list(s, "e", &v, &n, &d), 0);
    cr_assert_eq(n, 0);
    free(v);
    cr_assert_eq(gw_cfg_get_str_list(s, "missing", &v, &n, &d), -ENOENT);
    cr_assert_null(v);
    cr_assert_eq(gw_cfg_get_str_list(s, "b", &v, &n, &d), -EINVAL);
    cfg_expect(&d, "t.yaml:3:6: s.b: expected a list of strings, got \"x\" (write [a, b] or "
                   "one '- item' per line)");
    cr_assert_eq(gw_cfg_get_str_list(s, "c", &v, &n, &d), -EINVAL);
    cr_assert_null(v);
    cfg_expect(&d, "t.yaml:6:7: s.c[1]: expected a string, got a map (one plain value per "
                   "item)");
    cfg_expect_count(&d, 2);
    done();
}

Test(get, map_and_list)
{
    load("s: {m: {a: 1}, l: [1], x: 3}\n");
    gw_cfg_node_t *n = NULL;
    cr_assert_eq(gw_cfg_get_map(s, "m", &n, &d), 0);
    cr_assert_eq(n, gw_cfg_find(root, "s.m"));
    cr_assert_eq(gw_cfg_get_list(s, "l", &n, &d), 0);
    cr_assert_eq(gw_cfg_get_map(s, "none", &n, &d), -ENOENT);
    cr_assert_null(n);
    cr_assert_eq(gw_cfg_get_map(s, "x", &n, &d), -EINVAL);
    cfg_expect(&d, "t.yaml:1:27: s.x: expected a map, got \"3\" (write the keys indented "
                   "under 'x:', or {key: value})");
    cr_assert_eq(gw_cfg_get_list(s, "m", &n, &d), -EINVAL);
    cfg_expect(&d, "t.yaml:1:8: s.m: expected a list, got a map (write [a, b] or one '- item' "
                   "per line)");
    done();
}

Test(get, override_origin_replaces_position)
{
    load("server:\n  port: 3000\n");
    cr_assert_eq(gw_cfg_set_scalar(root, "server.port", "abc", "env OPENCLAW_PORT"), 0);
    int64_t v = 0;
    cr_assert_eq(gw_cfg_get_int(gw_cfg_find(root, "server"), "port", 3000, 1, 65535, &v, &d),
                 -EINVAL);
    cfg_expect(&d, "env OPENCLAW_PORT: server.port: expected an integer from 1 to 65535, got "
                   "\"abc\" (write a whole number in digits, without units or a decimal point)");
    done();
}

Test(get, secrets_are_not_echoed)
{
    load("s: {apiKey: {a: 1}, token: [1], password: hunter2}\n");
    int64_t v;
    const char *str;
    gw_cfg_get_int(s, "password", 0, 0, 10, &v, &d);
    cfg_expect(&d, "t.yaml:1:43: s.password: expected an integer from 0 to 10, got a value "
                   "that is not shown (secret) (write a whole number in digits, without units "
                   "or a decimal point)");
    gw_cfg_get_str(s, "apiKey", NULL, &str, &d);
    cr_assert_eq(d.count, 2);
    cr_assert_null(strstr(d.msgs[0], "hunter2"));
    done();
}

Test(get, error_helpers)
{
    load("s:\n  tls:\n    certPath: a\n");
    gw_cfg_node_t *tls = gw_cfg_find(root, "s.tls");
    gw_cfg_missing(&d, tls, "keyPath", "both are needed");
    cfg_expect(&d, "t.yaml:2:3: s.tls: missing required key 'keyPath' (both are needed)");
    gw_cfg_error(&d, tls, "custom %d", 7);
    cfg_expect(&d, "t.yaml:3:5: s.tls: custom 7");
    gw_cfg_error(&d, NULL, "bare");
    cfg_expect(&d, "bare");
    gw_cfg_error(&d, root, "at root");
    cfg_expect(&d, "t.yaml:1:1: at root");
    gw_buf_t b = GW_BUF_INIT;
    gw_cfg_where(tls, &b);
    cr_assert_str_eq(b.data, "t.yaml:3:5");
    gw_buf_free(&b);
    gw_cfg_error(NULL, tls, "no diag is fine");
    done();
}

Test(get, report_unused_suggests_from_known_keys)
{
    load("server:\n"
         "  prot: 3000\n"
         "  host: lan\n"
         "  limts: {maxBodyBytes: 1}\n"
         "  zzz: 1\n"
         "  cors:\n"
         "    enabled: true\n"
         "    orgins: [\"*\"]\n"
         "list:\n"
         "  - {name: a, nmae: b}\n");
    gw_cfg_node_t *srv = gw_cfg_child(root, "server");
    const char *str;
    int64_t v;
    int b;
    gw_cfg_get_str(srv, "host", NULL, &str, &d);
    gw_cfg_get_int(srv, "port", 0, 1, 65535, &v, &d); /* absent, but now known */
    gw_cfg_get_int(srv, "workers", 0, 1, 65535, &v, &d);
    gw_cfg_node_t *lim = NULL, *cors = NULL;
    gw_cfg_get_map(srv, "limits", &lim, &d);
    gw_cfg_get_map(srv, "cors", &cors, &d);
    gw_cfg_get_bool(cors, "enabled", 1, &b, &d);
    gw_cfg_get_str(cors, "origins", NULL, &str, &d);
    gw_cfg_node_t *list = gw_cfg_child(root, "list");
    gw_cfg_get_str(gw_cfg_at(list, 0), "name", NULL, &str, &d);
    cr_assert_eq(d.count, 0);

    cr_assert_eq(gw_cfg_report_unused(srv, &d), 4);
    cfg_expect(&d, "t.yaml:2:3: unknown key 'prot' in server (did you mean 'port'?)");
    cfg_expect(&d, "t.yaml:4:3: unknown key 'limts' in server (did you mean 'limits'?)");
    cfg_expect(&d, "t.yaml:5:3: unknown key 'zzz' in server (remove it; known keys here: host, "
                   "port, workers, limits, cors)");
    cfg_expect(&d, "t.yaml:8:5: unknown key 'orgins' in server.cors (did you mean 'origins'?)");
    cr_assert_eq(gw_cfg_report_unused(list, &d), 1);
    cfg_expect(&d, "t.yaml:10:15: unknown key 'nmae' in list[0] (did you mean 'name'?)");
    gw_diag_free(&d);

    /* from the root: the same five, through the used sections */
    cr_assert_eq(gw_cfg_report_unused(root, &d), 5);
    gw_diag_free(&d);
    gw_cfg_free(root);
    load("a: {b: 1}\n");
    cr_assert_eq(gw_cfg_report_unused(root, &d), 1); /* 'a' only, not a.b */
    done();
}

Test(get, report_unknown_keys_against_a_list)
{
    static const char *const allowed[] = {"server", "auth", "plugins", NULL};
    load("sever: {}\nauth: {}\nplugns: []\nwhatever: 1\n");
    cr_assert_eq(gw_cfg_report_unknown_keys(root, allowed, &d), 3);
    cfg_expect(&d, "t.yaml:1:1: unknown key 'sever' at the top level (did you mean 'server'?)");
    cfg_expect(&d, "t.yaml:3:1: unknown key 'plugns' at the top level (did you mean "
                   "'plugins'?)");
    cfg_expect(&d, "t.yaml:4:1: unknown key 'whatever' at the top level (remove it; known keys "
                   "here: server, auth, plugins)");
    cr_assert_eq(gw_cfg_lookup(root, "auth")->used, 0);
    done();
}

Test(get, suggest)
{
    const char *c[] = {"port", "host", "logLevel", "logFormat", "workers"};
    cr_assert_str_eq(gw_cfg_suggest("prot", c, 5), "port");
    cr_assert_str_eq(gw_cfg_suggest("loglevel", c, 5), "logLevel");
    cr_assert_str_eq(gw_cfg_suggest("workres", c, 5), "workers");
    cr_assert_null(gw_cfg_suggest("banana", c, 5));
    cr_assert_null(gw_cfg_suggest("x", c, 5));
}
