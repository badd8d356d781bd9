/* fake_inbound.h - test doubles for the ABI 1.1 inbound host services
 * (http_route, http_respond, inbound_submit) and helpers to drive a route
 * handler the way the gateway's HTTP server would.
 *
 * One global recorder (`fake`): tests run one per process (Criterion forks),
 * on one thread. */
#ifndef WH_TEST_FAKE_INBOUND_H
#define WH_TEST_FAKE_INBOUND_H

#include <stddef.h>
#include <stdint.h>

#include <openclaw/plugin.h>

#define FAKE_MAX_HEADERS 8

/* The exchange: the test owns it (fake_exchange_new / _free); http_respond
 * records the answer into it instead of releasing it. */
struct oc_http_exchange_s {
    int answers; /* must end up 1 */
    int code;
    char content_type[64];
    char *body; /* malloc'd, NUL-terminated */
    size_t header_count;
    char header_names[FAKE_MAX_HEADERS][64];
    char header_values[FAKE_MAX_HEADERS][128];
};

/* A deep copy of the last submitted envelope. */
typedef struct fake_env_s {
    int set;
    uint32_t struct_size, peer_kind;
    char *channel, *account, *peer_id, *sender_id, *sender_name, *text, *message_id,
        *reply_to_id;
    int32_t reply_to_bot, mentioned;
    char *mentions[16]; /* NULL-terminated copy; mention_count entries */
    size_t mention_count;
    int mentions_null; /* the envelope had mentions == NULL */
    uint64_t received_ms;
} fake_env_t;

typedef struct fake_s {
    /* http_route */
    int routes;
    char route_path[128];
    oc_http_handler_cb route_cb;
    void *route_data;
    /* inbound_submit */
    int32_t submit_rc; /* returned by inbound_submit; OC_PENDING after fake_reset */
    int submits;
    oc_inbound_cb pending_cb; /* set while a submit awaits fake_ack */
    void *pending_data;
    fake_env_t env;
} fake_t;

extern fake_t fake;

void fake_reset(void);

int32_t fake_http_route(oc_plugin_t *self, const char *path, oc_http_handler_cb cb, void *data);
void fake_http_respond(oc_http_exchange_t *ex, int32_t status, const char *content_type,
                       const oc_http_header_t *headers, size_t header_count, const char *body,
                       size_t body_len);
int32_t fake_inbound_submit(oc_plugin_t *self, const oc_envelope_t *env, oc_inbound_cb cb,
                            void *data);

/* Runs the callback of the pending submit. */
void fake_ack(int32_t status, int duplicate, uint64_t id, const char *error);

oc_http_exchange_t *fake_exchange_new(void);
void fake_exchange_free(oc_http_exchange_t *ex);
/* Value of answer header `name` (case-insensitive), or NULL. */
const char *fake_answer_header(const oc_http_exchange_t *ex, const char *name);

/* "sha256=<hex>" of body under secret, computed here with GnuTLS (not with
 * the plugin's code). out: at least 72 bytes. */
void fake_sign(const char *secret, const char *body, char *out);

/* Calls a handler with a request: method, body, and `sig` as the
 * x-openclaw-signature header (NULL = no header). Returns a new exchange
 * (free it) holding the answer, if one was given synchronously. */
oc_http_exchange_t *fake_call(oc_http_handler_cb cb, void *data, const char *method,
                              const char *body, const char *sig);
/* The same with any headers (names lower-case, as the host gives them). */
oc_http_exchange_t *fake_call_h(oc_http_handler_cb cb, void *data, const char *method,
                                const char *body, size_t body_len, const oc_http_header_t *h,
                                size_t nh);

#endif
