/* util/instance.h - this gateway process's identity among the gateways that
 * share one store: the holder name of its leases and outbox claims. */
#ifndef GW_UTIL_INSTANCE_H
#define GW_UTIL_INSTANCE_H

/* "<hostname>/<pid>/<8 random hex digits>", made once per process (a
 * restarted gateway is a new holder, so it never mistakes a lease of its
 * previous life for its own). Thread-safe; the string lives until exit. */
const char *gw_instance_id(void);

#endif
