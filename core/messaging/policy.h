/* messaging/policy.h - who may talk to the bot: DM policy and pairing, group
 * policy and mention gating (SPEC §7), per channel.
 *
 * The policy keys live in each channel's own section, channels.<name>:
 *   dmPolicy: pairing (default) | allowlist | open | disabled
 *   allowFrom: [sender ids]    ("open" requires "*" in it)
 *   groupPolicy: allowlist (default) | open | disabled
 *   groupAllowFrom: [group ids] ("*" = any group)
 *   groups: {"*": {requireMention: bool (default true)}, "<groupId>": {...}}
 *   mentionPatterns: [POSIX extended regexes, case-insensitive]
 * The core reads (and so marks as used) only these keys; the channel plugin
 * reads the rest of its section.
 *
 * Threads: build on the main loop; a built gw_channel_policy_t is immutable
 * and may be read from any thread. */
#ifndef GW_MESSAGING_POLICY_H
#define GW_MESSAGING_POLICY_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "messaging/envelope.h"
#include "util/diag.h"

#define GW_DM_PAIRING 1
#define GW_DM_ALLOWLIST 2
#define GW_DM_OPEN 3
#define GW_DM_DISABLED 4

#define GW_GROUP_ALLOWLIST 1
#define GW_GROUP_OPEN 2
#define GW_GROUP_DISABLED 3

/* Pairing constants (SPEC §7). */
#define GW_PAIRING_ALPHABET "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#define GW_PAIRING_CODE_LEN 8
#define GW_PAIRING_TTL_MS (60ull * 60 * 1000)
#define GW_PAIRING_MAX_PENDING 3

/* Compiled mention patterns (POSIX extended, case-insensitive, no
 * sub-matches). Used for channels.<name>.mentionPatterns (inside
 * gw_channel_policy_t) and for each agent's groupChat.mentionPatterns. */
typedef struct gw_mention_set_s {
    regex_t *re;
    size_t count;
} gw_mention_set_t;

typedef struct gw_group_rule_s {
    char *group_id;       /* "*" for the default rule */
    int require_mention;  /* 1/0 */
} gw_group_rule_t;

typedef struct gw_channel_policy_s {
    char *channel;        /* owned */
    int dm_policy;        /* GW_DM_* */
    char **allow_from;    /* owned */
    size_t allow_from_count;
    int allow_any;        /* "*" in allowFrom */
    int group_policy;     /* GW_GROUP_* */
    char **group_allow_from;
    size_t group_allow_from_count;
    int group_allow_any;
    gw_group_rule_t *groups;
    size_t group_count;
    gw_mention_set_t mentions; /* mentionPatterns */
} gw_channel_policy_t;

/* Reads the policy keys of channels.<name> (`section` may be NULL: all
 * defaults), marking them used. Problems (bad enum, "open" without "*",
 * a regex that does not compile) go to d with file:line:col; returns 0 or
 * -EINVAL. */
int gw_channel_policy_build(gw_channel_policy_t *p, const char *channel,
                            gw_cfg_node_t *section, gw_diag_t *d);
void gw_channel_policy_free(gw_channel_policy_t *p);

/* What to do with a message. */
#define GW_VERDICT_RUN 1        /* answer it */
#define GW_VERDICT_DROP 2       /* silently processed, no answer, not kept */
#define GW_VERDICT_CONTEXT 3    /* keep in the transcript as context, no answer */
#define GW_VERDICT_PAIRING 4    /* DM from an unknown sender under dmPolicy pairing:
                                   check the allow store; if absent, pairing flow */

/* Compiles patterns; a pattern that does not compile is reported to d (may be
 * NULL) with regerror's text; returns 0 or -EINVAL / -ENOMEM. */
int gw_mention_set_build(gw_mention_set_t *s, char *const *patterns, size_t n, gw_diag_t *d);
void gw_mention_set_free(gw_mention_set_t *s);

/* True when the message mentions the bot: the platform said so
 * (e->mentioned), it replies to the bot (e->reply_to_bot), or the text
 * matches a pattern of the channel or of the agent (agent may be NULL). */
int gw_policy_mentioned(const gw_channel_policy_t *p, const gw_mention_set_t *agent,
                        const gw_envelope_t *e);

/* The decision that needs no storage, in the reference's order:
 *  DM:    disabled -> DROP; sender in allowFrom (or "*") -> RUN;
 *         allowlist -> DROP; pairing -> PAIRING (the caller checks the allow
 *         store, then runs the pairing flow for unknown senders).
 *  group: disabled -> DROP; allowlist and group not in groupAllowFrom -> DROP;
 *         requireMention (the group's rule, else "*", default true) and not
 *         mentioned -> CONTEXT; else RUN.
 * *reason (may be NULL) gets a static string for logs. */
int gw_policy_decide(const gw_channel_policy_t *p, const gw_mention_set_t *agent,
                     const gw_envelope_t *e, const char **reason);

/* A fresh pairing code: GW_PAIRING_CODE_LEN characters from the alphabet,
 * uniformly drawn (rejection sampling) from gnutls_rnd(GNUTLS_RND_NONCE).
 * out has room for GW_PAIRING_CODE_LEN + 1. 0 or a negative errno. */
int gw_pairing_code(char *out);

/* The text sent to an unknown sender (SPEC §7, reference §4):
 * "OpenClaw: access not configured.\n\nYour <channel> id: <sender>\n\n
 *  Pairing code: <CODE>\n\nAsk the bot owner to approve with:\n
 *  openclaw pairing approve <channel> <CODE>". malloc'd. */
char *gw_pairing_reply_text(const char *channel, const char *sender_id, const char *code);

#endif
