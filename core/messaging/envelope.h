/* messaging/envelope.h - the gateway's own copy of an inbound message, and
 * its JSON form (what the inbox stores).
 *
 * Ownership: a gw_envelope_t owns every string in it; gw_envelope_free
 * releases them. Not shared between threads. */
#ifndef GW_MESSAGING_ENVELOPE_H
#define GW_MESSAGING_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include <openclaw/channel.h>

typedef struct gw_envelope_s {
    int peer_kind;      /* OC_PEER_DIRECT or OC_PEER_GROUP */
    char *channel;      /* required */
    char *account;      /* "default" when the channel gave none */
    char *peer_id;      /* required */
    char *sender_id;    /* required */
    char *sender_name;  /* or NULL */
    char *text;         /* required ("" allowed) */
    char *message_id;   /* required */
    char *reply_to_id;  /* or NULL */
    int reply_to_bot;
    int mentioned;
    char **mentions;    /* NULL-terminated, or NULL */
    size_t mention_count;
    uint64_t received_ms;
} gw_envelope_t;

/* Copies a plugin's envelope, checking it. 0, or -EINVAL with the reason in
 * why (a static string), or -ENOMEM. */
int gw_envelope_from_oc(gw_envelope_t *e, const oc_envelope_t *in, const char **why);
/* JSON text of e (malloc'd), or NULL on ENOMEM. */
char *gw_envelope_to_json(const gw_envelope_t *e);
/* Parses what gw_envelope_to_json wrote. 0 or -EINVAL / -ENOMEM. */
int gw_envelope_from_json(gw_envelope_t *e, const char *json);
void gw_envelope_free(gw_envelope_t *e);

#endif
