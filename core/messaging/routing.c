/* messaging/routing.c - bindings to agents, session keys, session resets. */
#include "messaging/routing.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Session keys longer than this are refused whatever the buffer size, so
 * every storage back end can index them. */
#define KEY_MAX 512

/* ---- agents -------------------------------------------------------------- */

/* Specificity levels (reference §4); 0 = the binding does not apply. */
#define LEVEL_CHANNEL 1
#define LEVEL_ACCOUNT 2
#define LEVEL_PEER_ANY 3
#define LEVEL_PEER 4

static int binding_level(const gw_binding_cfg_t *b, const char *channel, const char *account,
                         int peer_kind, const char *peer_id)
{
    if (b->channel == NULL || strcasecmp(b->channel, channel) != 0)
        return 0;
    /* accountId "*" is the reference's spelling of "any account". */
    int by_account = b->account_id && strcmp(b->account_id, "*") != 0;
    if (by_account && strcasecmp(b->account_id, account) != 0)
        return 0;
    if (b->peer_kind != 0) {
        if (b->peer_kind != peer_kind || b->peer_id == NULL)
            return 0;
        if (strcmp(b->peer_id, "*") == 0)
            return LEVEL_PEER_ANY;
        return peer_id && strcmp(b->peer_id, peer_id) == 0 ? LEVEL_PEER : 0;
    }
    return by_account ? LEVEL_ACCOUNT : LEVEL_CHANNEL;
}

const gw_agent_cfg_t *gw_route_agent(const gw_config_t *c, const char *channel,
                                     const char *account, int peer_kind, const char *peer_id)
{
    const gw_agent_cfg_t *best = NULL;
    int best_level = 0;
    if (account == NULL)
        account = "default";
    for (size_t i = 0; channel && i < c->binding_count; i++) {
        const gw_binding_cfg_t *b = &c->bindings[i];
        int level = binding_level(b, channel, account, peer_kind, peer_id);
        if (level <= best_level) /* strictly greater: ties keep the first listed */
            continue;
        const gw_agent_cfg_t *a = gw_config_agent(c, b->agent_id);
        if (a == NULL) /* the schema refuses this; skip rather than trust it */
            continue;
        best = a;
        best_level = level;
    }
    return best ? best : &c->agents[c->default_agent];
}

/* ---- session keys -------------------------------------------------------- */

/* Checks the length snprintf reported, lower-cases (ASCII only: the key must
 * not depend on the locale) and returns the length. */
static int finish_key(char *out, size_t outlen, int n)
{
    if (n < 0)
        return -EINVAL;
    if ((size_t)n >= outlen || n > KEY_MAX) {
        if (outlen > 0)
            out[0] = '\0';
        return -ENAMETOOLONG;
    }
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + ('a' - 'A'));
    return n;
}

int gw_session_key(const gw_config_t *c, const char *agent_id, const gw_envelope_t *e,
                   char *out, size_t outlen)
{
    if (agent_id == NULL)
        return -EINVAL;
    const char *ch = e->channel ? e->channel : "";
    const char *acct = e->account ? e->account : "default";
    int n;
    if (e->peer_kind == OC_PEER_GROUP) {
        n = snprintf(out, outlen, "agent:%s:%s:group:%s", agent_id, ch,
                     e->peer_id ? e->peer_id : "");
        return finish_key(out, outlen, n);
    }
    const char *peer = e->sender_id ? e->sender_id : "";
    switch (c->session.dm_scope) {
    case GW_DM_SCOPE_PER_PEER:
        n = snprintf(out, outlen, "agent:%s:direct:%s", agent_id, peer);
        break;
    case GW_DM_SCOPE_PER_CHANNEL_PEER:
        n = snprintf(out, outlen, "agent:%s:%s:direct:%s", agent_id, ch, peer);
        break;
    case GW_DM_SCOPE_PER_ACCOUNT_CHANNEL_PEER:
        n = snprintf(out, outlen, "agent:%s:%s:%s:direct:%s", agent_id, ch, acct, peer);
        break;
    default: /* main: every DM shares the agent's main session */
        n = snprintf(out, outlen, "agent:%s:main", agent_id);
        break;
    }
    return finish_key(out, outlen, n);
}

int gw_session_key_http(const char *agent_id, const char *user, char *out, size_t outlen)
{
    if (agent_id == NULL)
        return -EINVAL;
    int n = snprintf(out, outlen, "agent:%s:openai-user:%s", agent_id, user ? user : "");
    return finish_key(out, outlen, n);
}

/* ---- resets -------------------------------------------------------------- */

/* The latest daily boundary (at_hour:00 local time) at or before `now`.
 * mktime with tm_isdst = -1 lets the C library settle DST, including an
 * hour that does not exist on the day clocks go forward. */
static time_t last_boundary(time_t now, int at_hour)
{
    struct tm tm;
    if (localtime_r(&now, &tm) == NULL)
        return (time_t)-1;
    tm.tm_hour = at_hour;
    tm.tm_min = 0;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    struct tm day = tm;
    time_t b = mktime(&tm);
    if (b != (time_t)-1 && b > now) {
        day.tm_mday -= 1; /* mktime normalises the day across months */
        b = mktime(&day);
    }
    return b;
}

int gw_session_reset_due(const gw_session_cfg_t *s, uint64_t updated_ms, uint64_t now_ms)
{
    if (updated_ms == 0 || now_ms <= updated_ms)
        return 0;
    switch (s->reset_mode) {
    case GW_RESET_IDLE:
        return now_ms - updated_ms > (uint64_t)s->reset_idle_minutes * 60000u;
    case GW_RESET_DAILY: {
        time_t b = last_boundary((time_t)(now_ms / 1000), s->reset_at_hour);
        return b != (time_t)-1 && b >= 0 && updated_ms < (uint64_t)b * 1000u;
    }
    default:
        return 0;
    }
}

/* ---- reset triggers ------------------------------------------------------ */

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

int gw_reset_trigger(const gw_session_cfg_t *s, const char *text, const char **rest)
{
    if (s == NULL || text == NULL)
        return 0;
    while (is_space(*text))
        text++;
    for (size_t i = 0; i < s->reset_trigger_count; i++) {
        const char *t = s->reset_triggers[i];
        size_t len = strlen(t);
        if (len == 0 || strncasecmp(text, t, len) != 0)
            continue;
        const char *p = text + len;
        /* "/newx" is not "/new": a trigger ends at whitespace or the end. */
        if (*p != '\0' && !is_space(*p))
            continue;
        while (is_space(*p))
            p++;
        if (rest)
            *rest = p; /* trailing whitespace of the rest is the caller's */
        return 1;
    }
    return 0;
}
