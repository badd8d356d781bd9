/* messaging/routing: bindings, session keys, resets and reset triggers. */
#define _GNU_SOURCE /* timegm */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "messaging/routing.h"
#include "rules_helpers.h"

TestSuite(route, .init = rules_setup);
TestSuite(session_key, .init = rules_setup);
TestSuite(reset, .init = rules_setup);

/* ---- agents -------------------------------------------------------------- */

static const char *agents =
    "agents:\n"
    "  list: [{id: main}, {id: chan}, {id: acct}, {id: anypeer}, {id: peer}, {id: other}]\n";

static const char *route(const gw_config_t *c, const char *ch, const char *acct, int kind,
                         const char *peer)
{
    const gw_agent_cfg_t *a = gw_route_agent(c, ch, acct, kind, peer);
    cr_assert_not_null(a);
    return a->id;
}

static gw_config_t *load_bindings(const char *bindings)
{
    char yaml[4096];
    snprintf(yaml, sizeof(yaml), "%sbindings:\n%s", agents, bindings);
    return rules_load(yaml);
}

Test(route, no_bindings_default_agent)
{
    gw_config_t *c = rules_load("");
    cr_assert_str_eq(route(c, "telegram", "default", OC_PEER_DIRECT, "1"), "main");
    gw_config_free(c);
    c = rules_load("agents:\n  list: [{id: a}, {id: b, default: true}]\n");
    cr_assert_str_eq(route(c, "telegram", "default", OC_PEER_GROUP, "1"), "b");
    gw_config_free(c);
    c = rules_load("agents:\n  list: [{id: first}, {id: second}]\n");
    cr_assert_str_eq(route(c, "telegram", NULL, OC_PEER_GROUP, "1"), "first");
    gw_config_free(c);
}

Test(route, channel_only)
{
    gw_config_t *c = load_bindings("  - {agentId: chan, match: {channel: Telegram}}\n");
    cr_assert_str_eq(route(c, "telegram", "default", OC_PEER_DIRECT, "1"), "chan");
    cr_assert_str_eq(route(c, "TELEGRAM", "acct9", OC_PEER_GROUP, "-5"), "chan");
    cr_assert_str_eq(route(c, "slack", "default", OC_PEER_DIRECT, "1"), "main");
    cr_assert_str_eq(route(c, NULL, "default", OC_PEER_DIRECT, "1"), "main");
    gw_config_free(c);
}

/* Listed least specific first, so only specificity can pick the winner. */
static const char *levels =
    "  - {agentId: chan, match: {channel: telegram}}\n"
    "  - {agentId: acct, match: {channel: telegram, accountId: Work}}\n"
    "  - {agentId: anypeer, match: {channel: telegram, peer: {kind: group, id: \"*\"}}}\n"
    "  - {agentId: peer, match: {channel: telegram, peer: {kind: group, id: \"-100\"}}}\n";

Test(route, specificity_levels)
{
    gw_config_t *c = load_bindings(levels);
    cr_assert_str_eq(route(c, "telegram", "work", OC_PEER_GROUP, "-100"), "peer");
    cr_assert_str_eq(route(c, "telegram", "work", OC_PEER_GROUP, "-200"), "anypeer");
    cr_assert_str_eq(route(c, "telegram", "work", OC_PEER_DIRECT, "-100"), "acct");
    cr_assert_str_eq(route(c, "telegram", "WORK", OC_PEER_DIRECT, "7"), "acct");
    cr_assert_str_eq(route(c, "telegram", "home", OC_PEER_DIRECT, "7"), "chan");
    cr_assert_str_eq(route(c, "telegram", NULL, OC_PEER_DIRECT, "7"), "chan");
    cr_assert_str_eq(route(c, "discord", "work", OC_PEER_GROUP, "-100"), "main");
    gw_config_free(c);
}

