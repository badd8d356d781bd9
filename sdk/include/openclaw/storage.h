/* openclaw/storage.h - storage plugins: sessions and transcripts (1.0); the
 * durable inbox and outbox, the atomic turn commit, DM pairing requests and
 * allow lists (1.1); leases, per-session inbox reads, outbox claims and
 * pruning for several gateways on one store (1.2). APPEND ONLY (see
 * plugin.h).
 *
 * Every operation is asynchronous: it returns OC_PENDING and calls its
 * callback exactly once, later, on the loop that called it; or it returns an
 * error at once and the callback never runs. Operations on one session are
 * applied in the order they were called. A plugin never blocks the loop:
 * blocking client libraries (sqlite) run their calls through work_submit.
 *
 * A networked store (PostgreSQL, Redis) reconnects by itself, with backoff.
 * While it cannot reach its server it reports OC_EUNAVAIL from health and
 * fails operations with OC_EUNAVAIL (through the callback, promptly: within
 * the plugin's operation timeout) instead of holding them: the gateway then
 * refuses new inbound messages with 503 rather than acknowledge what it
 * cannot persist, and retries its own writes. */
#ifndef OPENCLAW_STORAGE_H
#define OPENCLAW_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "openclaw/channel.h"
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

/* ---- since 1.1: inbox, outbox, commit, pairing, allow lists ---------------- */

/* Inbox item states. */
#define OC_INBOX_PENDING 1 /* accepted, not yet processed */
#define OC_INBOX_DONE 2    /* processed: answered, dropped or kept as context */

/* An accepted inbound message. Borrowed wherever it is passed. */
typedef struct oc_inbox_item_s {
    uint32_t struct_size;
    uint32_t state;            /* OC_INBOX_*; ignored by inbox_put (always pending) */
    uint64_t id;               /* assigned by storage: ascending in accept order, > 0 */
    const char *channel;       /* dedupe key: (channel, account, message_id) */
    const char *account;
    const char *message_id;
    const char *envelope_json; /* the envelope as the core serialised it; opaque here */
    uint64_t received_ms;      /* wall clock */
    /* -- since 1.2 -- */
    const char *session_key;   /* the session the message routes to, or NULL (then
                                  inbox_session_pending never returns it) */
} oc_inbox_item_t;

/* Outbox item states. */
#define OC_OUTBOX_PENDING 1 /* to deliver (next_attempt_ms says when) */
#define OC_OUTBOX_SENT 2    /* the channel confirmed delivery */
#define OC_OUTBOX_FAILED 3  /* gave up (final error, or too many attempts) */

/* A reply to deliver. Borrowed wherever it is passed. */
typedef struct oc_outbox_item_s {
    uint32_t struct_size;
    uint32_t state;              /* OC_OUTBOX_*; inserted items are pending */
    uint64_t id;                 /* assigned by storage, ascending, > 0 */
    const char *idempotency_key; /* unique: inserting an existing key is a no-op */
    const char *channel;
    const char *account;
    uint32_t peer_kind;          /* OC_PEER_DIRECT or OC_PEER_GROUP */
    uint32_t attempts;           /* delivery attempts so far */
    const char *peer_id;
    const char *text;
    const char *in_reply_to;     /* platform message id, or NULL */
    const char *last_error;      /* or NULL */
    uint64_t created_ms;         /* wall clock; 0 = now */
    uint64_t next_attempt_ms;    /* wall clock; 0 = at once */
} oc_outbox_item_t;

/* One atomic unit of work: everything in it is applied, or nothing is. This
 * is what makes "answered exactly once" hold across kill -9: the turns, the
 * reply and the inbox state change commit together. Borrowed. */
typedef struct oc_commit_s {
    uint32_t struct_size;
    int32_t clear_transcript;        /* drop the session's turns first (reset) */
    const oc_session_t *session;     /* upserted first when non-NULL (as session_put) */
    const char *session_key;         /* where turns go; required when turn_count > 0 or
                                        clear_transcript (the session must exist, or be
                                        the one upserted above) */
    const oc_turn_t *const *turns;   /* appended in order */
    size_t turn_count;
    const uint64_t *inbox_done;      /* inbox ids set to OC_INBOX_DONE */
    size_t inbox_done_count;
    const oc_outbox_item_t *const *outbox; /* inserted pending (existing keys skipped) */
    size_t outbox_count;
    /* -- since 1.2 -- */
    uint32_t flags;                  /* OC_COMMIT_F_* */
    uint32_t reserved1;
} oc_commit_t;

