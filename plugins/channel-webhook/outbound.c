/* outbound.c - ops.send: one signed POST per reply to the account's
 * callbackUrl (see README.md, "Outbound").
 *
 * No retries here: the gateway keeps replies in its durable outbox and
 * retries those we report retryable, with backoff, across restarts. The
 * idempotency key it gives us is stable across those retries and is sent
 * along so the receiver can drop duplicates. */
#define _GNU_SOURCE /* strptime, timegm */
#include "outbound.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sign.h"
#include "webhook.h"

#define ERROR_BODY_SNIPPET 200 /* bytes of a refusal's body quoted in the error */

/* A call in flight. Owned by the state's list until its on_done (or a
 * cancel) frees it; call is the host's. */
struct wh_send_s {
    wh_state_t *st;
    oc_http_call_t *call;
    oc_send_cb cb;
    void *data;
    wh_send_t *prev, *next;
};

/* ---- pure parts ---------------------------------------------------------- */

char *wh_outbound_body(const oc_outbound_t *msg, size_t *len)
{
    const char *type = msg->peer_kind == OC_PEER_DIRECT  ? "direct"
                       : msg->peer_kind == OC_PEER_GROUP ? "group"
                                                         : NULL;
    if (type == NULL)
        return NULL;
    struct json_object *o = json_object_new_object(), *to = json_object_new_object();
    if (o == NULL || to == NULL) {
        json_object_put(o);
        json_object_put(to);
        return NULL;
    }
    /* json-c keeps insertion order: the wire order is the one documented. */
    json_object_object_add(to, "type", json_object_new_string(type));
    json_object_object_add(to, "id", json_object_new_string(msg->peer_id));
    json_object_object_add(o, "to", to);
    json_object_object_add(o, "text", json_object_new_string(msg->text));
    if (msg->in_reply_to != NULL)
        json_object_object_add(o, "inReplyTo", json_object_new_string(msg->in_reply_to));
    json_object_object_add(o, "idempotencyKey", json_object_new_string(msg->idempotency_key));
    size_t n = 0;
    const char *text = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    char *copy = text != NULL ? malloc(n + 1) : NULL;
    if (copy != NULL) {
        memcpy(copy, text, n + 1);
        *len = n;
    }
    json_object_put(o);
    return copy;
}

uint32_t wh_retry_after_ms(const char *value, time_t now)
{
    if (value == NULL)
        return 0;
    while (*value == ' ' || *value == '\t')
        value++;
    if (isdigit((unsigned char)*value)) {
        char *end = NULL;
        unsigned long long s = strtoull(value, &end, 10);
        while (*end == ' ' || *end == '\t')
            end++;
        if (*end != '\0')
            return 0;
        return s >= UINT32_MAX / 1000u ? UINT32_MAX : (uint32_t)(s * 1000u);
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL)
        return 0;
    time_t at = timegm(&tm);
    if (at == (time_t)-1 || at <= now)
        return 0;
    unsigned long long s = (unsigned long long)(at - now);
    return s >= UINT32_MAX / 1000u ? UINT32_MAX : (uint32_t)(s * 1000u);
}

static const char *header(const oc_http_response_t *res, const char *name)
{
    for (size_t i = 0; res->headers != NULL && i < res->header_count; i++)
        if (res->headers[i].name != NULL && strcasecmp(res->headers[i].name, name) == 0)
            return res->headers[i].value;
    return NULL;
}

