/* messaging/policy.c - DM and group policy, mention gating, pairing codes. */
#define _GNU_SOURCE /* asprintf */
#include "messaging/policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "util/strv.h"

/* ---- mention patterns ---------------------------------------------------- */

/* Compiles every pattern, reporting each bad one: at its list item when
 * `list` (the mentionPatterns node) is known, else as a bare message. On
 * failure s is left empty. */
static int compile_set(gw_mention_set_t *s, char *const *patterns, size_t n,
                       gw_cfg_node_t *list, gw_diag_t *d)
{
    s->re = NULL;
    s->count = 0;
    if (n == 0)
        return 0;
    regex_t *re = calloc(n, sizeof(*re));
    if (re == NULL)
        return -ENOMEM;
    int rc = 0;
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        int err = regcomp(&re[ok], patterns[i], REG_EXTENDED | REG_ICASE | REG_NOSUB);
        if (err == 0) {
            ok++;
            continue;
        }
        if (err == REG_ESPACE) {
            rc = -ENOMEM;
            break;
        }
        char why[256];
        regerror(err, &re[ok], why, sizeof(why));
        const char *fix = "POSIX extended syntax; escape special characters with \\";
        if (list && i < list->len)
            gw_cfg_error(d, list->items[i], "invalid regular expression \"%s\": %s (%s)",
                         patterns[i], why, fix);
        else if (d)
            gw_diag_add(d, NULL, 0, 0, "invalid mention pattern \"%s\": %s (%s)", patterns[i],
                        why, fix);
        rc = -EINVAL;
    }
    if (rc != 0) {
        for (size_t i = 0; i < ok; i++)
            regfree(&re[i]);
        free(re);
        return rc;
    }
    s->re = re;
    s->count = n;
    return 0;
}

int gw_mention_set_build(gw_mention_set_t *s, char *const *patterns, size_t n, gw_diag_t *d)
{
    return compile_set(s, patterns, n, NULL, d);
}

void gw_mention_set_free(gw_mention_set_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->count; i++)
        regfree(&s->re[i]);
    free(s->re);
    s->re = NULL;
    s->count = 0;
}

static int set_matches(const gw_mention_set_t *s, const char *text)
{
    for (size_t i = 0; s && i < s->count; i++)
        if (regexec(&s->re[i], text, 0, NULL, 0) == 0)
            return 1;
    return 0;
}

/* ---- building ------------------------------------------------------------ */

/* Copies a borrowed list from the getters; *any set when "*" is in it. */
static int dup_list(const char **in, size_t n, char ***out, size_t *count, int *any)
{
    *out = NULL;
    *count = 0;
    *any = 0;
    for (size_t i = 0; i < n; i++)
        *any |= strcmp(in[i], "*") == 0;
    return gw_strv_dup(out, count, in, n);
}

/* A list key: 0 (also when missing), -EINVAL (reported) or -ENOMEM. */
static int read_list(gw_cfg_node_t *section, const char *key, char ***out, size_t *count,
                     int *any, gw_diag_t *d)
{
    const char **v = NULL;
    size_t n = 0;
    *out = NULL;
    *count = 0;
    *any = 0;
    int rc = gw_cfg_get_str_list(section, key, &v, &n, d);
    if (rc == -ENOENT)
        return 0;
    if (rc != 0)
        return rc;
    rc = dup_list(v, n, out, count, any);
    free(v);
    return rc;
}

static int read_groups(gw_channel_policy_t *p, gw_cfg_node_t *section, gw_diag_t *d)
{
    static const char *const keys[] = {"requireMention", NULL};
    gw_cfg_node_t *groups = NULL;
    int rc = gw_cfg_get_map(section, "groups", &groups, d);
    if (rc == -ENOENT)
        return 0;
    if (rc != 0 || groups->len == 0)
        return rc;
    p->groups = calloc(groups->len, sizeof(*p->groups));
    if (p->groups == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < groups->len; i++) {
        gw_cfg_node_t *e = gw_cfg_at(groups, i);
        gw_group_rule_t *g = &p->groups[p->group_count];
        if (e->type != OC_CFG_MAP && e->type != OC_CFG_NULL) {
            gw_cfg_error(d, e, "expected a map, got %s (write {requireMention: true} or "
                         "{requireMention: false})", gw_cfg_type_name(e));
            rc = -EINVAL;
            continue;
        }
        g->group_id = strdup(groups->keys[i]);
        if (g->group_id == NULL)
            return -ENOMEM;
        p->group_count++;
        /* A null entry ("<id>:" alone) is all defaults. */
        if (gw_cfg_get_bool(e, "requireMention", 1, &g->require_mention, d) == -EINVAL)
            rc = -EINVAL;
        if (gw_cfg_report_unknown_keys(e, keys, d) > 0) {
            rc = -EINVAL;
            /* Reported here already: the plugin host's unused-key pass over
             * the channel section must not report them a second time. */
            for (size_t k = 0; k < e->len; k++)
                gw_cfg_mark_used(e->items[k]);
        }
    }
    return rc;
}

