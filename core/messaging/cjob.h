/* messaging/cjob.h - one storage commit (oc_commit_t) with the memory behind
 * it, retried on transient storage errors until it lands or the gateway
 * stops. Main loop only. */
#ifndef GW_MESSAGING_CJOB_H
#define GW_MESSAGING_CJOB_H

#include "messaging/msg_int.h"

typedef struct gw_cjob_s gw_cjob_t;
/* status: OC_OK, or the final error (the job gave up: stopping, or a
 * permanent error such as OC_EINVAL). The job is freed after done returns. */
typedef void (*gw_cjob_done_cb)(gw_cjob_t *j, int32_t status, void *ctx);

gw_cjob_t *gw_cjob_new(gw_messaging_t *m);
/* Builders. Strings are copied. Each returns 0 or -ENOMEM (then run fails
 * with OC_ENOMEM). */
int gw_cjob_session(gw_cjob_t *j, const char *key, const char *agent_id, const char *channel);
void gw_cjob_clear(gw_cjob_t *j);
int gw_cjob_turn(gw_cjob_t *j, const char *role, const char *content, const char *meta_json,
                 uint64_t created_ms);
int gw_cjob_inbox_done(gw_cjob_t *j, uint64_t inbox_id);
int gw_cjob_outbox(gw_cjob_t *j, const char *idem_key, const char *channel, const char *account,
                   int peer_kind, const char *peer_id, const char *text,
                   const char *in_reply_to);
size_t gw_cjob_outbox_count(const gw_cjob_t *j);
/* Runs it; done(j, status, ctx) later, exactly once. */
void gw_cjob_run(gw_cjob_t *j, gw_cjob_done_cb done, void *ctx);

#endif