/* Apply nothing and report OC_EEXIST when any inbox_done id is not pending
 * (another gateway processed it first): the guard that keeps "answered
 * exactly once" when two gateways share a store. Since 1.2. */
#define OC_COMMIT_F_INBOX_PENDING 0x1u

/* A DM pairing request. Borrowed wherever it is passed. */
typedef struct oc_pairing_s {
    uint32_t struct_size;
    uint32_t reserved0;
    const char *channel;
    const char *account;
    const char *sender_id;
    const char *code;      /* 8 characters, upper case */
    const char *meta_json; /* opaque JSON owned by the core (sender name, origin), or NULL */
    uint64_t created_ms;   /* wall clock */
    uint64_t last_seen_ms;
    uint64_t expires_ms;
} oc_pairing_t;

/* A lease: a named lock with an expiry, on the store's clock (since 1.2).
 * Borrowed wherever it is passed. */
typedef struct oc_lease_s {
    uint32_t struct_size;
    uint32_t reserved0;
    const char *name;
    const char *holder;     /* the holder now, NULL when free */
    uint64_t token;         /* fencing token: grows each time the lease changes hands
                               (never on a renewal); 0 when free */
    uint64_t expires_in_ms; /* time left as the store sees it; 0 when free */
} oc_lease_t;

/* lease: the lease after the call (held by the caller on OC_OK, by someone
 * else on OC_EBUSY), NULL on other errors. */
typedef void (*oc_lease_cb)(void *data, int32_t status, const oc_lease_t *lease);
/* item: NULL on OC_ENOENT and errors. */
typedef void (*oc_outbox_item_cb)(void *data, int32_t status, const oc_outbox_item_t *item);

/* id: the new item's, or the existing one's when duplicate != 0. */
typedef void (*oc_inbox_put_cb)(void *data, int32_t status, uint64_t id, int32_t duplicate);
typedef void (*oc_inbox_list_cb)(void *data, int32_t status, const oc_inbox_item_t *const *items,
                                 size_t count);
typedef void (*oc_outbox_list_cb)(void *data, int32_t status,
                                  const oc_outbox_item_t *const *items, size_t count);
/* request: the pending request (new or existing), NULL on error. */
typedef void (*oc_pairing_cb)(void *data, int32_t status, const oc_pairing_t *request,
                              int32_t created);
