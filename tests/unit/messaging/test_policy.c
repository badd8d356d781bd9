/* messaging/policy: reading channels.<name>, every decision branch, mention
 * patterns, pairing codes and the pairing reply. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "messaging/policy.h"
#include "rules_helpers.h"

TestSuite(policy_cfg, .init = rules_setup);
TestSuite(policy_decide, .init = rules_setup);
TestSuite(pairing, .init = rules_setup);

/* Loads yaml (a valid gateway config), builds the policy of channels.<name>
 * into p; returns build's result. *c is the config (free it). */
static int build(const char *yaml, const char *name, gw_config_t **c, gw_channel_policy_t *p,
                 gw_diag_t *d)
{
    char path[64];
    *c = rules_load(yaml);
    snprintf(path, sizeof(path), "channels.%s", name);
    return gw_channel_policy_build(p, name, gw_cfg_find((*c)->root, path), d);
}

/* Builds a policy that must be valid; the config is freed (the policy
 * copies what it keeps). */
static void build_ok(const char *yaml, gw_channel_policy_t *p)
{
    gw_config_t *c = NULL;
    gw_diag_t d = GW_DIAG_INIT;
    int rc = build(yaml, "telegram", &c, p, &d);
    rules_expect_count(&d, 0);
    cr_assert_eq(rc, 0);
    gw_diag_free(&d);
    gw_config_free(c);
}

/* Builds a policy that must fail; the messages are left in d. */
static void build_fail(const char *yaml, gw_diag_t *d)
{
    gw_config_t *c = NULL;
    gw_channel_policy_t p;
    int rc = build(yaml, "telegram", &c, &p, d);
    cr_assert_eq(rc, -EINVAL);
    /* A failed build leaves nothing behind, and freeing it is harmless. */
    cr_assert_null(p.channel);
    cr_assert_null(p.allow_from);
    cr_assert_null(p.groups);
    cr_assert_null(p.mentions.re);
    gw_channel_policy_free(&p);
    gw_config_free(c);
}

/* ---- configuration ------------------------------------------------------- */

Test(policy_cfg, null_section_is_all_defaults)
{
    gw_channel_policy_t p;
    gw_diag_t d = GW_DIAG_INIT;
    cr_assert_eq(gw_channel_policy_build(&p, "telegram", NULL, &d), 0);
    cr_assert_eq(d.count, 0);
    cr_assert_str_eq(p.channel, "telegram");
    cr_assert_eq(p.dm_policy, GW_DM_PAIRING);
    cr_assert_eq(p.group_policy, GW_GROUP_ALLOWLIST);
    cr_assert_eq(p.allow_from_count, 0);
    cr_assert_eq(p.allow_any, 0);
    cr_assert_eq(p.group_allow_from_count, 0);
    cr_assert_eq(p.group_allow_any, 0);
    cr_assert_eq(p.group_count, 0);
    cr_assert_eq(p.mentions.count, 0);
    gw_channel_policy_free(&p);
}

Test(policy_cfg, section_without_policy_keys_is_all_defaults)
{
    gw_channel_policy_t p;
    build_ok("channels:\n  telegram: {botToken: \"1:a\"}\n", &p);
    cr_assert_eq(p.dm_policy, GW_DM_PAIRING);
    cr_assert_eq(p.group_policy, GW_GROUP_ALLOWLIST);
    cr_assert_eq(p.group_count, 0);
    gw_channel_policy_free(&p);
}

static const char *full =
    "channels:\n"
    "  telegram:\n"
    "    botToken: \"123:abc\"\n"
    "    baseUrl: http://127.0.0.1:1\n"
    "    dmPolicy: Allowlist\n"
    "    allowFrom: [\"42\", alice]\n"
    "    groupPolicy: open\n"
    "    groupAllowFrom: [\"-100\", \"*\"]\n"
    "    groups:\n"
    "      \"*\": {requireMention: false}\n"
    "      \"-100\": {requireMention: yes}\n"
    "      \"-200\":\n"
    "    mentionPatterns: [\"@?openclaw\", \"^bot[,:]\"]\n";

