/* test_envelope.c - envelopes: checking a channel's input, the JSON form the
 * inbox stores, and the string map behind lanes and the outbox. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messaging/envelope.h"
#include "util/map.h"

static oc_envelope_t good(void)
{
    static const char *const mentions[] = {"@bot", "@other", NULL};
    oc_envelope_t e = {
        .struct_size = sizeof(oc_envelope_t),
        .peer_kind = OC_PEER_GROUP,
        .channel = "webhook",
        .account = "acct",
        .peer_id = "g1",
        .sender_id = "u1",
        .sender_name = "Ann \"the\" user",
        .text = "hello\nworld \xc3\xa9",
        .message_id = "m-1",
        .reply_to_id = "m-0",
        .reply_to_bot = 1,
        .mentioned = 1,
        .mentions = mentions,
        .received_ms = 1700000000123ull,
    };
    return e;
}

Test(envelope, copy_serialise_parse_round_trip)
{
    oc_envelope_t in = good();
    gw_envelope_t e, back;
    const char *why = NULL;
    cr_assert_eq(gw_envelope_from_oc(&e, &in, &why), 0, "%s", why ? why : "");
    char *json = gw_envelope_to_json(&e);
    cr_assert_not_null(json);
    cr_assert_eq(gw_envelope_from_json(&back, json), 0, "%s", json);
    cr_assert_eq(back.peer_kind, OC_PEER_GROUP);
    cr_assert_str_eq(back.channel, "webhook");
    cr_assert_str_eq(back.account, "acct");
    cr_assert_str_eq(back.peer_id, "g1");
    cr_assert_str_eq(back.sender_id, "u1");
    cr_assert_str_eq(back.sender_name, "Ann \"the\" user");
    cr_assert_str_eq(back.text, "hello\nworld \xc3\xa9");
    cr_assert_str_eq(back.message_id, "m-1");
    cr_assert_str_eq(back.reply_to_id, "m-0");
    cr_assert_eq(back.reply_to_bot, 1);
    cr_assert_eq(back.mentioned, 1);
    cr_assert_eq(back.mention_count, 2);
    cr_assert_str_eq(back.mentions[1], "@other");
    cr_assert_eq(back.received_ms, 1700000000123ull);
    free(json);
    gw_envelope_free(&e);
    gw_envelope_free(&back);
}

Test(envelope, defaults_account_and_time)
{
    oc_envelope_t in = good();
    in.account = NULL;
    in.received_ms = 0;
    in.mentions = NULL;
    gw_envelope_t e;
    const char *why = NULL;
    cr_assert_eq(gw_envelope_from_oc(&e, &in, &why), 0);
    cr_assert_str_eq(e.account, "default");
    cr_assert_gt(e.received_ms, 1600000000000ull);
    cr_assert_eq(e.mention_count, 0);
    gw_envelope_free(&e);
}

static const char *reject(int which)
{
    oc_envelope_t in = good();
    char long_id[300];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    switch (which) {
    case 0: in.peer_kind = 0; break;
    case 1: in.channel = NULL; break;
    case 2: in.account = ""; break;
    case 3: in.peer_id = ""; break;
    case 4: in.sender_id = NULL; break;
    case 5: in.message_id = long_id; break;
    case 6: in.text = NULL; break;
    case 7: in.struct_size = 8; break;
    }
    gw_envelope_t e;
    const char *why = NULL;
    int rc = gw_envelope_from_oc(&e, &in, &why);
    cr_assert_eq(rc, -EINVAL, "case %d accepted", which);
    return why;
}

Test(envelope, rejects_each_missing_or_bad_field)
{
    const char *expect[] = {"peer_kind", "channel", "account", "peer id", "sender id",
                            "message id", "text", "struct_size"};
    for (int i = 0; i < 8; i++) {
        const char *why = reject(i);
        cr_assert_not_null(why);
        cr_assert(strstr(why, expect[i]) != NULL, "case %d: \"%s\" lacks \"%s\"", i, why,
                  expect[i]);
    }
}

Test(envelope, parse_rejects_garbage_and_missing_fields)
{
    gw_envelope_t e;
    cr_assert_eq(gw_envelope_from_json(&e, "not json"), -EINVAL);
    cr_assert_eq(gw_envelope_from_json(&e, "[1]"), -EINVAL);
    cr_assert_eq(gw_envelope_from_json(&e, "{\"channel\":\"w\",\"account\":\"a\"}"), -EINVAL);
}

Test(map, set_get_replace_remove_grow)
{
    gw_map_t m = GW_MAP_INIT;
    cr_assert_null(gw_map_get(&m, "x"));
    cr_assert_null(gw_map_remove(&m, "x"));
    char keys[1000][16];
    for (int i = 0; i < 1000; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        cr_assert_eq(gw_map_set(&m, keys[i], keys[i]), 0);
    }
    cr_assert_eq(m.count, 1000);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(gw_map_get(&m, keys[i]), keys[i]);
    cr_assert_eq(gw_map_set(&m, "k5", keys[7]), 0);
    cr_assert_eq(gw_map_get(&m, "k5"), keys[7]);
    cr_assert_eq(m.count, 1000);
    for (int i = 0; i < 1000; i += 2)
        cr_assert_not_null(gw_map_remove(&m, keys[i]));
    cr_assert_eq(m.count, 500);
    cr_assert_null(gw_map_get(&m, "k0"));
    cr_assert_eq(gw_map_get(&m, "k1"), keys[1]);
    gw_map_free(&m);
    cr_assert_eq(m.count, 0);
}
