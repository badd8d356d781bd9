/* inbound.c - POST /channels/webhook/inbound: check, parse, hand over.
 *
 * Order of the checks (README.md, "Inbound"): cheap refusals first, then the
 * signature before anything of the body is parsed, so a caller without a
 * configured secret learns nothing about the body, the parser or the
 * accounts:
 *   1. method is not POST                          405 (Allow: POST)
 *   2. gateway stopping / channel disabled         503
 *   3. body larger than maxBodyBytes               413
 *   4. X-OpenClaw-Signature missing or malformed,
 *      or made with no configured account's secret 401
 *   5. body is not one JSON object                 400, the parser's reason
 *   6. "account" names no configured account       400, listing them
 *   7. signature not made with that account's key  401
 *   8. a field is missing or mistyped              400, naming it
 *   9. inbound_submit: stored 202 / duplicate 200, rejected 400, storage
 *      down 503 + Retry-After, stopping 503.
 * Step 4 costs one HMAC per configured account; step 7 one more. */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "sign.h"
#include "webhook.h"

#define SIG_HEADER_LC "x-openclaw-signature" /* the host gives names in lower case */

/* One inbound_submit awaiting its callback. Owns nothing but itself; the
 * exchange is the host's until http_respond. */
typedef struct submit_s {
    wh_state_t *st;
    oc_http_exchange_t *ex;
} submit_t;

/* Answers with a JSON object; takes ownership of obj. */
static void respond(wh_state_t *st, oc_http_exchange_t *ex, int32_t code, struct json_object *obj,
                    const oc_http_header_t *headers, size_t header_count)
{
    size_t len = 0;
    const char *text = obj != NULL
                           ? json_object_to_json_string_length(
                                 obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len)
                           : NULL;
    if (text == NULL) { /* out of memory: still answer, exactly once */
        code = 500;
        text = "{\"accepted\":false,\"error\":\"out of memory\"}";
        len = strlen(text);
    }
    st->host->http_respond(ex, code, "application/json", headers, header_count, text, len);
    json_object_put(obj);
}

