/* openclaw/channel.h - channel plugins: a chat platform (Telegram, Slack,
 * a signed webhook...). A channel turns platform events into envelopes for
 * the gateway and sends replies back. APPEND ONLY (see plugin.h). */
#ifndef OPENCLAW_CHANNEL_H
#define OPENCLAW_CHANNEL_H

#include <stdint.h>

#include "openclaw/host.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OC_PEER_DIRECT 1
#define OC_PEER_GROUP 2

/* An inbound message as the platform gave it. All borrowed. */
typedef struct oc_envelope_s {
    uint32_t struct_size;
    uint32_t peer_kind;         /* OC_PEER_* */
    const char *channel;        /* channel name, e.g. "telegram" */
    const char *account;        /* channel account id ("default" when single) */
    const char *peer_id;        /* chat id: the user for DMs, the group for groups */
    const char *sender_id;      /* who wrote it */
    const char *sender_name;    /* display name, or NULL */
    const char *text;           /* UTF-8 */
    const char *message_id;     /* platform message id: the dedupe key with channel+account */
    const char *reply_to_id;    /* platform id of the message replied to, or NULL */
    int32_t reply_to_bot;       /* 1 when it replies to one of our messages */
    int32_t mentioned;          /* 1 when the platform says the bot was mentioned */
    const char *const *mentions; /* mentioned ids/names, NULL-terminated, or NULL */
    uint64_t received_ms;       /* wall clock, ms since the epoch; 0 = now */
} oc_envelope_t;

/* A reply to deliver. All borrowed for the call to send. */
typedef struct oc_outbound_s {
    uint32_t struct_size;
    uint32_t peer_kind;          /* OC_PEER_* */
    const char *account;
    const char *peer_id;
    const char *text;            /* already split at the platform's limit by the plugin */
    const char *in_reply_to;     /* platform message id, or NULL */
    const char *idempotency_key; /* stable across retries of the same reply */
} oc_outbound_t;

/* Result of a send: status OC_OK (delivered; platform_id may be NULL), or an
 * error; retryable != 0 asks the gateway to try again later (5xx, timeouts),
 * retry_after_ms when the platform said how long. */
typedef struct oc_send_result_s {
    uint32_t struct_size;
    int32_t status;
    int32_t retryable;
    uint32_t retry_after_ms;
    const char *platform_id;
    const char *error;
} oc_send_result_t;

typedef void (*oc_send_cb)(void *data, const oc_send_result_t *res);

/* Channel state names for status: "connected", "connecting", "disconnected",
 * "error", "disabled". */
typedef struct oc_channel_ops_s {
    uint32_t struct_size;
    uint32_t kind; /* OC_KIND_CHANNEL */
    /* Channel name as used in config and session keys ("telegram"). Required. */
    const char *(*channel_name)(void *state);
    /* Deliver a reply. Returns OC_PENDING and calls cb exactly once later, or
     * an error now (cb not called). Home loop. Required. */
    int32_t (*send)(void *state, const oc_outbound_t *msg, oc_send_cb cb, void *data);
    /* Current state as a static string; detail (may be NULL) is copied by the
     * caller. Home loop. Required. */
    const char *(*status)(void *state, const char **detail);
    /* Ask the platform whether credentials work (openclaw channels status
     * --probe). cb gets OC_OK or an error with text. Optional. */
    int32_t (*probe)(void *state, void (*cb)(void *data, int32_t status, const char *text),
                     void *data);
} oc_channel_ops_t;

#define OC_CHANNEL_OPS_INIT .struct_size = sizeof(oc_channel_ops_t), .kind = 1

#ifdef __cplusplus
}
#endif
#endif