Test(policy_cfg, reads_every_key)
{
    gw_config_t *c = NULL;
    gw_channel_policy_t p;
    gw_diag_t d = GW_DIAG_INIT;
    cr_assert_eq(build(full, "telegram", &c, &p, &d), 0);
    rules_expect_count(&d, 0);
    cr_assert_eq(p.dm_policy, GW_DM_ALLOWLIST); /* enum values are case-insensitive */
    cr_assert_eq(p.allow_from_count, 2);
    cr_assert_str_eq(p.allow_from[0], "42");
    cr_assert_str_eq(p.allow_from[1], "alice");
    cr_assert_eq(p.allow_any, 0);
    cr_assert_eq(p.group_policy, GW_GROUP_OPEN);
    cr_assert_eq(p.group_allow_from_count, 2);
    cr_assert_str_eq(p.group_allow_from[0], "-100");
    cr_assert_eq(p.group_allow_any, 1);
    cr_assert_eq(p.group_count, 3);
    cr_assert_str_eq(p.groups[0].group_id, "*");
    cr_assert_eq(p.groups[0].require_mention, 0);
    cr_assert_str_eq(p.groups[1].group_id, "-100");
    cr_assert_eq(p.groups[1].require_mention, 1);
    cr_assert_str_eq(p.groups[2].group_id, "-200"); /* null entry: defaults */
    cr_assert_eq(p.groups[2].require_mention, 1);
    cr_assert_eq(p.mentions.count, 2);

    /* Policy keys are marked used; the plugin's own keys are left alone. */
    gw_cfg_node_t *s = gw_cfg_find(c->root, "channels.telegram");
    static const char *const mine[] = {"dmPolicy", "allowFrom", "groupPolicy",
                                       "groupAllowFrom", "groups", "mentionPatterns"};
    for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
        cr_assert_eq(gw_cfg_lookup(s, mine[i])->used, 1, "%s not marked", mine[i]);
    cr_assert_eq(gw_cfg_lookup(s, "botToken")->used, 0);
    cr_assert_eq(gw_cfg_lookup(s, "baseUrl")->used, 0);
    gw_diag_t u = GW_DIAG_INIT;
    cr_assert_eq(gw_cfg_report_unused(s, &u), 2); /* botToken and baseUrl only */
    gw_diag_free(&u);
    gw_channel_policy_free(&p);
    gw_config_free(c);
}

Test(policy_cfg, open_with_star)
{
    gw_channel_policy_t p;
    build_ok("channels:\n  telegram: {dmPolicy: open, allowFrom: [\"*\"]}\n", &p);
    cr_assert_eq(p.dm_policy, GW_DM_OPEN);
    cr_assert_eq(p.allow_any, 1);
    gw_channel_policy_free(&p);
}

Test(policy_cfg, open_without_star)
{
    gw_diag_t d = GW_DIAG_INIT;
    build_fail("channels:\n"
               "  telegram:\n"
               "    dmPolicy: open\n"
               "    allowFrom: [\"42\"]\n", &d);
    rules_expect_count(&d, 1);
    rules_expect(&d, "t.yaml:3:15: channels.telegram.dmPolicy: dmPolicy \"open\" requires \"*\" "
                 "in allowFrom (add \"*\" to allowFrom to accept DMs from anyone, or use "
                 "dmPolicy: allowlist)");
    gw_diag_free(&d);
}

Test(policy_cfg, open_without_allow_from)
{
    gw_diag_t d = GW_DIAG_INIT;
    build_fail("channels:\n  slack: {x: 1}\n  telegram: {dmPolicy: OPEN}\n", &d);
    rules_expect_count(&d, 1);
    rules_expect(&d, "t.yaml:3:24: channels.telegram.dmPolicy: dmPolicy \"open\" requires \"*\" "
                 "in allowFrom (add \"*\" to allowFrom to accept DMs from anyone, or use "
                 "dmPolicy: allowlist)");
    gw_diag_free(&d);
}

Test(policy_cfg, open_with_broken_allow_from_reports_the_list_only)
{
    gw_diag_t d = GW_DIAG_INIT;
    build_fail("channels:\n  telegram: {dmPolicy: open, allowFrom: \"*\"}\n", &d);
    rules_expect_count(&d, 1);
    rules_expect(&d, "t.yaml:2:41: channels.telegram.allowFrom: expected a list of strings, "
                 "got \"*\" (write [a, b] or one '- item' per line)");
    gw_diag_free(&d);
}

