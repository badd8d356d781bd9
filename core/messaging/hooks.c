/* messaging/hooks.c - POST /hooks/agent (SPEC §6): run an agent turn from
 * HTTP, optionally delivering the reply to a channel.
 *
 * Body: {message, agentId?, sessionKey?, channel?, to?, accountId?,
 * peerKind? ("direct"|"group"), deliver?}. Answers once the turn is done:
 * 200 {"ok":true,"runId","sessionKey","reply","delivered"}; errors use
 * {"ok":false,"error":{"type","message"},"runId"?}. The run shares the
 * session's lane with channel messages, so ordering holds.
 *
 * OpenAI API requests for agent models (api_turn.c) ride hook runs too (no
 * exchange, an API run instead): gw_hook_done hands their answer over. */
#include <gnutls/crypto.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "messaging/msg_int.h"

#define HOOK_MAX_MESSAGE (256u * 1024)

struct gw_hook_run_s {
    gw_messaging_t *m;
    oc_http_exchange_t *ex;   /* /hooks/agent's answer; NULL for API runs */
    gw_api_run_t *api;        /* an OpenAI API run (api_turn.c), or NULL */
    char run_id[33];
    int deliver;
    char *channel, *account, *to;
    int peer_kind;
};

static void respond_json(oc_http_exchange_t *ex, int status, json_object *o)
{
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    gw_host_api.http_respond(ex, status, "application/json", NULL, 0, s, strlen(s));
    json_object_put(o);
}

static void respond_error(oc_http_exchange_t *ex, int status, const char *type,
                          const char *message, const char *run_id)
{
    json_object *o = json_object_new_object();
    json_object *e = json_object_new_object();
    json_object_object_add(o, "ok", json_object_new_boolean(0));
    json_object_object_add(e, "type", json_object_new_string(type));
    json_object_object_add(e, "message", json_object_new_string(message));
    json_object_object_add(o, "error", e);
    if (run_id)
        json_object_object_add(o, "runId", json_object_new_string(run_id));
    respond_json(ex, status, o);
}

static void hook_free(gw_hook_run_t *h)
{
    free(h->channel);
    free(h->account);
    free(h->to);
    free(h);
}

int gw_hook_delivery(const gw_hook_run_t *h, const char **channel, const char **account,
                     int *peer_kind, const char **to, const char **run_id)
{
    if (!h->deliver)
        return 0;
    *channel = h->channel;
    *account = h->account;
    *peer_kind = h->peer_kind;
    *to = h->to;
    *run_id = h->run_id;
    return 1;
}

void gw_hook_done(gw_hook_run_t *h, int32_t status, const char *reply, const char *error,
                  const char *session_key)
{
    if (h->api) {
        gw_api_finish(h->api, status, reply, error, session_key);
        hook_free(h);
        return;
    }
    if (status == OC_OK) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "ok", json_object_new_boolean(1));
        json_object_object_add(o, "runId", json_object_new_string(h->run_id));
        if (session_key)
            json_object_object_add(o, "sessionKey", json_object_new_string(session_key));
        json_object_object_add(o, "reply", json_object_new_string(reply ? reply : ""));
        json_object_object_add(o, "delivered", json_object_new_boolean(h->deliver));
        respond_json(h->ex, 200, o);
    } else {
        int code = status == OC_ELIMIT      ? 429
                   : status == OC_ECANCELED ? 503
                   : status == OC_EUNAVAIL  ? 502
                                            : 500;
        const char *type = status == OC_ELIMIT      ? "queue_full"
                           : status == OC_ECANCELED ? "unavailable"
                                                    : "agent_error";
        respond_error(h->ex, code, type, error ? error : "the agent run failed", h->run_id);
    }
    hook_free(h);
}

static const char *get_str(json_object *o, const char *k, int *bad)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
        return NULL;
    if (!json_object_is_type(v, json_type_string)) {
        *bad = 1;
        return NULL;
    }
    return json_object_get_string(v);
}