typedef void (*oc_pairing_list_cb)(void *data, int32_t status, const oc_pairing_t *const *items,
                                   size_t count);

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

    /* -- since 1.1 -- */

    /* Accept an inbound message: insert it pending unless (channel, account,
     * message_id) was accepted before (then duplicate = 1 and the first id;
     * nothing changes). Durable when cb reports OC_OK: the channel may then
     * acknowledge the platform. */
    int32_t (*inbox_put)(void *state, const oc_inbox_item_t *item, oc_inbox_put_cb cb,
                         void *data);
    /* Pending inbox items with id > after_id, ascending, at most limit (0 = 100). */
    int32_t (*inbox_pending)(void *state, uint64_t after_id, uint32_t limit, oc_inbox_list_cb cb,
                             void *data);
    /* Apply an oc_commit_t atomically. OC_ENOENT (nothing applied) when turns
     * target a session that does not exist. */
    int32_t (*commit)(void *state, const oc_commit_t *c, oc_storage_done_cb cb, void *data);
    /* Pending outbox items with id > after_id, ascending, at most limit (0 = 100),
     * whatever their next_attempt_ms. */
    int32_t (*outbox_pending)(void *state, uint64_t after_id, uint32_t limit,
                              oc_outbox_list_cb cb, void *data);
    /* Set an item's state, attempts, next attempt time and last error (NULL
     * clears it). OC_ENOENT when there is no such id. */
    int32_t (*outbox_update)(void *state, uint64_t id, uint32_t new_state, uint32_t attempts,
                             uint64_t next_attempt_ms, const char *last_error,
                             oc_storage_done_cb cb, void *data);
    /* Record a pairing request, atomically: first delete requests with
     * expires_ms <= now_ms; then, when (channel, account, sender_id) has a
     * pending request, set its last_seen_ms to now_ms and report it with
     * created = 0; else when (channel, account) already has max_pending
     * requests report OC_ELIMIT; else when req->code is the code of another
     * pending request of the channel report OC_EEXIST (draw another code and
     * call again); else insert req (created_ms = last_seen_ms = now_ms) and
     * report it with created = 1. */
    int32_t (*pairing_request)(void *state, const oc_pairing_t *req, uint32_t max_pending,
                               uint64_t now_ms, oc_pairing_cb cb, void *data);
    /* Unexpired requests (of one channel, or all when channel is NULL),
     * oldest first. */
    int32_t (*pairing_list)(void *state, const char *channel, uint64_t now_ms,
                            oc_pairing_list_cb cb, void *data);
    /* Approve, atomically: the unexpired request of `channel` with `code`
     * (compared case-insensitively) is deleted and its sender added to the
     * allow list of (channel, account). cb gets the request; OC_ENOENT when
     * there is none. created is unused (0). */
    int32_t (*pairing_approve)(void *state, const char *channel, const char *code,
                               uint64_t now_ms, oc_pairing_cb cb, void *data);
    /* Add a sender to the allow list of (channel, account); no-op when there. */
    int32_t (*allow_add)(void *state, const char *channel, const char *account,
                         const char *sender_id, oc_storage_done_cb cb, void *data);
    /* OC_OK when the sender is on the allow list of (channel, account), OC_ENOENT
     * when not. */
    int32_t (*allow_check)(void *state, const char *channel, const char *account,
                           const char *sender_id, oc_storage_done_cb cb, void *data);

    /* -- since 1.2: several gateways on one store --
     * Times are the store's own clock (PostgreSQL's, Redis's, the sqlite
     * host's), so gateways with skewed clocks agree on who holds what. */

    /* Take or renew `name` for `holder` (both 1..255 bytes) for ttl_ms
     * (1..86400000), atomically: when the lease is free, expired, or held by
     * `holder`, it is set to expire ttl_ms from now and OC_OK is reported
     * (the token grows unless holder already held it); else OC_EBUSY with
     * the current holder and the time it has left. */
    int32_t (*lease_acquire)(void *state, const char *name, const char *holder, uint32_t ttl_ms,
                             oc_lease_cb cb, void *data);
    /* Free `name` when `holder` holds it unexpired: OC_OK; else OC_ENOENT
     * (expired, taken over, or never held) and nothing changes. */
    int32_t (*lease_release)(void *state, const char *name, const char *holder,
                             oc_storage_done_cb cb, void *data);
    /* Pending inbox items whose session_key is `session_key`, with id >
     * after_id, ascending, at most limit (0 = 100). */
    int32_t (*inbox_session_pending)(void *state, const char *session_key, uint64_t after_id,
                                     uint32_t limit, oc_inbox_list_cb cb, void *data);
    /* Claim a pending outbox item for one delivery attempt, atomically: when
     * it is pending and unclaimed, its claim expired, or `holder` claimed
     * it, the claim is set to `holder` for ttl_ms and OC_OK is reported with
     * the item as stored now; OC_EBUSY when another holder's claim is
     * unexpired; OC_EEXIST (with the item) when it is no longer pending;
     * OC_ENOENT when there is no such id. outbox_update clears the claim. */
    int32_t (*outbox_claim)(void *state, uint64_t id, const char *holder, uint32_t ttl_ms,
                            oc_outbox_item_cb cb, void *data);
    /* Delete inbox items that are done and outbox items that are sent or
     * failed, received / created before before_ms (wall clock); pending
     * items are never deleted. */
    int32_t (*prune)(void *state, uint64_t before_ms, oc_storage_done_cb cb, void *data);
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