Test(policy_cfg, bad_enums)
{
    gw_diag_t d = GW_DIAG_INIT;
    build_fail("channels:\n"
               "  telegram:\n"
               "    dmPolicy: pairng\n"
               "    groupPolicy: everyone\n", &d);
    rules_expect_count(&d, 2);
    rules_expect(&d, "t.yaml:3:15: channels.telegram.dmPolicy: expected one of pairing, "
                 "allowlist, open, disabled, got \"pairng\" (did you mean 'pairing'?)");
    rules_expect(&d, "t.yaml:4:18: channels.telegram.groupPolicy: expected one of allowlist, "
                 "open, disabled, got \"everyone\" (use one of those values)");
    gw_diag_free(&d);
}

Test(policy_cfg, lists_of_the_wrong_type)
{
    gw_diag_t d = GW_DIAG_INIT;
    build_fail("channels:\n"
               "  telegram:\n"
               "    allowFrom: \"42\"\n"
               "    groupAllowFrom: [[a]]\n"
               "    mentionPatterns: {a: b}\n", &d);
    rules_expect_count(&d, 3);
    rules_expect(&d, "t.yaml:3:16: channels.telegram.allowFrom: expected a list of strings, got "
                 "\"42\" (write [a, b] or one '- item' per line)");
    rules_expect(&d, "t.yaml:4:22: channels.telegram.groupAllowFrom[0]: expected a string, got "
                 "a list (one plain value per item)");
    rules_expect(&d, "t.yaml:5:22: channels.telegram.mentionPatterns: expected a list of "
                 "strings, got a map (write [a, b] or one '- item' per line)");
    gw_diag_free(&d);
}

Test(policy_cfg, groups_errors)
{
    gw_config_t *c = NULL;
    gw_channel_policy_t p;
    gw_diag_t d = GW_DIAG_INIT;
    const char *yaml = "channels:\n"
                       "  telegram:\n"
                       "    botToken: x\n"
                       "    groups:\n"
                       "      \"*\": {requireMentoin: true}\n"
                       "      \"-1\": {requireMention: maybe, allow: true}\n"
                       "      \"-2\": true\n";
    cr_assert_eq(build(yaml, "telegram", &c, &p, &d), -EINVAL);
    rules_expect_count(&d, 4);
    rules_expect(&d, "t.yaml:5:13: unknown key 'requireMentoin' in channels.telegram.groups.* "
                 "(did you mean 'requireMention'?)");
    rules_expect(&d, "t.yaml:6:30: channels.telegram.groups.-1.requireMention: expected true "
                 "or false, got \"maybe\" (yes/no and on/off work too)");
    rules_expect(&d, "t.yaml:6:37: unknown key 'allow' in channels.telegram.groups.-1 "
                 "(remove it; known keys here: requireMention)");
    rules_expect(&d, "t.yaml:7:13: channels.telegram.groups.-2: expected a map, got a "
                 "string (write {requireMention: true} or {requireMention: false})");

    /* The plugin host's later unused-key pass reports only the plugin's own
     * unread keys, not the group keys reported above a second time. */
    gw_diag_t u = GW_DIAG_INIT;
    gw_cfg_report_unused(gw_cfg_find(c->root, "channels.telegram"), &u);
    rules_expect_count(&u, 1);
    cr_assert(strstr(u.msgs[0], "'botToken'") != NULL, "%s", u.msgs[0]);
    gw_diag_free(&u);
    gw_channel_policy_free(&p);
    gw_config_free(c);
    gw_diag_free(&d);
}

Test(policy_cfg, groups_not_a_map)
{
    gw_diag_t d = GW_DIAG_INIT;
    build_fail("channels:\n  telegram:\n    groups: [a]\n", &d);
    rules_expect_count(&d, 1);
    rules_expect(&d, "t.yaml:3:13: channels.telegram.groups: expected a map, got a list (write "
                 "the keys indented under 'groups:', or {key: value})");
    gw_diag_free(&d);
}

Test(policy_cfg, bad_mention_pattern)
{
    gw_diag_t d = GW_DIAG_INIT;
    build_fail("channels:\n"
               "  telegram:\n"
               "    mentionPatterns:\n"
               "      - ok\n"
               "      - \"(unclosed\"\n"
               "      - \"a{2,1}\"\n", &d);
    rules_expect_count(&d, 2);
    rules_expect(&d, "t.yaml:5:9: channels.telegram.mentionPatterns[1]: invalid regular "
                 "expression \"(unclosed\": Unmatched ( or \\( (POSIX extended syntax; escape "
                 "special characters with \\)");
    rules_expect(&d, "t.yaml:6:9: channels.telegram.mentionPatterns[2]: invalid regular "
                 "expression \"a{2,1}\": Invalid content of \\{\\} (POSIX extended syntax; "
                 "escape special characters with \\)");
    gw_diag_free(&d);
}

