/* Shared by the config tests: a clean environment per test and exact
 * message checks. Criterion runs each test in its own process, so setenv
 * and the temporary HOME never leak between tests. */
#ifndef TEST_CONFIG_HELPERS_H
#define TEST_CONFIG_HELPERS_H

#include <stddef.h>

#include "config/config.h"

/* .init: unsets every OPENCLAW_* variable and points HOME at a new empty
 * temporary directory (so ~/.openclaw/gateway.yaml is never the user's). */
void cfg_setup(void);
/* .fini: removes the temporary directory. */
void cfg_teardown(void);
/* The temporary HOME. */
const char *cfg_home(void);
/* Writes `content` to <home>/<rel> (creating directories); returns the
 * path (static buffer, valid until the next call). */
const char *cfg_write(const char *rel, const char *content);

/* Asserts that `d` holds a message equal to `msg` (prints all on failure). */
void cfg_expect(const gw_diag_t *d, const char *msg);
/* Asserts that `d` holds exactly `n` messages (prints them on failure). */
void cfg_expect_count(const gw_diag_t *d, size_t n);

/* Parses `yaml` as "t.yaml"; asserts success. */
gw_cfg_node_t *cfg_parse_ok(const char *yaml);
/* Loads `yaml` as "t.yaml" with opts (NULL = none); asserts success. */
gw_config_t *cfg_load_ok(const gw_config_opts_t *o, const char *yaml);
/* Loads `yaml`, asserts failure, and returns the messages in *d. */
void cfg_load_fail(const gw_config_opts_t *o, const char *yaml, gw_diag_t *d);

#endif