/* The start of a refusal's body, on one line, for the error text. */
static void snippet(const oc_http_response_t *res, char *out, size_t outlen)
{
    size_t n = res->body != NULL ? res->body_len : 0, k = 0;
    if (n > ERROR_BODY_SNIPPET)
        n = ERROR_BODY_SNIPPET;
    for (size_t i = 0; i < n && k + 1 < outlen; i++) {
        unsigned char c = (unsigned char)res->body[i];
        out[k++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    out[k] = '\0';
}

void wh_outbound_result(const oc_http_response_t *res, time_t now, oc_send_result_t *out,
                        char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->struct_size = sizeof *out;
    err[0] = '\0';
    if (res->status != OC_OK) {
        out->status = res->status;
        /* A URL the client refuses will not get better; the rest may. */
        out->retryable = res->status != OC_EINVAL;
        snprintf(err, errlen, "callback request failed: %s",
                 res->error != NULL ? res->error : "no response");
        out->error = err;
        return;
    }
    int code = res->http_status;
    if (code >= 200 && code <= 299) {
        out->status = OC_OK;
        return;
    }
    char body[ERROR_BODY_SNIPPET + 1];
    snippet(res, body, sizeof body);
    snprintf(err, errlen, "callback answered HTTP %d%s%s", code, body[0] ? ": " : "", body);
    out->error = err;
    if (code == 429 || code == 408 || (code >= 500 && code <= 599)) {
        out->status = code == 429 ? OC_ELIMIT : OC_EUNAVAIL;
        out->retryable = 1;
        out->retry_after_ms = wh_retry_after_ms(header(res, "retry-after"), now);
        return;
    }
    out->status = code == 401 || code == 403 ? OC_EACCES : OC_EPROTO;
}

/* ---- the call -------------------------------------------------------------- */

static void unlink_send(wh_send_t *s)
{
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        s->st->sends = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

static void on_done(void *data, const oc_http_response_t *res)
{
    wh_send_t *s = data;
    unlink_send(s);
    oc_send_result_t out;
    char err[512];
    wh_outbound_result(res, time(NULL), &out, err, sizeof err);
    if (out.status != OC_OK && s->st->host->log_enabled(s->st->self, OC_LOG_DEBUG))
        s->st->host->log(s->st->self, OC_LOG_DEBUG, "send failed (%s): %s",
                         out.retryable ? "will be retried" : "final", out.error);
    s->cb(s->data, &out);
    free(s);
}

/* Printable ASCII only: it goes into a header. */
static int header_safe(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p >= 0x7f)
            return 0;
    return 1;
}

int32_t wh_send(void *state, const oc_outbound_t *msg, oc_send_cb cb, void *data)
{
    wh_state_t *st = state;
    if (st == NULL || msg == NULL || cb == NULL || msg->struct_size < sizeof *msg)
        return OC_EINVAL;
    /* Both are "not now": the gateway keeps the reply in its outbox and
     * tries again (it retries OC_EAGAIN and OC_EUNAVAIL refusals). */
    if (st->stopping)
        return OC_EAGAIN;
    if (!st->cfg.enabled)
        return OC_EUNAVAIL;
    const oc_host_api_t *h = st->host;
    if (msg->peer_id == NULL || msg->peer_id[0] == '\0' || msg->text == NULL ||
        msg->idempotency_key == NULL || msg->idempotency_key[0] == '\0' ||
        !header_safe(msg->idempotency_key) ||
        (msg->peer_kind != OC_PEER_DIRECT && msg->peer_kind != OC_PEER_GROUP)) {
        h->log(st->self, OC_LOG_WARN, "send refused: missing peer, text or idempotency key, "
                                      "or a bad peer kind");
        return OC_EINVAL;
    }
    const wh_account_t *acct = wh_config_account(&st->cfg, msg->account);
    if (acct == NULL) {
        h->log(st->self, OC_LOG_WARN, "send refused: unknown account '%s'",
               msg->account ? msg->account : "(none)");
        return OC_EINVAL;
    }

    size_t len = 0;
    char *body = wh_outbound_body(msg, &len);
    char sig[WH_SIG_VALUE_SIZE];
    wh_send_t *s = calloc(1, sizeof *s);
    if (body == NULL || s == NULL || wh_sign_header(acct->secret, acct->secret_len, body, len,
                                                    sig) != 0) {
        free(body);
        free(s);
        return OC_ENOMEM;
    }
    const oc_http_header_t headers[] = {
        {"Content-Type", "application/json"},
        {WH_SIG_HEADER, sig},
        {WH_IDEMPOTENCY_HEADER, msg->idempotency_key},
    };
    oc_http_request_t req = {
        .struct_size = sizeof req,
        .timeout_ms = st->cfg.timeout_ms,
        .connect_timeout_ms = st->cfg.timeout_ms,
        .method = "POST",
        .url = acct->callback_url,
        .headers = headers,
        .header_count = sizeof headers / sizeof headers[0],
        .body = body,
        .body_len = len,
    };
    oc_http_callbacks_t cbs = {.struct_size = sizeof cbs, .on_done = on_done};
    s->st = st;
    s->cb = cb;
    s->data = data;
    /* Linked first: on_done may only run later, but the list must already
     * hold s whenever it does. The host copied the request on return. */
    s->next = st->sends;
    if (st->sends != NULL)
        st->sends->prev = s;
    st->sends = s;
    s->call = h->http_request(st->self, &req, &cbs, s);
    free(body);
    if (s->call == NULL) { /* refused (the host logged why) */
        unlink_send(s);
        free(s);
        return OC_EINVAL;
    }
    return OC_PENDING;
}

void wh_send_cancel_all(wh_state_t *st, int notify)
{
    while (st->sends != NULL) {
        wh_send_t *s = st->sends;
        unlink_send(s);
        st->host->http_cancel(s->call);
        if (notify) {
            /* Not delivered as far as we know: the outbox tries again later
             * (the receiver dedupes on the idempotency key). */
            oc_send_result_t out = {
                .struct_size = sizeof out,
                .status = OC_ECANCELED,
                .retryable = 1,
                .error = "canceled: the channel is stopping",
            };
            s->cb(s->data, &out);
        }
        free(s);
    }
}