Test(policy_cfg, every_problem_reported)
{
    gw_diag_t d = GW_DIAG_INIT;
    build_fail("channels:\n"
               "  telegram:\n"
               "    dmPolicy: nobody\n"
               "    groupPolicy: 3\n"
               "    groups: {x: {requireMention: 2}}\n"
               "    mentionPatterns: [\"[\"]\n", &d);
    rules_expect_count(&d, 4);
    gw_diag_free(&d);
}

Test(policy_cfg, section_not_a_map)
{
    gw_diag_t d = GW_DIAG_INIT;
    build_fail("channels:\n  telegram: yes\n", &d);
    rules_expect_count(&d, 1);
    rules_expect(&d, "t.yaml:2:13: channels.telegram: expected a map, got a string (write the "
                 "channel's keys indented under it)");
    gw_diag_free(&d);
}

Test(policy_cfg, mention_set_build)
{
    gw_mention_set_t s;
    gw_diag_t d = GW_DIAG_INIT;
    char *good[] = {"@?support", "^help"};
    cr_assert_eq(gw_mention_set_build(&s, good, 2, &d), 0);
    cr_assert_eq(s.count, 2);
    gw_mention_set_free(&s);
    cr_assert_eq(s.count, 0);
    gw_mention_set_free(&s); /* twice is harmless */

    cr_assert_eq(gw_mention_set_build(&s, NULL, 0, &d), 0);
    cr_assert_eq(s.count, 0);
    cr_assert_null(s.re);

    char *bad[] = {"ok", "(x", "*"};
    cr_assert_eq(gw_mention_set_build(&s, bad, 3, &d), -EINVAL);
    cr_assert_eq(s.count, 0);
    cr_assert_null(s.re);
    rules_expect_count(&d, 2);
    rules_expect(&d, "invalid mention pattern \"(x\": Unmatched ( or \\( (POSIX extended "
                 "syntax; escape special characters with \\)");
    rules_expect(&d, "invalid mention pattern \"*\": Invalid preceding regular expression "
                 "(POSIX extended syntax; escape special characters with \\)");
    cr_assert_eq(gw_mention_set_build(&s, bad, 3, NULL), -EINVAL); /* d may be NULL */
    gw_diag_free(&d);
}

/* ---- decisions ----------------------------------------------------------- */

static int decide(const char *yaml, const gw_mention_set_t *agent, const gw_envelope_t *e,
                  const char **reason)
{
    gw_channel_policy_t p;
    build_ok(yaml, &p);
    int v = gw_policy_decide(&p, agent, e, reason);
    gw_channel_policy_free(&p);
    return v;
}

static gw_envelope_t dm(const char *sender)
{
    return rules_env(OC_PEER_DIRECT, "telegram", "default", sender, sender, "hi");
}

static gw_envelope_t grp(const char *group, const char *text)
{
    return rules_env(OC_PEER_GROUP, "telegram", "default", group, "42", text);
}

#define CH(body) "channels:\n  telegram: " body "\n"

Test(policy_decide, dm_disabled_drops_even_allowed_senders)
{
    gw_envelope_t e = dm("42");
    const char *why = NULL;
    cr_assert_eq(decide(CH("{dmPolicy: disabled, allowFrom: [\"42\", \"*\"]}"), NULL, &e, &why),
                 GW_VERDICT_DROP);
    cr_assert_str_eq(why, "dm: dmPolicy disabled");
}

Test(policy_decide, dm_allowlist)
{
    const char *y = CH("{dmPolicy: allowlist, allowFrom: [\"42\", Alice]}");
    gw_envelope_t e = dm("42");
    const char *why = NULL;
    cr_assert_eq(decide(y, NULL, &e, &why), GW_VERDICT_RUN);
    cr_assert_str_eq(why, "dm: sender allowed");
    e = dm("43");
    cr_assert_eq(decide(y, NULL, &e, &why), GW_VERDICT_DROP);
    cr_assert_str_eq(why, "dm: sender not in allowFrom");
    e = dm("alice"); /* sender ids are compared exactly */
    cr_assert_eq(decide(y, NULL, &e, NULL), GW_VERDICT_DROP);
    e = dm("Alice");
    cr_assert_eq(decide(y, NULL, &e, NULL), GW_VERDICT_RUN);
}

