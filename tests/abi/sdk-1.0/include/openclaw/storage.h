/* openclaw/storage.h - storage plugins: sessions and transcripts (1.0);
 * the durable inbox/outbox, pairing and leases are appended by later minors.
 * APPEND ONLY (see plugin.h).
 *
 * Every operation is asynchronous: it returns OC_PENDING and calls its
 * callback exactly once, later, on the loop that called it; or it returns an
 * error at once and the callback never runs. Operations on one session are
 * applied in the order they were called. A plugin never blocks the loop:
 * blocking client libraries (sqlite) run their calls through work_submit. */
#ifndef OPENCLAW_STORAGE_H
#define OPENCLAW_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "openclaw/host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A session. Borrowed wherever it is passed. */
typedef struct oc_session_s {
    uint32_t struct_size;
    uint32_t reserved0;
    const char *key;        /* "agent:<id>:..." lower-case, at most 512 bytes */
    const char *agent_id;
    const char *channel;    /* may be NULL */
    const char *meta_json;  /* opaque JSON object owned by the core, or NULL */
    uint64_t created_ms;    /* wall clock; set by storage on first put when 0 */
    uint64_t updated_ms;    /* wall clock; set by storage on every put when 0 */
    uint64_t turn_count;    /* transcript turns since the last clear (read-only) */
} oc_session_t;

/* One transcript turn. Borrowed wherever it is passed. */
typedef struct oc_turn_s {
    uint32_t struct_size;
    uint32_t reserved0;
    uint64_t seq;          /* assigned by storage: 1, 2, 3... per session, never reused */
    const char *role;      /* "system", "user", "assistant", "tool" */
    const char *content;   /* UTF-8 text */
    const char *meta_json; /* opaque JSON (sender, message ids, usage), or NULL */
    uint64_t created_ms;   /* wall clock; 0 = now */
} oc_turn_t;

typedef struct oc_session_query_s {
    uint32_t struct_size;
    uint32_t limit;         /* at most this many (0 = 100); newest updated first */
    const char *agent_id;   /* only this agent's, or NULL */
    const char *key_prefix; /* only keys starting with it, or NULL */
} oc_session_query_t;

typedef void (*oc_storage_done_cb)(void *data, int32_t status);
/* session is NULL with OC_ENOENT. */
typedef void (*oc_session_cb)(void *data, int32_t status, const oc_session_t *session);
typedef void (*oc_session_list_cb)(void *data, int32_t status, const oc_session_t *const *items,
                                   size_t count);
/* turns in ascending seq order. */
typedef void (*oc_turns_cb)(void *data, int32_t status, const oc_turn_t *const *turns,
                            size_t count);
typedef void (*oc_append_cb)(void *data, int32_t status, uint64_t last_seq);

typedef struct oc_storage_ops_s {
    uint32_t struct_size;
    uint32_t kind; /* OC_KIND_STORAGE */
    /* Storage health: OC_OK when reachable, OC_EUNAVAIL when not (the
     * gateway reports "degraded"); text may be NULL. Home loop; no I/O. */
    int32_t (*health)(void *state, const char **text);
    /* Create or update a session (created_ms is kept from the first put). */
    int32_t (*session_put)(void *state, const oc_session_t *s, oc_storage_done_cb cb, void *data);
    int32_t (*session_get)(void *state, const char *key, oc_session_cb cb, void *data);
    int32_t (*session_list)(void *state, const oc_session_query_t *q, oc_session_list_cb cb,
                            void *data);
    /* Delete a session and its transcript. OC_ENOENT when absent. */
    int32_t (*session_delete)(void *state, const char *key, oc_storage_done_cb cb, void *data);
    /* Append turns atomically (all or none) to an existing session; cb gets
     * the seq of the last one. OC_ENOENT when the session does not exist. */
    int32_t (*transcript_append)(void *state, const char *key, const oc_turn_t *const *turns,
                                 size_t count, oc_append_cb cb, void *data);
    /* The last `limit` turns (0 = all), oldest first. */
    int32_t (*transcript_read)(void *state, const char *key, uint32_t limit, oc_turns_cb cb,
                               void *data);
    /* Drop a session's turns (reset); seq numbers keep growing. */
    int32_t (*transcript_clear)(void *state, const char *key, oc_storage_done_cb cb, void *data);
} oc_storage_ops_t;

#define OC_STORAGE_OPS_INIT .struct_size = sizeof(oc_storage_ops_t), .kind = 3

/* What host->storage() returns: the active storage, host-owned. */
struct oc_storage_s {
    uint32_t struct_size;
    uint32_t reserved0;
    const oc_storage_ops_t *ops;
    void *state;
};

#ifdef __cplusplus
}
#endif
#endif
