/* fake_inbound.c - see fake_inbound.h. */
#include "fake_inbound.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

fake_t fake;

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void env_free(fake_env_t *e)
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
    memset(e, 0, sizeof *e);
}

void fake_reset(void)
{
    env_free(&fake.env);
    memset(&fake, 0, sizeof fake);
    fake.submit_rc = OC_PENDING;
}

int32_t fake_http_route(oc_plugin_t *self, const char *path, oc_http_handler_cb cb, void *data)
{
    (void)self;
    if (fake.routes > 0 && strcmp(fake.route_path, path) == 0)
        return OC_EINVAL; /* taken, as the real one says */
    fake.routes++;
    snprintf(fake.route_path, sizeof fake.route_path, "%s", path);
    fake.route_cb = cb;
    fake.route_data = data;
    return OC_OK;
}

void fake_http_respond(oc_http_exchange_t *ex, int32_t status, const char *content_type,
                       const oc_http_header_t *headers, size_t header_count, const char *body,
                       size_t body_len)
{
    ex->answers++;
    ex->code = status;
    snprintf(ex->content_type, sizeof ex->content_type, "%s", content_type ? content_type : "");
    free(ex->body);
    ex->body = malloc(body_len + 1);
    memcpy(ex->body, body ? body : "", body_len);
    ex->body[body_len] = '\0';
    ex->header_count = 0;
    for (size_t i = 0; i < header_count && i < FAKE_MAX_HEADERS; i++) {
        snprintf(ex->header_names[i], sizeof ex->header_names[i], "%s", headers[i].name);
        snprintf(ex->header_values[i], sizeof ex->header_values[i], "%s", headers[i].value);
        ex->header_count++;
    }
}

int32_t fake_inbound_submit(oc_plugin_t *self, const oc_envelope_t *env, oc_inbound_cb cb,
                            void *data)
{
    (void)self;
    fake.submits++;
    env_free(&fake.env);
    fake_env_t *e = &fake.env;
    e->set = 1;
    e->struct_size = env->struct_size;
    e->peer_kind = env->peer_kind;
    e->channel = dup_or_null(env->channel);
    e->account = dup_or_null(env->account);
    e->peer_id = dup_or_null(env->peer_id);
    e->sender_id = dup_or_null(env->sender_id);
    e->sender_name = dup_or_null(env->sender_name);
    e->text = dup_or_null(env->text);
    e->message_id = dup_or_null(env->message_id);
    e->reply_to_id = dup_or_null(env->reply_to_id);
    e->reply_to_bot = env->reply_to_bot;
    e->mentioned = env->mentioned;
    e->mentions_null = env->mentions == NULL;
    for (size_t i = 0; env->mentions != NULL && env->mentions[i] != NULL && i < 15; i++)
        e->mentions[e->mention_count++] = strdup(env->mentions[i]);
    e->received_ms = env->received_ms;
    if (fake.submit_rc == OC_PENDING) {
        fake.pending_cb = cb;
        fake.pending_data = data;
    }
    return fake.submit_rc;
}

void fake_ack(int32_t status, int duplicate, uint64_t id, const char *error)
{
    oc_inbound_cb cb = fake.pending_cb;
    void *data = fake.pending_data;
    fake.pending_cb = NULL;
    fake.pending_data = NULL;
    if (cb == NULL)
        return;
    oc_inbound_ack_t ack = {
        .struct_size = sizeof ack, .duplicate = duplicate, .id = id, .error = error};
    cb(data, status, &ack);
}

oc_http_exchange_t *fake_exchange_new(void)
{
    return calloc(1, sizeof(oc_http_exchange_t));
}

void fake_exchange_free(oc_http_exchange_t *ex)
{
    if (ex != NULL)
        free(ex->body);
    free(ex);
}

const char *fake_answer_header(const oc_http_exchange_t *ex, const char *name)
{
    for (size_t i = 0; i < ex->header_count; i++)
        if (strcasecmp(ex->header_names[i], name) == 0)
            return ex->header_values[i];
    return NULL;
}

void fake_sign(const char *secret, const char *body, char *out)
{
    unsigned char mac[32];
    gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, strlen(secret), body, strlen(body), mac);
    int n = sprintf(out, "sha256=");
    for (int i = 0; i < 32; i++)
        n += sprintf(out + n, "%02x", mac[i]);
}

oc_http_exchange_t *fake_call_h(oc_http_handler_cb cb, void *data, const char *method,
                                const char *body, size_t body_len, const oc_http_header_t *h,
                                size_t nh)
{
    oc_http_exchange_t *ex = fake_exchange_new();
    oc_http_server_request_t req = {
        .struct_size = sizeof req,
        .remote_is_loopback = 1,
        .method = method,
        .path = "/channels/webhook/inbound",
        .headers = h,
        .header_count = nh,
        .body = body ? body : "",
        .body_len = body_len,
        .remote_addr = "127.0.0.1",
    };
    cb(data, ex, &req);
    return ex;
}

oc_http_exchange_t *fake_call(oc_http_handler_cb cb, void *data, const char *method,
                              const char *body, const char *sig)
{
    oc_http_header_t h[] = {{"content-type", "application/json"},
                            {"x-openclaw-signature", sig}};
    return fake_call_h(cb, data, method, body, body ? strlen(body) : 0, h, sig ? 2 : 1);
}