Test(route, specificity_levels_reversed_order)
{
    gw_config_t *c = load_bindings(
        "  - {agentId: peer, match: {channel: telegram, peer: {kind: group, id: \"-100\"}}}\n"
        "  - {agentId: anypeer, match: {channel: telegram, peer: {kind: group, id: \"*\"}}}\n"
        "  - {agentId: acct, match: {channel: telegram, accountId: work}}\n"
        "  - {agentId: chan, match: {channel: telegram}}\n");
    cr_assert_str_eq(route(c, "telegram", "work", OC_PEER_GROUP, "-100"), "peer");
    cr_assert_str_eq(route(c, "telegram", "work", OC_PEER_GROUP, "-200"), "anypeer");
    cr_assert_str_eq(route(c, "telegram", "work", OC_PEER_DIRECT, "1"), "acct");
    cr_assert_str_eq(route(c, "telegram", "home", OC_PEER_DIRECT, "1"), "chan");
    gw_config_free(c);
}

Test(route, every_given_field_must_match)
{
    gw_config_t *c = load_bindings(
        "  - {agentId: peer, match: {channel: telegram, accountId: work, "
        "peer: {kind: direct, id: \"42\"}}}\n"
        "  - {agentId: chan, match: {channel: telegram}}\n");
    cr_assert_str_eq(route(c, "telegram", "work", OC_PEER_DIRECT, "42"), "peer");
    cr_assert_str_eq(route(c, "telegram", "home", OC_PEER_DIRECT, "42"), "chan"); /* account */
    cr_assert_str_eq(route(c, "telegram", "work", OC_PEER_GROUP, "42"), "chan");  /* kind */
    cr_assert_str_eq(route(c, "telegram", "work", OC_PEER_DIRECT, "43"), "chan"); /* id */
    cr_assert_str_eq(route(c, "slack", "work", OC_PEER_DIRECT, "42"), "main");   /* channel */
    gw_config_free(c);
}

Test(route, peer_ids_exact)
{
    gw_config_t *c = load_bindings(
        "  - {agentId: peer, match: {channel: slack, peer: {kind: direct, id: U0AbC}}}\n");
    cr_assert_str_eq(route(c, "slack", "default", OC_PEER_DIRECT, "U0AbC"), "peer");
    cr_assert_str_eq(route(c, "slack", "default", OC_PEER_DIRECT, "u0abc"), "main");
    cr_assert_str_eq(route(c, "slack", "default", OC_PEER_DIRECT, NULL), "main");
    gw_config_free(c);
}

Test(route, ties_go_to_the_first_listed)
{
    gw_config_t *c = load_bindings(
        "  - {agentId: other, match: {channel: telegram}}\n"
        "  - {agentId: chan, match: {channel: telegram}}\n"
        "  - {agentId: acct, match: {channel: telegram, accountId: a}}\n"
        "  - {agentId: other, match: {channel: telegram, accountId: a}}\n"
        "  - {agentId: anypeer, match: {channel: telegram, peer: {kind: direct, id: \"*\"}}}\n"
        "  - {agentId: other, match: {channel: telegram, accountId: a, "
        "peer: {kind: direct, id: \"*\"}}}\n"
        "  - {agentId: other, match: {channel: telegram, peer: {kind: group, id: g}}}\n"
        "  - {agentId: peer, match: {channel: telegram, peer: {kind: group, id: g}}}\n");
    cr_assert_str_eq(route(c, "telegram", "b", OC_PEER_GROUP, "h"), "other");
    cr_assert_str_eq(route(c, "telegram", "a", OC_PEER_GROUP, "h"), "acct");
    cr_assert_str_eq(route(c, "telegram", "a", OC_PEER_DIRECT, "x"), "anypeer");
    cr_assert_str_eq(route(c, "telegram", "a", OC_PEER_GROUP, "g"), "other");
    gw_config_free(c);
}

Test(route, account_star_is_channel_level)
{
    gw_config_t *c = load_bindings(
        "  - {agentId: other, match: {channel: telegram, accountId: \"*\"}}\n"
        "  - {agentId: acct, match: {channel: telegram, accountId: a}}\n");
    cr_assert_str_eq(route(c, "telegram", "a", OC_PEER_DIRECT, "1"), "acct");
    cr_assert_str_eq(route(c, "telegram", "b", OC_PEER_DIRECT, "1"), "other");
    gw_config_free(c);
}

Test(route, binding_to_the_default_agent_config)
{
    gw_config_t *c = rules_load("agents:\n  list: [{id: a}, {id: b, default: true}]\n"
                                "bindings:\n  - {agentId: a, match: {channel: x}}\n");
    cr_assert_str_eq(route(c, "x", "default", OC_PEER_DIRECT, "1"), "a");
    cr_assert_str_eq(route(c, "y", "default", OC_PEER_DIRECT, "1"), "b");
    gw_config_free(c);
}

