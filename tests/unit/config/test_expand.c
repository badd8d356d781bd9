/* ${VAR} expansion, alone and through the parser. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/expand.h"
#include "config/parse.h"
#include "helpers.h"

TestSuite(expand, .init = cfg_setup, .fini = cfg_teardown);

static void expands_to(const char *in, const char *want)
{
    gw_buf_t why = GW_BUF_INIT;
    char *out = NULL;
    int rc = gw_cfg_expand(in, &out, &why);
    cr_assert_eq(rc, 0, "%s: %s", in, why.data ? why.data : "");
    cr_assert_str_eq(out, want, "%s", in);
    free(out);
    gw_buf_free(&why);
}

static void fails_with(const char *in, const char *want)
{
    gw_buf_t why = GW_BUF_INIT;
    char *out = NULL;
    cr_assert_eq(gw_cfg_expand(in, &out, &why), -EINVAL, "%s", in);
    cr_assert_null(out);
    cr_assert_str_eq(why.data, want);
    gw_buf_free(&why);
}

Test(expand, forms)
{
    setenv("GW_T_SET", "value", 1);
    setenv("GW_T_EMPTY", "", 1);
    unsetenv("GW_T_UNSET");
    expands_to("plain", "plain");
    expands_to("${GW_T_SET}", "value");
    expands_to("pre-${GW_T_SET}-post", "pre-value-post");
    expands_to("${GW_T_EMPTY}", "");                /* set but empty counts as set */
    expands_to("${GW_T_UNSET:-dflt}", "dflt");
    expands_to("${GW_T_EMPTY:-dflt}", "dflt");      /* :- also covers empty, as in sh */
    expands_to("${GW_T_SET:-dflt}", "value");
    expands_to("${GW_T_UNSET:-}", "");
    expands_to("${GW_T_UNSET:-a:b}c}", "a:bc}");
    expands_to("${GW_T_UNSET:-${GW_T_SET}}", "value");
    expands_to("${GW_T_UNSET:-${GW_T_UNSET:-deep}}", "deep");
    expands_to("$$", "$");
    expands_to("$${GW_T_SET}", "${GW_T_SET}");
    expands_to("a$b$", "a$b$");
    expands_to("pa$$w$$rd", "pa$w$rd");
}

Test(expand, errors)
{
    unsetenv("GW_T_UNSET");
    fails_with("${GW_T_UNSET}", "environment variable GW_T_UNSET is not set (set it, or write "
                                "${GW_T_UNSET:-default})");
    fails_with("x ${GW_T_UNSET:-${GW_T_UNSET}}", "environment variable GW_T_UNSET is not set "
                                                 "(set it, or write ${GW_T_UNSET:-default})");
    fails_with("${GW_T_UNSET", "unterminated ${ (add the closing }, or write $$ for a literal $)");
    fails_with("${}", "invalid reference ${}: a variable name starts with a letter or _ (write "
                      "$$ for a literal $)");
    fails_with("${1X}", "invalid reference ${1X}: a variable name starts with a letter or _ "
                        "(write $$ for a literal $)");
    fails_with("${A-b}", "unsupported reference ${A-b} (use ${VAR} or ${VAR:-default})");
    fails_with("${A:?b}", "unsupported reference ${A:?b} (use ${VAR} or ${VAR:-default})");
}

Test(expand, in_the_parser_with_position_and_path)
{
    unsetenv("OPENCLAW_TEST_UNSET_KEY");
    gw_diag_t d = GW_DIAG_INIT;
    gw_cfg_node_t *root = NULL;
    int rc = gw_cfg_parse_string("gateway.yaml",
                                 "# comment\n"
                                 "server:\n"
                                 "  port: 3000\n"
                                 "\n"
                                 "\n"
                                 "auth:\n"
                                 "   apiKey: ${OPENCLAW_TEST_UNSET_KEY}\n",
                                 &root, &d);
    cr_assert_eq(rc, -EINVAL);
    /* A value problem: the tree comes back for validation to go on. */
    cr_assert_not_null(root);
    gw_cfg_free(root);
    cfg_expect(&d, "gateway.yaml:7:12: auth.apiKey: environment variable "
                   "OPENCLAW_TEST_UNSET_KEY is not set (set it, or write "
                   "${OPENCLAW_TEST_UNSET_KEY:-default})");
    cfg_expect_count(&d, 1);
    gw_diag_free(&d);
}

