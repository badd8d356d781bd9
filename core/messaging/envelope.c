/* messaging/envelope.c - copying, checking and (de)serialising envelopes. */
#include "messaging/envelope.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "loop/loop.h"

#define MAX_ID_BYTES 256          /* ids of every platform fit easily */
#define MAX_TEXT_BYTES (1u << 20) /* 1 MiB of text per message */
#define MAX_MENTIONS 64

static int copy_str(char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL)
        return 0;
    return (*dst = strdup(src)) ? 0 : -ENOMEM;
}

static int bad_id(const char *s)
{
    return s == NULL || s[0] == '\0' || strlen(s) > MAX_ID_BYTES;
}

int gw_envelope_from_oc(gw_envelope_t *e, const oc_envelope_t *in, const char **why)
{
    memset(e, 0, sizeof(*e));
    *why = NULL;
    if (in->struct_size < offsetof(oc_envelope_t, received_ms) + sizeof(uint64_t))
        *why = "envelope struct_size too small";
    else if (in->peer_kind != OC_PEER_DIRECT && in->peer_kind != OC_PEER_GROUP)
        *why = "peer_kind must be OC_PEER_DIRECT or OC_PEER_GROUP";
    else if (bad_id(in->channel))
        *why = "channel is missing or longer than 256 bytes";
    else if (in->account && (in->account[0] == '\0' || strlen(in->account) > MAX_ID_BYTES))
        *why = "account is empty or longer than 256 bytes";
    else if (bad_id(in->peer_id))
        *why = "peer id (chat id) is missing or longer than 256 bytes";
    else if (bad_id(in->sender_id))
        *why = "sender id is missing or longer than 256 bytes";
    else if (bad_id(in->message_id))
        *why = "message id is missing or longer than 256 bytes";
    else if (in->text == NULL)
        *why = "text is missing";
    else if (strlen(in->text) > MAX_TEXT_BYTES)
        *why = "text is longer than 1 MiB";
    if (*why)
        return -EINVAL;
    e->peer_kind = (int)in->peer_kind;
    e->reply_to_bot = in->reply_to_bot != 0;
    e->mentioned = in->mentioned != 0;
    e->received_ms = in->received_ms ? in->received_ms : gw_wall_ms();
    int rc = copy_str(&e->channel, in->channel);
    rc |= copy_str(&e->account, in->account ? in->account : "default");
    rc |= copy_str(&e->peer_id, in->peer_id);
    rc |= copy_str(&e->sender_id, in->sender_id);
    rc |= copy_str(&e->sender_name, in->sender_name);
    rc |= copy_str(&e->text, in->text);
    rc |= copy_str(&e->message_id, in->message_id);
    rc |= copy_str(&e->reply_to_id, in->reply_to_id);
    size_t n = 0;
    while (in->mentions && in->mentions[n] && n < MAX_MENTIONS)
        n++;
    if (n) {
        e->mentions = calloc(n + 1, sizeof(char *));
        if (e->mentions == NULL)
            rc = -ENOMEM;
        for (size_t i = 0; e->mentions && i < n; i++)
            rc |= copy_str(&e->mentions[i], in->mentions[i]);
        e->mention_count = n;
    }
    if (rc) {
        gw_envelope_free(e);
        *why = "out of memory";
        return -ENOMEM;
    }
    return 0;
}

static void put_str(json_object *o, const char *k, const char *v)
{
    if (v)
        json_object_object_add(o, k, json_object_new_string(v));
}

char *gw_envelope_to_json(const gw_envelope_t *e)
{
    json_object *o = json_object_new_object();
    if (o == NULL)
        return NULL;
    json_object_object_add(o, "v", json_object_new_int(1));
    json_object_object_add(o, "kind",
                           json_object_new_string(e->peer_kind == OC_PEER_GROUP ? "group"
                                                                                : "direct"));
    put_str(o, "channel", e->channel);
    put_str(o, "account", e->account);
    put_str(o, "peer", e->peer_id);
    put_str(o, "sender", e->sender_id);
    put_str(o, "senderName", e->sender_name);
    put_str(o, "text", e->text);
    put_str(o, "id", e->message_id);
    put_str(o, "replyTo", e->reply_to_id);
    if (e->reply_to_bot)
        json_object_object_add(o, "replyToBot", json_object_new_boolean(1));
    if (e->mentioned)
        json_object_object_add(o, "mentioned", json_object_new_boolean(1));
    if (e->mention_count) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < e->mention_count; i++)
            json_object_array_add(a, json_object_new_string(e->mentions[i]));
        json_object_object_add(o, "mentions", a);
    }
    json_object_object_add(o, "ts", json_object_new_int64((int64_t)e->received_ms));
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    char *out = s ? strdup(s) : NULL;
    json_object_put(o);
    return out;
}

static int get_str(json_object *o, const char *k, char **dst, int required)
{
    json_object *v;
    *dst = NULL;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
        return required ? -EINVAL : 0;
    return (*dst = strdup(json_object_get_string(v))) ? 0 : -ENOMEM;
}

int gw_envelope_from_json(gw_envelope_t *e, const char *json)
{
    memset(e, 0, sizeof(*e));
    json_object *o = json_tokener_parse(json);
    if (o == NULL || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return -EINVAL;
    }
    json_object *v;
    int rc = 0;
    e->peer_kind = OC_PEER_DIRECT;
    if (json_object_object_get_ex(o, "kind", &v) &&
        strcmp(json_object_get_string(v), "group") == 0)
        e->peer_kind = OC_PEER_GROUP;
    rc = get_str(o, "channel", &e->channel, 1);
    if (!rc) rc = get_str(o, "account", &e->account, 1);
    if (!rc) rc = get_str(o, "peer", &e->peer_id, 1);
    if (!rc) rc = get_str(o, "sender", &e->sender_id, 1);
    if (!rc) rc = get_str(o, "senderName", &e->sender_name, 0);
    if (!rc) rc = get_str(o, "text", &e->text, 1);
    if (!rc) rc = get_str(o, "id", &e->message_id, 1);
    if (!rc) rc = get_str(o, "replyTo", &e->reply_to_id, 0);
    e->reply_to_bot = json_object_object_get_ex(o, "replyToBot", &v) && json_object_get_boolean(v);
    e->mentioned = json_object_object_get_ex(o, "mentioned", &v) && json_object_get_boolean(v);
    if (json_object_object_get_ex(o, "ts", &v))
        e->received_ms = (uint64_t)json_object_get_int64(v);
    if (!rc && json_object_object_get_ex(o, "mentions", &v) &&
        json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        e->mentions = calloc(n + 1, sizeof(char *));
        if (e->mentions == NULL)
            rc = -ENOMEM;
        for (size_t i = 0; !rc && i < n; i++) {
            const char *m = json_object_get_string(json_object_array_get_idx(v, i));
            if ((e->mentions[i] = strdup(m ? m : "")) == NULL)
                rc = -ENOMEM;
            e->mention_count = i + 1;
        }
    }
    json_object_put(o);
    if (rc)
        gw_envelope_free(e);
    return rc;
}

void gw_envelope_free(gw_envelope_t *e)
{
    free(e->channel);
    free(e->account);
    free(e->peer_id);
    free(e->sender_id);
    free(e->sender_name);
    free(e->text);
    free(e->message_id);
    free(e->reply_to_id);
    for (size_t i = 0; i < e->mention_count; i++)
        free(e->mentions[i]);
    free(e->mentions);
    memset(e, 0, sizeof(*e));
}