/* ---- session keys -------------------------------------------------------- */

static gw_config_t *scope(const char *s)
{
    char yaml[128];
    snprintf(yaml, sizeof(yaml), "session: {dmScope: %s}\n", s);
    return rules_load(yaml);
}

static void expect_key(const gw_config_t *c, const char *agent, const gw_envelope_t *e,
                       const char *want)
{
    char out[600];
    memset(out, 'x', sizeof(out));
    int n = gw_session_key(c, agent, e, out, sizeof(out));
    cr_assert_eq(n, (int)strlen(want), "got %d for %s", n, want);
    cr_assert_str_eq(out, want);
}

Test(session_key, dm_scopes)
{
    gw_envelope_t e = rules_env(OC_PEER_DIRECT, "Telegram", "Work", "User42", "User42", "hi");
    gw_config_t *c = rules_load("");
    expect_key(c, "main", &e, "agent:main:main"); /* main is the default */
    gw_config_free(c);
    c = scope("main");
    expect_key(c, "Main", &e, "agent:main:main");
    gw_config_free(c);
    c = scope("per-peer");
    expect_key(c, "main", &e, "agent:main:direct:user42");
    gw_config_free(c);
    c = scope("per-channel-peer");
    expect_key(c, "main", &e, "agent:main:telegram:direct:user42");
    gw_config_free(c);
    c = scope("per-account-channel-peer");
    expect_key(c, "main", &e, "agent:main:telegram:work:direct:user42");
    gw_config_free(c);
}

Test(session_key, dm_peer_is_the_sender)
{
    gw_envelope_t e = rules_env(OC_PEER_DIRECT, "slack", "default", "D0CHAT", "U0SENDER", "hi");
    gw_config_t *c = scope("per-channel-peer");
    expect_key(c, "ops", &e, "agent:ops:slack:direct:u0sender");
    gw_config_free(c);
}

Test(session_key, dm_missing_account_is_default)
{
    gw_envelope_t e = rules_env(OC_PEER_DIRECT, "telegram", NULL, "7", "7", "hi");
    gw_config_t *c = scope("per-account-channel-peer");
    expect_key(c, "main", &e, "agent:main:telegram:default:direct:7");
    gw_config_free(c);
}

Test(session_key, group_ignores_dm_scope)
{
    gw_envelope_t e = rules_env(OC_PEER_GROUP, "Telegram", "Work", "-100ABC", "42", "hi");
    static const char *const scopes[] = {"main", "per-peer", "per-channel-peer",
                                         "per-account-channel-peer"};
    for (size_t i = 0; i < 4; i++) {
        gw_config_t *c = scope(scopes[i]);
        expect_key(c, "main", &e, "agent:main:telegram:group:-100abc");
        gw_config_free(c);
    }
}

Test(session_key, http)
{
    char out[128];
    int n = gw_session_key_http("Main", "Alice@Example.COM", out, sizeof(out));
    cr_assert_str_eq(out, "agent:main:openai-user:alice@example.com");
    cr_assert_eq(n, (int)strlen(out));
}

Test(session_key, too_long)
{
    gw_config_t *c = scope("per-peer");
    gw_envelope_t e = rules_env(OC_PEER_DIRECT, "telegram", "default", "7", "1234", "hi");
    const char *want = "agent:main:direct:1234";
    size_t len = strlen(want);
    char out[1024];
    /* Exactly enough room, then one byte short. */
    cr_assert_eq(gw_session_key(c, "main", &e, out, len + 1), (int)len);
    cr_assert_str_eq(out, want);
    cr_assert_eq(gw_session_key(c, "main", &e, out, len), -ENAMETOOLONG);
    cr_assert_str_eq(out, "");
    cr_assert_eq(gw_session_key_http("main", "bob", out, 10), -ENAMETOOLONG);

    /* Keys are at most 512 bytes, whatever the buffer. */
    char sender[600];
    size_t prefix = strlen("agent:main:direct:");
    memset(sender, 'a', sizeof(sender));
    sender[512 - prefix] = '\0';
    e.sender_id = sender;
    cr_assert_eq(gw_session_key(c, "main", &e, out, sizeof(out)), 512);
    sender[512 - prefix] = 'a';
    sender[513 - prefix] = '\0';
    cr_assert_eq(gw_session_key(c, "main", &e, out, sizeof(out)), -ENAMETOOLONG);
    char user[600];
    memset(user, 'U', sizeof(user));
    user[sizeof(user) - 1] = '\0';
    cr_assert_eq(gw_session_key_http("main", user, out, sizeof(out)), -ENAMETOOLONG);
    gw_config_free(c);
}