Test(policy_decide, dm_allowlist_empty_drops_all)
{
    gw_envelope_t e = dm("42");
    cr_assert_eq(decide(CH("{dmPolicy: allowlist}"), NULL, &e, NULL), GW_VERDICT_DROP);
}

Test(policy_decide, dm_allowlist_star)
{
    gw_envelope_t e = dm("anyone");
    cr_assert_eq(decide(CH("{dmPolicy: allowlist, allowFrom: [\"*\"]}"), NULL, &e, NULL),
                 GW_VERDICT_RUN);
}

Test(policy_decide, dm_open)
{
    gw_envelope_t e = dm("stranger");
    cr_assert_eq(decide(CH("{dmPolicy: open, allowFrom: [\"*\"]}"), NULL, &e, NULL),
                 GW_VERDICT_RUN);
}

Test(policy_decide, dm_open_without_star_fails_closed)
{
    /* Built by hand: build refuses it, decide must not open up either. */
    gw_channel_policy_t p;
    memset(&p, 0, sizeof(p));
    p.dm_policy = GW_DM_OPEN;
    gw_envelope_t e = dm("stranger");
    cr_assert_eq(gw_policy_decide(&p, NULL, &e, NULL), GW_VERDICT_DROP);
}

Test(policy_decide, dm_pairing)
{
    const char *y = CH("{allowFrom: [\"42\"]}"); /* pairing is the default */
    gw_envelope_t e = dm("43");
    const char *why = NULL;
    cr_assert_eq(decide(y, NULL, &e, &why), GW_VERDICT_PAIRING);
    cr_assert_str_eq(why, "dm: unknown sender, pairing");
    e = dm("42");
    cr_assert_eq(decide(y, NULL, &e, NULL), GW_VERDICT_RUN);
    e = dm("43");
    cr_assert_eq(decide(CH("{dmPolicy: pairing, allowFrom: [\"*\"]}"), NULL, &e, NULL),
                 GW_VERDICT_RUN);
}

Test(policy_decide, dm_ignores_group_rules_and_mentions)
{
    gw_envelope_t e = dm("42");
    cr_assert_eq(decide(CH("{dmPolicy: open, allowFrom: [\"*\"], groupPolicy: disabled, "
                           "groups: {\"*\": {requireMention: true}}}"), NULL, &e, NULL),
                 GW_VERDICT_RUN);
}

Test(policy_decide, group_disabled_drops_even_mentions)
{
    gw_envelope_t e = grp("-100", "hi");
    e.mentioned = 1;
    const char *why = NULL;
    cr_assert_eq(decide(CH("{groupPolicy: disabled, groupAllowFrom: [\"*\"]}"), NULL, &e, &why),
                 GW_VERDICT_DROP);
    cr_assert_str_eq(why, "group: groupPolicy disabled");
}

Test(policy_decide, group_allowlist_empty_drops_all)
{
    gw_envelope_t e = grp("-100", "hi");
    e.mentioned = 1;
    const char *why = NULL;
    cr_assert_eq(decide(CH("{botToken: x}"), NULL, &e, &why), GW_VERDICT_DROP);
    cr_assert_str_eq(why, "group: not in groupAllowFrom");
}

Test(policy_decide, group_allowlist)
{
    const char *y = CH("{groupAllowFrom: [\"-100\"]}");
    gw_envelope_t e = grp("-100", "hi");
    e.mentioned = 1;
    const char *why = NULL;
    cr_assert_eq(decide(y, NULL, &e, &why), GW_VERDICT_RUN);
    cr_assert_str_eq(why, "group: allowed");
    e = grp("-200", "hi");
    e.mentioned = 1;
    cr_assert_eq(decide(y, NULL, &e, NULL), GW_VERDICT_DROP);
    /* A reply to the bot does not bypass groupAllowFrom (reference §4). */
    e = grp("-200", "hi");
    e.reply_to_bot = 1;
    cr_assert_eq(decide(y, NULL, &e, NULL), GW_VERDICT_DROP);
}

Test(policy_decide, group_allowlist_star)
{
    gw_envelope_t e = grp("-999", "hi");
    e.mentioned = 1;
    cr_assert_eq(decide(CH("{groupAllowFrom: [\"*\"]}"), NULL, &e, NULL), GW_VERDICT_RUN);
}

