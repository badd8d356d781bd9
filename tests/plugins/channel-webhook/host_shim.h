/* host_shim.h - puts the fake inbound services (fake_inbound.h) into the
 * test host's table, for tests of the real .so.
 *
 * Why: the test host has no HTTP server, so a route a plugin registers can
 * never be called through it, and (at the time of writing) its table does
 * not set the ABI 1.1 members http_route, http_respond and inbound_submit
 * at all, so the plugin's init refuses to run. The shim overwrites those
 * three members, always, so these tests behave the same before and after
 * the core implements them. Test processes only: the table is the test
 * host's own const data, made writable for the moment of the change. */
#ifndef WH_TEST_HOST_SHIM_H
#define WH_TEST_HOST_SHIM_H

#include <openclaw/plugin.h>

/* Returns 0, or -1 (errno set) when the table could not be patched. */
int host_shim_install(const oc_host_api_t *api);

#endif
