/* Shared by the policy and routing tests: a clean environment, configs
 * loaded from YAML strings, envelopes built by hand, exact message checks.
 * Criterion runs each test in its own process, so setenv never leaks. */
#ifndef TEST_MESSAGING_RULES_HELPERS_H
#define TEST_MESSAGING_RULES_HELPERS_H

#include <stddef.h>

#include "config/config.h"
#include "messaging/envelope.h"

/* .init: unsets every OPENCLAW_* variable (they override config values) and
 * points OPENCLAW_STATE_DIR at a path that is never created. */
void rules_setup(void);

/* Loads `yaml` as "t.yaml"; asserts success and no messages. */
gw_config_t *rules_load(const char *yaml);

/* Asserts that `d` holds a message equal to `msg` / exactly `n` messages
 * (both print every message on failure). */
void rules_expect(const gw_diag_t *d, const char *msg);
void rules_expect_count(const gw_diag_t *d, size_t n);

/* An envelope over borrowed strings (never passed to gw_envelope_free). */
gw_envelope_t rules_env(int peer_kind, const char *channel, const char *account,
                        const char *peer_id, const char *sender_id, const char *text);

#endif