Test(policy_decide, group_open_needs_no_allowlist)
{
    gw_envelope_t e = grp("-999", "hi");
    e.mentioned = 1;
    cr_assert_eq(decide(CH("{groupPolicy: open}"), NULL, &e, NULL), GW_VERDICT_RUN);
}

Test(policy_decide, group_require_mention_by_default)
{
    gw_envelope_t e = grp("-100", "hello all");
    const char *why = NULL;
    cr_assert_eq(decide(CH("{groupPolicy: open}"), NULL, &e, &why), GW_VERDICT_CONTEXT);
    cr_assert_str_eq(why, "group: not mentioned, kept as context");
}

Test(policy_decide, group_star_rule)
{
    gw_envelope_t e = grp("-100", "hello all");
    cr_assert_eq(decide(CH("{groupPolicy: open, groups: {\"*\": {requireMention: false}}}"),
                        NULL, &e, NULL), GW_VERDICT_RUN);
    cr_assert_eq(decide(CH("{groupPolicy: open, groups: {\"*\": {requireMention: true}}}"),
                        NULL, &e, NULL), GW_VERDICT_CONTEXT);
}

Test(policy_decide, group_rule_overrides_star)
{
    const char *y = CH("{groupPolicy: open, groups: {\"-100\": {requireMention: true}, "
                       "\"*\": {requireMention: false}, \"-300\": {requireMention: false}}}");
    gw_envelope_t e = grp("-100", "hello");
    cr_assert_eq(decide(y, NULL, &e, NULL), GW_VERDICT_CONTEXT); /* own rule: true */
    e = grp("-200", "hello");
    cr_assert_eq(decide(y, NULL, &e, NULL), GW_VERDICT_RUN); /* "*": false */
    e = grp("-300", "hello");
    cr_assert_eq(decide(y, NULL, &e, NULL), GW_VERDICT_RUN);

    const char *y2 = CH("{groupPolicy: open, groups: {\"*\": {requireMention: true}, "
                        "\"-300\": {requireMention: false}}}");
    e = grp("-300", "hello");
    cr_assert_eq(decide(y2, NULL, &e, NULL), GW_VERDICT_RUN); /* own rule: false */
    e = grp("-301", "hello");
    cr_assert_eq(decide(y2, NULL, &e, NULL), GW_VERDICT_CONTEXT);
}

Test(policy_decide, group_rule_without_star_defaults_to_required)
{
    const char *y = CH("{groupPolicy: open, groups: {\"-300\": {requireMention: false}}}");
    gw_envelope_t e = grp("-301", "hello");
    cr_assert_eq(decide(y, NULL, &e, NULL), GW_VERDICT_CONTEXT);
}

Test(policy_decide, mention_by_platform_flag)
{
    gw_envelope_t e = grp("-100", "hello");
    e.mentioned = 1;
    cr_assert_eq(decide(CH("{groupPolicy: open}"), NULL, &e, NULL), GW_VERDICT_RUN);
}

Test(policy_decide, mention_by_reply_to_bot)
{
    gw_envelope_t e = grp("-100", "hello");
    e.reply_to_bot = 1;
    e.reply_to_id = "m0";
    cr_assert_eq(decide(CH("{groupPolicy: open}"), NULL, &e, NULL), GW_VERDICT_RUN);
}

Test(policy_decide, mention_by_channel_pattern)
{
    const char *y = CH("{groupPolicy: open, mentionPatterns: [\"@?openclaw\\\\b\", \"^bot[,:]\"]}");
    gw_envelope_t e = grp("-100", "hey @OpenClaw what's up");
    cr_assert_eq(decide(y, NULL, &e, NULL), GW_VERDICT_RUN);
    e = grp("-100", "BOT: status");
    cr_assert_eq(decide(y, NULL, &e, NULL), GW_VERDICT_RUN);
    e = grp("-100", "the bot: status"); /* ^ anchors */
    cr_assert_eq(decide(y, NULL, &e, NULL), GW_VERDICT_CONTEXT);
    e = grp("-100", "openclawx");
    cr_assert_eq(decide(y, NULL, &e, NULL), GW_VERDICT_CONTEXT);
}