Test(expand, every_problem_is_reported)
{
    gw_diag_t d = GW_DIAG_INIT;
    gw_cfg_node_t *root = NULL;
    gw_cfg_parse_string("t.yaml", "a: ${GW_T_NO1}\nb: [x, \"${GW_T_NO2\"]\n", &root, &d);
    gw_cfg_free(root);
    cfg_expect(&d, "t.yaml:1:4: a: environment variable GW_T_NO1 is not set (set it, or write "
                   "${GW_T_NO1:-default})");
    cfg_expect(&d, "t.yaml:2:8: b[1]: unterminated ${ (add the closing }, or write $$ for a "
                   "literal $)");
    cfg_expect_count(&d, 2);
    gw_diag_free(&d);
}

Test(expand, scalars_only_not_keys_and_raw_is_kept)
{
    setenv("GW_T_SET", "value", 1);
    gw_cfg_node_t *root = cfg_parse_ok("${GW_T_SET}: \"${GW_T_SET}\"\n"
                                       "plain: no-dollar\n"
                                       "list: [\"$${GW_T_SET}\", \"${GW_T_UNSET:-d}\"]\n");
    cr_assert_str_eq(gw_cfg_key_at(root, 0), "${GW_T_SET}");
    gw_cfg_node_t *v = gw_cfg_at(root, 0);
    cr_assert_str_eq(v->scalar, "value");
    cr_assert_str_eq(v->raw, "${GW_T_SET}");
    cr_assert_null(gw_cfg_find(root, "plain")->raw);
    cr_assert_str_eq(gw_cfg_find(root, "list[0]")->scalar, "${GW_T_SET}");
    cr_assert_str_eq(gw_cfg_find(root, "list[1]")->scalar, "d");
    gw_cfg_free(root);
}

Test(expand, aliases_are_not_expanded_twice)
{
    setenv("GW_T_SET", "value", 1);
    gw_cfg_node_t *root = cfg_parse_ok("a: &a \"$${GW_T_SET}\"\nb: *a\nc: &c {k: \"$$x\"}\n"
                                       "d: *c\n");
    cr_assert_str_eq(gw_cfg_find(root, "a")->scalar, "${GW_T_SET}");
    cr_assert_str_eq(gw_cfg_find(root, "b")->scalar, "${GW_T_SET}");
    cr_assert_str_eq(gw_cfg_find(root, "d.k")->scalar, "$x");
    gw_cfg_free(root);
}

Test(expand, no_expand_flag)
{
    const char *y = "a: ${GW_T_UNSET}\n";
    gw_diag_t d = GW_DIAG_INIT;
    gw_cfg_node_t *root = NULL;
    cr_assert_eq(gw_cfg_parse("t.yaml", y, strlen(y), GW_CFG_PARSE_NO_EXPAND, &root, &d), 0);
    cr_assert_str_eq(gw_cfg_find(root, "a")->scalar, "${GW_T_UNSET}");
    gw_cfg_free(root);
}

Test(expand, expanded_values_are_typed_by_the_getters)
{
    setenv("GW_T_PORT", "4100", 1);
    /* plain ${X} works in block style; in flow style ({...}) quote it, as '}'
     * would end the map */
    gw_cfg_node_t *root = cfg_parse_ok("server:\n  port: \"${GW_T_PORT}\"\n"
                                       "  workers: ${GW_T_UNSET:-3}\n");
    int64_t v = 0;
    gw_cfg_node_t *s = gw_cfg_find(root, "server");
    cr_assert_eq(gw_cfg_get_int(s, "port", 0, 1, 65535, &v, NULL), 0);
    cr_assert_eq(v, 4100);
    cr_assert_eq(gw_cfg_get_int(s, "workers", 0, 1, 256, &v, NULL), 0);
    cr_assert_eq(v, 3);
    gw_cfg_free(root);
}
