/* parse.h - the inbound body: JSON text to an oc_envelope_t, or the precise
 * reason why not. Pure functions (json-c only).
 *
 * Two steps, because the account must be known (and its signature checked)
 * before the fields are judged; see inbound.c and README.md. */
#ifndef WH_PARSE_H
#define WH_PARSE_H

#include <stddef.h>

#include <openclaw/channel.h>

struct json_object;

typedef struct wh_inbound_s {
    struct json_object *root; /* owned: the parsed body */
    const char *account;      /* "account" (borrowed from root), or NULL when absent/null */
    oc_envelope_t env;        /* after wh_parse_envelope: strings borrowed from root */
    const char **mentions;    /* owned, NULL-terminated; strings borrowed from root */
} wh_inbound_t;

/* Step 1: the body must be one JSON object (strict JSON, valid UTF-8, no NUL
 * byte, nothing but whitespace after it) whose "account", when present, is a
 * non-empty string. 0 with *in filled, or -1 with the reason in err
 * (e.g. "malformed JSON: unexpected character at offset 7"); *in is then
 * empty and wh_inbound_free is a no-op on it. */
int wh_parse_body(const char *body, size_t len, wh_inbound_t *in, char *err, size_t errlen);

/* Step 2: checks every field and fills in->env for `account` (borrowed:
 * must outlive env). Fields are checked in the order of README.md; the first
 * bad one is named in err ("missing field 'chat.id'", "field 'mentioned' must
 * be a boolean"). 0, or -1. */
int wh_parse_envelope(wh_inbound_t *in, const char *account, char *err, size_t errlen);

void wh_inbound_free(wh_inbound_t *in);

#endif