Test(policy_decide, mention_by_agent_pattern)
{
    gw_mention_set_t agent;
    char *pats[] = {"\\bsupport\\b"};
    cr_assert_eq(gw_mention_set_build(&agent, pats, 1, NULL), 0);
    const char *y = CH("{groupPolicy: open, mentionPatterns: [\"@openclaw\"]}");
    gw_envelope_t e = grp("-100", "need SUPPORT here");
    cr_assert_eq(decide(y, &agent, &e, NULL), GW_VERDICT_RUN);
    cr_assert_eq(decide(y, NULL, &e, NULL), GW_VERDICT_CONTEXT); /* no agent patterns */
    e = grp("-100", "supportive words");
    cr_assert_eq(decide(y, &agent, &e, NULL), GW_VERDICT_CONTEXT);
    gw_mention_set_free(&agent);
}

Test(policy_decide, mentioned_helper)
{
    gw_channel_policy_t p;
    build_ok(CH("{mentionPatterns: [\"hey bot\"]}"), &p);
    gw_envelope_t e = grp("-1", "HEY BOT, hi");
    cr_assert(gw_policy_mentioned(&p, NULL, &e));
    e = grp("-1", "hey");
    cr_assert_not(gw_policy_mentioned(&p, NULL, &e));
    e.text = NULL; /* treated as "" */
    cr_assert_not(gw_policy_mentioned(&p, NULL, &e));
    e.mentioned = 1;
    cr_assert(gw_policy_mentioned(&p, NULL, &e));
    e.mentioned = 0;
    e.reply_to_bot = 1;
    cr_assert(gw_policy_mentioned(&p, NULL, &e));
    gw_channel_policy_free(&p);
}

Test(policy_decide, unknown_peer_kind_drops)
{
    gw_envelope_t e = rules_env(7, "telegram", "default", "x", "x", "hi");
    e.mentioned = 1;
    const char *why = NULL;
    cr_assert_eq(decide(CH("{dmPolicy: open, allowFrom: [\"*\"], groupPolicy: open}"), NULL, &e,
                        &why), GW_VERDICT_DROP);
    cr_assert_str_eq(why, "unknown peer kind");
}

/* ---- pairing ------------------------------------------------------------- */

Test(pairing, code_shape)
{
    char code[GW_PAIRING_CODE_LEN + 1];
    memset(code, 'x', sizeof(code));
    cr_assert_eq(gw_pairing_code(code), 0);
    cr_assert_eq(strlen(code), GW_PAIRING_CODE_LEN);
    cr_assert_eq(strspn(code, GW_PAIRING_ALPHABET), GW_PAIRING_CODE_LEN, "%s", code);
}

Test(pairing, code_distribution)
{
    enum { N = 10000 };
    const char *alpha = GW_PAIRING_ALPHABET;
    size_t counts[32] = {0};
    char code[GW_PAIRING_CODE_LEN + 1], first[GW_PAIRING_CODE_LEN + 1];
    int all_same = 1;
    cr_assert_eq(strlen(alpha), 32);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(gw_pairing_code(code), 0);
        cr_assert_eq(strlen(code), GW_PAIRING_CODE_LEN);
        if (i == 0)
            memcpy(first, code, sizeof(code));
        else if (strcmp(first, code) != 0)
            all_same = 0;
        for (size_t k = 0; k < GW_PAIRING_CODE_LEN; k++) {
            const char *at = strchr(alpha, code[k]);
            cr_assert(at != NULL && code[k] != '\0', "bad char %c in %s", code[k], code);
            counts[at - alpha]++;
        }
    }
    cr_assert_not(all_same);
    /* 80000 draws over 32 characters: 2500 expected each, sd about 49.
     * 2000..3000 is more than 10 sd: a failure means bias, not bad luck. */
    for (size_t k = 0; k < 32; k++)
        cr_assert(counts[k] > 2000 && counts[k] < 3000, "'%c' drawn %zu times", alpha[k],
                  counts[k]);
}

Test(pairing, no_confusable_characters)
{
    cr_assert_null(strpbrk(GW_PAIRING_ALPHABET, "01IO"));
}

Test(pairing, reply_text)
{
    char *s = gw_pairing_reply_text("telegram", "123456789", "ABCD2345");
    cr_assert_not_null(s);
    cr_assert_str_eq(s, "OpenClaw: access not configured.\n"
                        "\n"
                        "Your telegram id: 123456789\n"
                        "\n"
                        "Pairing code: ABCD2345\n"
                        "\n"
                        "Ask the bot owner to approve with:\n"
                        "openclaw pairing approve telegram ABCD2345");
    free(s);
}