/* ---- resets -------------------------------------------------------------- */

static void use_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

/* Milliseconds at a UTC date and time. */
static uint64_t utc_ms(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = s};
    return (uint64_t)timegm(&tm) * 1000u;
}

static gw_session_cfg_t daily(int hour)
{
    gw_session_cfg_t s = {.dm_scope = GW_DM_SCOPE_MAIN, .reset_mode = GW_RESET_DAILY,
                          .reset_at_hour = hour, .reset_idle_minutes = 60};
    return s;
}

Test(reset, daily_utc)
{
    use_tz("UTC");
    gw_session_cfg_t s = daily(4);
    uint64_t before = utc_ms(2024, 1, 1, 3, 59, 59);
    uint64_t at = utc_ms(2024, 1, 1, 4, 0, 0);
    cr_assert(gw_session_reset_due(&s, before, at));       /* boundary reached */
    cr_assert(gw_session_reset_due(&s, before + 999, at)); /* 03:59:59.999 */
    cr_assert_not(gw_session_reset_due(&s, before, at - 1));
    cr_assert_not(gw_session_reset_due(&s, at, utc_ms(2024, 1, 2, 3, 59, 59)));
    cr_assert(gw_session_reset_due(&s, at, utc_ms(2024, 1, 2, 4, 0, 0)));
    cr_assert_not(gw_session_reset_due(&s, utc_ms(2024, 1, 1, 5, 0, 0),
                                       utc_ms(2024, 1, 1, 23, 0, 0)));
    /* Now before today's boundary: yesterday's counts. */
    cr_assert(gw_session_reset_due(&s, utc_ms(2024, 1, 1, 3, 0, 0),
                                   utc_ms(2024, 1, 2, 2, 0, 0)));
    cr_assert_not(gw_session_reset_due(&s, utc_ms(2024, 1, 1, 4, 30, 0),
                                       utc_ms(2024, 1, 2, 2, 0, 0)));
    /* Several days idle. */
    cr_assert(gw_session_reset_due(&s, utc_ms(2023, 12, 20, 12, 0, 0),
                                   utc_ms(2024, 1, 2, 2, 0, 0)));
}

Test(reset, daily_midnight_across_months)
{
    use_tz("UTC");
    gw_session_cfg_t s = daily(0);
    cr_assert(gw_session_reset_due(&s, utc_ms(2024, 2, 29, 23, 59, 0),
                                   utc_ms(2024, 3, 1, 0, 30, 0)));
    cr_assert_not(gw_session_reset_due(&s, utc_ms(2024, 2, 29, 0, 0, 0),
                                       utc_ms(2024, 2, 29, 23, 59, 59)));
    s = daily(23);
    /* 00:30 on Mar 1: the last boundary is Feb 29 23:00. */
    cr_assert(gw_session_reset_due(&s, utc_ms(2024, 2, 29, 22, 0, 0),
                                   utc_ms(2024, 3, 1, 0, 30, 0)));
    cr_assert_not(gw_session_reset_due(&s, utc_ms(2024, 2, 29, 23, 0, 0),
                                       utc_ms(2024, 3, 1, 0, 30, 0)));
}

Test(reset, daily_uses_local_time)
{
    use_tz("JST-9"); /* UTC+9, no DST; 04:00 JST = 19:00 UTC the day before */
    gw_session_cfg_t s = daily(4);
    cr_assert(gw_session_reset_due(&s, utc_ms(2024, 1, 1, 18, 59, 0),
                                   utc_ms(2024, 1, 1, 19, 0, 0)));
    cr_assert_not(gw_session_reset_due(&s, utc_ms(2024, 1, 1, 3, 0, 0),
                                       utc_ms(2024, 1, 1, 5, 0, 0)));
}

