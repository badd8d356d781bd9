/* messaging/routing.h - which agent answers, in which session (SPEC §7).
 *
 * Pure functions over the loaded configuration. Threads: any (they only read
 * the immutable config). */
#ifndef GW_MESSAGING_ROUTING_H
#define GW_MESSAGING_ROUTING_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "messaging/envelope.h"

/* The agent for a message: bindings[] pick it, the most specific match
 * winning (reference §4: exact peer, then peer "*", then accountId, then
 * channel alone); every field a binding gives must match (channel and
 * account compared case-insensitively, peer ids exactly). Ties go to the
 * binding listed first. Without a match: the default agent. Never NULL. */
const gw_agent_cfg_t *gw_route_agent(const gw_config_t *c, const char *channel,
                                     const char *account, int peer_kind, const char *peer_id);

/* The session key (lower-case) for a message routed to agent_id:
 *  DM, per session.dmScope:
 *    main                      agent:<id>:main
 *    per-peer                  agent:<id>:direct:<sender>
 *    per-channel-peer          agent:<id>:<channel>:direct:<sender>
 *    per-account-channel-peer  agent:<id>:<channel>:<account>:direct:<sender>
 *  group                       agent:<id>:<channel>:group:<peer_id>
 * For DMs the peer is the sender. Written into out (size outlen); returns
 * the length, or -ENAMETOOLONG when it does not fit (keys are at most 512
 * bytes). */
int gw_session_key(const gw_config_t *c, const char *agent_id, const gw_envelope_t *e,
                   char *out, size_t outlen);
/* agent:<id>:openai-user:<user> (lower-case), same contract. */
int gw_session_key_http(const char *agent_id, const char *user, char *out, size_t outlen);

/* True when a session last updated at updated_ms (wall clock) is stale at
 * now_ms under session.reset: daily = a reset boundary (atHour, local time)
 * passed since updated_ms; idle = more than idleMinutes passed; none = never.
 * updated_ms == 0 (new session) is never stale. */
int gw_session_reset_due(const gw_session_cfg_t *s, uint64_t updated_ms, uint64_t now_ms);

/* A reset trigger: text that is exactly a session.resetTriggers entry, or
 * starts with one followed by whitespace (case-insensitive, surrounding
 * whitespace ignored). Returns 1 and sets *rest to the text after the
 * trigger with leading whitespace skipped ("" when nothing follows), or 0. */
int gw_reset_trigger(const gw_session_cfg_t *s, const char *text, const char **rest);

#endif