static void reject_h(wh_state_t *st, oc_http_exchange_t *ex, const oc_http_server_request_t *req,
                     int32_t code, const oc_http_header_t *headers, size_t header_count,
                     const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void reject_h(wh_state_t *st, oc_http_exchange_t *ex, const oc_http_server_request_t *req,
                     int32_t code, const oc_http_header_t *headers, size_t header_count,
                     const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Debug only: anyone can make these, and the sender gets the reason. */
    if (st->host->log_enabled(st->self, OC_LOG_DEBUG))
        st->host->log(st->self, OC_LOG_DEBUG, "inbound from %s refused with %d: %s",
                      req != NULL && req->remote_addr ? req->remote_addr : "?", code, msg);
    struct json_object *o = json_object_new_object();
    if (o != NULL) {
        json_object_object_add(o, "accepted", json_object_new_boolean(0));
        json_object_object_add(o, "error", json_object_new_string(msg));
    }
    respond(st, ex, code, o, headers, header_count);
}

#define reject(st, ex, req, code, ...) reject_h(st, ex, req, code, NULL, 0, __VA_ARGS__)

static const oc_http_header_t retry_after_1[] = {{"Retry-After", "1"}};

/* Answers an error status of inbound_submit (now or from its callback). */
static void answer_failure(wh_state_t *st, oc_http_exchange_t *ex, int32_t status,
                           const char *why)
{
    switch (status) {
    case OC_EINVAL:
        reject(st, ex, NULL, 400, "%s", why ? why : "rejected by the gateway");
        break;
    case OC_EUNAVAIL:
        /* Not stored: the sender must retry, soon. */
        reject_h(st, ex, NULL, 503, retry_after_1, 1, "storage unavailable, retry");
        break;
    case OC_ECANCELED:
        reject(st, ex, NULL, 503, "gateway is stopping, retry later");
        break;
    default:
        reject(st, ex, NULL, 500, "internal error: %s", st->host->strerror(status));
        break;
    }
}

static void on_submitted(void *data, int32_t status, const oc_inbound_ack_t *ack)
{
    submit_t *s = data;
    wh_state_t *st = s->st;
    if (status == OC_OK) {
        struct json_object *o = json_object_new_object();
        int dup = ack != NULL && ack->duplicate;
        if (o != NULL) {
            json_object_object_add(o, "accepted", json_object_new_boolean(1));
            if (dup) {
                json_object_object_add(o, "duplicate", json_object_new_boolean(1));
            } else {
                char id[24];
                snprintf(id, sizeof id, "%llu",
                         (unsigned long long)(ack != NULL ? ack->id : 0));
                /* A string: JSON numbers lose precision above 2^53 in many readers. */
                json_object_object_add(o, "id", json_object_new_string(id));
            }
        }
        respond(st, s->ex, dup ? 200 : 202, o, NULL, 0);
    } else {
        answer_failure(st, s->ex, status, ack != NULL ? ack->error : NULL);
    }
    free(s);
    st->inbound_pending--;
    wh_state_check_stopped(st);
}

/* The one X-OpenClaw-Signature value, or NULL (*count says 0 or several). */
static const char *signature_header(const oc_http_server_request_t *req, size_t *count)
{
    const char *v = NULL;
    *count = 0;
    for (size_t i = 0; i < req->header_count; i++) {
        const char *name = req->headers[i].name;
        if (name != NULL && strcmp(name, SIG_HEADER_LC) == 0) {
            v = req->headers[i].value;
            (*count)++;
        }
    }
    return *count == 1 ? v : NULL;
}

/* 1 when the MAC matches some account's secret. Every account is tried,
 * whatever matched, so the time does not depend on which one. */
static int matches_any(const wh_config_t *cfg, const char *body, size_t len,
                       const uint8_t mac[WH_MAC_LEN])
{
    int any = 0;
    for (size_t i = 0; i < cfg->account_count; i++)
        any |= wh_sign_verify(cfg->accounts[i].secret, cfg->accounts[i].secret_len, body, len,
                              mac);
    return any;
}

/* Steps 5-9 for a body whose signature matched some account. */
static void accept_signed(wh_state_t *st, oc_http_exchange_t *ex,
                          const oc_http_server_request_t *req, const uint8_t mac[WH_MAC_LEN])
{
    const wh_config_t *cfg = &st->cfg;
    char err[512];
    wh_inbound_t in;
    if (wh_parse_body(req->body, req->body_len, &in, err, sizeof err) != 0) {
        reject(st, ex, req, 400, "%s", err);
        return;
    }
    const wh_account_t *acct = wh_config_account(cfg, in.account);
    if (acct == NULL) {
        char list[256];
        wh_config_account_list(cfg, list, sizeof list);
        if (in.account != NULL)
            reject(st, ex, req, 400, "unknown account '%.64s' (configured: %s)", in.account,
                   list);
        else
            reject(st, ex, req, 400, "missing field 'account' (several accounts are "
                                     "configured: %s)", list);
        wh_inbound_free(&in);
        return;
    }
    if (!wh_sign_verify(acct->secret, acct->secret_len, req->body, req->body_len, mac)) {
        reject(st, ex, req, 401, "signature does not match account '%s'", acct->id);
        wh_inbound_free(&in);
        return;
    }
    if (wh_parse_envelope(&in, acct->id, err, sizeof err) != 0) {
        reject(st, ex, req, 400, "%s", err);
        wh_inbound_free(&in);
        return;
    }
    submit_t *s = malloc(sizeof *s);
    if (s == NULL) {
        reject(st, ex, req, 500, "out of memory");
        wh_inbound_free(&in);
        return;
    }
    s->st = st;
    s->ex = ex;
    st->inbound_pending++;
    /* The host copies the envelope before returning. */
    int32_t rc = st->host->inbound_submit(st->self, &in.env, on_submitted, s);
    wh_inbound_free(&in);
    if (rc < 0) { /* refused now: the callback will not run */
        st->inbound_pending--;
        free(s);
        answer_failure(st, ex, rc, NULL);
        wh_state_check_stopped(st);
    }
    /* OC_PENDING (or any non-error): on_submitted answers. */
}

void wh_inbound_handle(void *data, oc_http_exchange_t *ex, const oc_http_server_request_t *req)
{
    wh_state_t *st = data;
    const wh_config_t *cfg = &st->cfg;
    if (req == NULL || req->method == NULL || strcmp(req->method, "POST") != 0) {
        static const oc_http_header_t allow[] = {{"Allow", "POST"}};
        reject_h(st, ex, req, 405, allow, 1, "method not allowed: use POST");
        return;
    }
    if (st->stopping) {
        reject(st, ex, req, 503, "gateway is stopping, retry later");
        return;
    }
    if (!cfg->enabled) {
        reject(st, ex, req, 503, "channel webhook is disabled");
        return;
    }
    if (req->body_len > cfg->max_body_bytes) {
        reject(st, ex, req, 413, "body too large: %zu bytes (maxBodyBytes is %zu)",
               req->body_len, cfg->max_body_bytes);
        return;
    }
    size_t count = 0;
    const char *sig = signature_header(req, &count);
    uint8_t mac[WH_MAC_LEN];
    if (count == 0) {
        reject(st, ex, req, 401, "missing " WH_SIG_HEADER " header");
        return;
    }
    if (sig == NULL) {
        reject(st, ex, req, 401, "more than one " WH_SIG_HEADER " header");
        return;
    }
    if (wh_sign_parse(sig, mac) != 0) {
        reject(st, ex, req, 401, "malformed " WH_SIG_HEADER " header: expected "
                                 "sha256=<64 hex digits>");
        return;
    }
    if (!matches_any(cfg, req->body, req->body_len, mac)) {
        reject(st, ex, req, 401, "invalid signature");
        return;
    }
    accept_signed(st, ex, req, mac);
}