Test(reset, idle)
{
    gw_session_cfg_t s = {.reset_mode = GW_RESET_IDLE, .reset_at_hour = 4,
                          .reset_idle_minutes = 60};
    uint64_t t = utc_ms(2024, 1, 1, 12, 0, 0);
    cr_assert_not(gw_session_reset_due(&s, t, t));
    cr_assert_not(gw_session_reset_due(&s, t, t + 3600000u)); /* exactly 60 min */
    cr_assert(gw_session_reset_due(&s, t, t + 3600001u));
    cr_assert_not(gw_session_reset_due(&s, t + 5000, t)); /* clock went back */
    s.reset_idle_minutes = 1;
    cr_assert(gw_session_reset_due(&s, t, t + 60001u));
}

Test(reset, none)
{
    gw_session_cfg_t s = {.reset_mode = GW_RESET_NONE, .reset_at_hour = 4,
                          .reset_idle_minutes = 1};
    cr_assert_not(gw_session_reset_due(&s, 1000, utc_ms(2030, 1, 1, 0, 0, 0)));
}

Test(reset, new_session_never_due)
{
    use_tz("UTC");
    uint64_t now = utc_ms(2024, 6, 1, 12, 0, 0);
    gw_session_cfg_t s = daily(4);
    cr_assert_not(gw_session_reset_due(&s, 0, now));
    s.reset_mode = GW_RESET_IDLE;
    cr_assert_not(gw_session_reset_due(&s, 0, now));
    s.reset_mode = GW_RESET_NONE;
    cr_assert_not(gw_session_reset_due(&s, 0, now));
}

Test(reset, from_config)
{
    use_tz("UTC");
    gw_config_t *c = rules_load("session: {reset: {mode: daily, atHour: 3}}\n");
    cr_assert(gw_session_reset_due(&c->session, utc_ms(2024, 1, 1, 2, 0, 0),
                                   utc_ms(2024, 1, 1, 3, 0, 0)));
    gw_config_free(c);
    c = rules_load("session: {reset: {mode: idle, idleMinutes: 30}}\n");
    cr_assert(gw_session_reset_due(&c->session, 1000, 1000 + 30 * 60000 + 1));
    cr_assert_not(gw_session_reset_due(&c->session, 1000, 1000 + 30 * 60000));
    gw_config_free(c);
}

/* ---- reset triggers ------------------------------------------------------ */

static void expect_trigger(const gw_session_cfg_t *s, const char *text, const char *rest)
{
    const char *r = (const char *)0x1;
    cr_assert_eq(gw_reset_trigger(s, text, &r), 1, "\"%s\" is a trigger", text);
    cr_assert_str_eq(r, rest, "rest of \"%s\"", text);
}

static void expect_no_trigger(const gw_session_cfg_t *s, const char *text)
{
    const char *r = NULL;
    cr_assert_eq(gw_reset_trigger(s, text, &r), 0, "\"%s\" is not a trigger", text);
}

Test(reset, triggers_default)
{
    gw_config_t *c = rules_load("");
    const gw_session_cfg_t *s = &c->session;
    expect_trigger(s, "/new", "");
    expect_trigger(s, "/NEW", "");
    expect_trigger(s, "/Reset", "");
    expect_trigger(s, "/reset hello", "hello");
    expect_trigger(s, "/new   two words ", "two words ");
    expect_trigger(s, "  /new  ", "");
    expect_trigger(s, "\t/reset\n", "");
    expect_trigger(s, "/new\tfoo", "foo");
    expect_no_trigger(s, "/newx");
    expect_no_trigger(s, "/resetting now");
    expect_no_trigger(s, "hello /new");
    expect_no_trigger(s, "new");
    expect_no_trigger(s, "/ne");
    expect_no_trigger(s, "");
    expect_no_trigger(s, "   ");
    expect_no_trigger(s, NULL);
    cr_assert_eq(gw_reset_trigger(s, "/new", NULL), 1); /* rest may be NULL */
    gw_config_free(c);
}

Test(reset, triggers_from_config)
{
    gw_config_t *c = rules_load("session: {resetTriggers: [/start, \"!fresh\"]}\n");
    const gw_session_cfg_t *s = &c->session;
    expect_trigger(s, "/START now", "now");
    expect_trigger(s, "!fresh", "");
    expect_no_trigger(s, "/new");
    expect_no_trigger(s, "/reset");
    gw_config_free(c);
}