static int read_mentions(gw_channel_policy_t *p, gw_cfg_node_t *section, gw_diag_t *d)
{
    const char **v = NULL;
    size_t n = 0;
    int rc = gw_cfg_get_str_list(section, "mentionPatterns", &v, &n, d);
    if (rc == -ENOENT)
        return 0;
    if (rc != 0)
        return rc;
    rc = compile_set(&p->mentions, (char *const *)v, n, gw_cfg_lookup(section, "mentionPatterns"),
                     d);
    free(v);
    return rc;
}

/* Keeps the worst result: -ENOMEM over -EINVAL over 0. */
static int worse(int a, int b)
{
    if (a == -ENOMEM || b == -ENOMEM)
        return -ENOMEM;
    return a != 0 ? a : b;
}

int gw_channel_policy_build(gw_channel_policy_t *p, const char *channel,
                            gw_cfg_node_t *section, gw_diag_t *d)
{
    static const char *const dm[] = {"pairing", "allowlist", "open", "disabled", NULL};
    static const char *const group[] = {"allowlist", "open", "disabled", NULL};
    static const int dm_val[] = {GW_DM_PAIRING, GW_DM_ALLOWLIST, GW_DM_OPEN, GW_DM_DISABLED};
    static const int group_val[] = {GW_GROUP_ALLOWLIST, GW_GROUP_OPEN, GW_GROUP_DISABLED};
    const char *s = NULL;
    int rc = 0;

    memset(p, 0, sizeof(*p));
    p->channel = strdup(channel ? channel : "");
    if (p->channel == NULL)
        return -ENOMEM;
    if (section && section->type == OC_CFG_NULL)
        section = NULL;
    if (section && section->type != OC_CFG_MAP) {
        gw_cfg_error(d, section, "expected a map, got %s (write the channel's keys indented "
                     "under it)", gw_cfg_type_name(section));
        section = NULL;
        rc = -EINVAL;
    }

    /* The enum getter returns an entry of the table (or the default, also
     * one), so a pointer comparison finds its index. */
    if (gw_cfg_get_enum(section, "dmPolicy", dm, dm[0], &s, d) == -EINVAL)
        rc = -EINVAL;
    for (size_t i = 0; dm[i]; i++)
        if (dm[i] == s)
            p->dm_policy = dm_val[i];
    int lrc = read_list(section, "allowFrom", &p->allow_from, &p->allow_from_count,
                        &p->allow_any, d);
    rc = worse(rc, lrc);
    /* A broken allowFrom is reported already; don't pile on. */
    if (p->dm_policy == GW_DM_OPEN && !p->allow_any && lrc == 0) {
        /* The reference refuses "open" without an explicit "*", so that
         * opening DMs to everyone is never an accident. */
        gw_cfg_error(d, gw_cfg_lookup(section, "dmPolicy"), "dmPolicy \"open\" requires \"*\" "
                     "in allowFrom (add \"*\" to allowFrom to accept DMs from anyone, or use "
                     "dmPolicy: allowlist)");
        rc = worse(rc, -EINVAL);
    }

    if (gw_cfg_get_enum(section, "groupPolicy", group, group[0], &s, d) == -EINVAL)
        rc = worse(rc, -EINVAL);
    for (size_t i = 0; group[i]; i++)
        if (group[i] == s)
            p->group_policy = group_val[i];
    rc = worse(rc, read_list(section, "groupAllowFrom", &p->group_allow_from,
                             &p->group_allow_from_count, &p->group_allow_any, d));
    rc = worse(rc, read_groups(p, section, d));
    rc = worse(rc, read_mentions(p, section, d));

    /* On failure p is released here, so the caller only frees on success
     * (freeing a failed p is harmless too: it is zeroed). */
    if (rc != 0)
        gw_channel_policy_free(p);
    return rc;
}