static void on_hook(void *data, oc_http_exchange_t *ex, const oc_http_server_request_t *req)
{
    gw_messaging_t *m = data;
    char why[320];
    if (strcmp(req->method, "POST") != 0) {
        oc_http_header_t allow = {"allow", "POST"};
        const char *b = "{\"ok\":false,\"error\":{\"type\":\"method_not_allowed\","
                        "\"message\":\"use POST\"}}";
        gw_host_api.http_respond(ex, 405, "application/json", &allow, 1, b, strlen(b));
        return;
    }
    if (req->query && strstr(req->query, "token=")) {
        respond_error(ex, 400, "invalid_request",
                      "tokens in the query string are refused (they end up in logs); send "
                      "Authorization: Bearer <key>", NULL);
        return;
    }
    if (m->stopping || m->st == NULL) {
        respond_error(ex, 503, "unavailable", "the gateway is stopping", NULL);
        return;
    }
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, req->body, (int)req->body_len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = tok ? json_tokener_get_parse_end(tok) : 0;
    json_tokener_free(tok);
    /* One JSON value and nothing after it but white space. */
    while (o && used < req->body_len && strchr(" \t\r\n", req->body[used]))
        used++;
    if (o && jerr == json_tokener_success && used < req->body_len) {
        json_object_put(o);
        respond_error(ex, 400, "invalid_request", "body has data after the JSON object", NULL);
        return;
    }
    if (o == NULL || jerr != json_tokener_success || !json_object_is_type(o, json_type_object)) {
        snprintf(why, sizeof(why), "body is not a JSON object: %s",
                 o == NULL || jerr != json_tokener_success ? json_tokener_error_desc(jerr)
                                                           : "wrong type");
        json_object_put(o);
        respond_error(ex, 400, "invalid_request", why, NULL);
        return;
    }
    int bad = 0;
    const char *message = get_str(o, "message", &bad);
    const char *agent_id = get_str(o, "agentId", &bad);
    const char *session_key = get_str(o, "sessionKey", &bad);
    const char *channel = get_str(o, "channel", &bad);
    const char *to = get_str(o, "to", &bad);
    const char *account = get_str(o, "accountId", &bad);
    const char *kind = get_str(o, "peerKind", &bad);
    json_object *dv;
    int deliver = 0;
    if (json_object_object_get_ex(o, "deliver", &dv) && !json_object_is_type(dv, json_type_null)) {
        if (!json_object_is_type(dv, json_type_boolean))
            bad = 2;
        else
            deliver = json_object_get_boolean(dv);
    }
    const gw_agent_cfg_t *agent = agent_id ? gw_config_agent(m->cfg, agent_id)
                                           : &m->cfg->agents[m->cfg->default_agent];
    char key[GW_SESSION_KEY_MAX + 1];
    const char *err = NULL;
    if (bad == 2)
        err = "\"deliver\" is true or false";
    else if (bad)
        err = "message, agentId, sessionKey, channel, to, accountId and peerKind are strings";
    else if (message == NULL || message[0] == '\0')
        err = "\"message\" is required (a non-empty string)";
    else if (strlen(message) > HOOK_MAX_MESSAGE)
        err = "\"message\" is longer than 256 KiB";
    else if (agent == NULL)
        err = "unknown agentId";
    else if (kind && strcmp(kind, "direct") != 0 && strcmp(kind, "group") != 0)
        err = "\"peerKind\" is \"direct\" or \"group\"";
    else if (deliver && (channel == NULL || to == NULL))
        err = "\"deliver\": true needs \"channel\" and \"to\"";
    else if (deliver && gw_plugins_channel(m->ps, channel) == NULL)
        err = "\"channel\" names no running channel";
    if (err == NULL) {
        if (session_key) {
            size_t n = strlen(session_key);
            snprintf(key, sizeof(key), "agent:%s:", agent->id);
            if (n > GW_SESSION_KEY_MAX || strncmp(session_key, key, strlen(key)) != 0)
                err = "\"sessionKey\" must start with agent:<agentId>: (at most 512 bytes)";
            for (size_t i = 0; !err && i < n; i++)
                if (session_key[i] >= 'A' && session_key[i] <= 'Z')
                    err = "\"sessionKey\" must be lower-case";
            if (!err)
                snprintf(key, sizeof(key), "%s", session_key);
        } else {
            snprintf(key, sizeof(key), "agent:%s:main", agent->id);
        }
    }
    if (err) {
        json_object_put(o);
        respond_error(ex, 400, "invalid_request", err, NULL);
        return;
    }
    gw_hook_run_t *h = calloc(1, sizeof(*h));
    gw_msg_t *msg = calloc(1, sizeof(*msg));
    unsigned char rnd[16];
    if (h == NULL || msg == NULL || gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) != 0) {
        free(h);
        free(msg);
        json_object_put(o);
        respond_error(ex, 500, "internal", "out of memory", NULL);
        return;
    }
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(h->run_id + 2 * i, 3, "%02x", rnd[i]);
    h->m = m;
    h->ex = ex;
    h->deliver = deliver;
    h->channel = channel ? strdup(channel) : NULL;
    h->account = strdup(account ? account : "default");
    h->to = to ? strdup(to) : NULL;
    h->peer_kind = kind && strcmp(kind, "group") == 0 ? OC_PEER_GROUP : OC_PEER_DIRECT;
    msg->hook = h;
    msg->env.peer_kind = OC_PEER_DIRECT;
    msg->env.channel = strdup("hook");
    msg->env.account = strdup("default");
    msg->env.peer_id = strdup(h->run_id);
    msg->env.sender_id = strdup("hook");
    msg->env.message_id = strdup(h->run_id);
    msg->env.text = strdup(message);
    msg->env.received_ms = gw_wall_ms();
    json_object_put(o);
    if (!msg->env.channel || !msg->env.text || !h->account || (channel && !h->channel) ||
        (to && !h->to)) {
        msg->hook = NULL;
        gw_msg_free(msg);
        respond_error(ex, 500, "internal", "out of memory", NULL);
        hook_free(h);
        return;
    }
    gw_log(OC_LOG_DEBUG, "hooks", "run %s for agent %s", h->run_id, agent->id);
    gw_lane_enqueue(m, key, agent, msg);
}

gw_hook_run_t *gw_hook_run_for_api(gw_messaging_t *m, gw_api_run_t *api)
{
    gw_hook_run_t *h = calloc(1, sizeof(*h));
    if (h) {
        h->m = m;
        h->api = api;
    }
    return h;
}

gw_api_run_t *gw_hook_api(const gw_hook_run_t *h)
{
    return h ? h->api : NULL;
}

const char *gw_hook_meta(const gw_hook_run_t *h)
{
    return h && h->api ? "{\"channel\":\"openai\"}" : "{\"channel\":\"hook\"}";
}

int gw_hooks_register(gw_messaging_t *m)
{
    return gw_plugins_add_route(m->ps, NULL, "/hooks/agent", 1, on_hook, m);
}
