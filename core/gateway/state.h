/* gateway/state.h - the running gateway's files in the state directory:
 * gateway.pid and gateway.json (what `status`, `stop` and `restart` read). */
#ifndef GW_GATEWAY_STATE_H
#define GW_GATEWAY_STATE_H

#include <sys/types.h>

#include "util/buf.h"

/* Creates dir (and parents) with mode 0700. 0 or negative errno. */
int gw_mkdirs(const char *dir);
/* Writes gateway.pid and gateway.json (json = the object, owned by caller)
 * atomically (write + rename). 0 or negative errno. */
int gw_state_write(const char *state_dir, pid_t pid, const char *json);
/* Removes both files if they still belong to pid. */
void gw_state_remove(const char *state_dir, pid_t pid);
/* Reads gateway.json into out. 0, -ENOENT or another negative errno. */
int gw_state_read(const char *state_dir, gw_buf_t *out);
/* Non-zero when pid is alive and is an openclaw process. */
int gw_pid_is_gateway(pid_t pid);
/* True while pid exists and is not a zombie. */
int gw_pid_running(pid_t pid);

#endif