void gw_channel_policy_free(gw_channel_policy_t *p)
{
    if (p == NULL)
        return;
    free(p->channel);
    gw_strv_free(p->allow_from, p->allow_from_count);
    gw_strv_free(p->group_allow_from, p->group_allow_from_count);
    for (size_t i = 0; i < p->group_count; i++)
        free(p->groups[i].group_id);
    free(p->groups);
    gw_mention_set_free(&p->mentions);
    memset(p, 0, sizeof(*p));
}

/* ---- decisions ----------------------------------------------------------- */

static int in_list(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

int gw_policy_mentioned(const gw_channel_policy_t *p, const gw_mention_set_t *agent,
                        const gw_envelope_t *e)
{
    if (e->mentioned || e->reply_to_bot)
        return 1;
    const char *text = e->text ? e->text : "";
    return (p && set_matches(&p->mentions, text)) || set_matches(agent, text);
}

/* The group's own rule, else "*", else the default (mention required). */
static int require_mention(const gw_channel_policy_t *p, const char *group_id)
{
    const gw_group_rule_t *star = NULL;
    for (size_t i = 0; i < p->group_count; i++) {
        if (group_id && strcmp(p->groups[i].group_id, group_id) == 0)
            return p->groups[i].require_mention;
        if (star == NULL && strcmp(p->groups[i].group_id, "*") == 0)
            star = &p->groups[i];
    }
    return star ? star->require_mention : 1;
}

static int verdict(const char **reason, const char *why, int v)
{
    if (reason)
        *reason = why;
    return v;
}

int gw_policy_decide(const gw_channel_policy_t *p, const gw_mention_set_t *agent,
                     const gw_envelope_t *e, const char **reason)
{
    if (e->peer_kind == OC_PEER_DIRECT) {
        if (p->dm_policy == GW_DM_DISABLED)
            return verdict(reason, "dm: dmPolicy disabled", GW_VERDICT_DROP);
        if (p->allow_any || in_list(p->allow_from, p->allow_from_count, e->sender_id))
            return verdict(reason, "dm: sender allowed", GW_VERDICT_RUN);
        if (p->dm_policy == GW_DM_PAIRING)
            return verdict(reason, "dm: unknown sender, pairing", GW_VERDICT_PAIRING);
        /* allowlist; also "open" without "*", which build refuses: fail closed. */
        return verdict(reason, "dm: sender not in allowFrom", GW_VERDICT_DROP);
    }
    if (e->peer_kind != OC_PEER_GROUP)
        return verdict(reason, "unknown peer kind", GW_VERDICT_DROP);
    if (p->group_policy == GW_GROUP_DISABLED)
        return verdict(reason, "group: groupPolicy disabled", GW_VERDICT_DROP);
    if (p->group_policy != GW_GROUP_OPEN && !p->group_allow_any &&
        !in_list(p->group_allow_from, p->group_allow_from_count, e->peer_id))
        return verdict(reason, "group: not in groupAllowFrom", GW_VERDICT_DROP);
    if (require_mention(p, e->peer_id) && !gw_policy_mentioned(p, agent, e))
        return verdict(reason, "group: not mentioned, kept as context", GW_VERDICT_CONTEXT);
    return verdict(reason, "group: allowed", GW_VERDICT_RUN);
}

/* ---- pairing ------------------------------------------------------------- */

int gw_pairing_code(char *out)
{
    static const char alphabet[] = GW_PAIRING_ALPHABET;
    const unsigned n = sizeof(alphabet) - 1;
    /* Bytes at or above `limit` would favour the first 256 % n characters;
     * they are drawn again. With the 32-character alphabet limit is 256 and
     * nothing is ever rejected. */
    const unsigned limit = 256 - 256 % n;
    unsigned char buf[GW_PAIRING_CODE_LEN * 2];
    size_t got = 0;
    while (got < GW_PAIRING_CODE_LEN) {
        if (gnutls_rnd(GNUTLS_RND_NONCE, buf, sizeof(buf)) != 0)
            return -EIO;
        for (size_t i = 0; i < sizeof(buf) && got < GW_PAIRING_CODE_LEN; i++)
            if (buf[i] < limit)
                out[got++] = alphabet[buf[i] % n];
    }
    out[got] = '\0';
    return 0;
}

char *gw_pairing_reply_text(const char *channel, const char *sender_id, const char *code)
{
    char *s = NULL;
    if (asprintf(&s,
                 "OpenClaw: access not configured.\n\n"
                 "Your %s id: %s\n\n"
                 "Pairing code: %s\n\n"
                 "Ask the bot owner to approve with:\n"
                 "openclaw pairing approve %s %s",
                 channel, sender_id, code, channel, code) < 0)
        return NULL;
    return s;
}
