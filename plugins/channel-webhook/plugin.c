/* channel-webhook - a generic signed-webhook channel.
 *
 * Inbound: a platform (or anything) POSTs signed JSON messages to
 * /channels/webhook/inbound; they are checked (inbound.c, parse.c, sign.c)
 * and handed to the gateway, which stores them durably before we answer.
 * Outbound: replies are POSTed, signed the same way, to the account's
 * callbackUrl (outbound.c). The wire format is in README.md.
 *
 * This file: the descriptor, lifecycle and status. Everything runs on the
 * home loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook.h"

static const char *wh_channel_name(void *state)
{
    (void)state;
    return WH_CHANNEL;
}

static const char *wh_status(void *state, const char **detail)
{
    wh_state_t *st = state;
    if (detail != NULL)
        *detail = NULL;
    if (st == NULL || !st->cfg.enabled)
        return "disabled";
    snprintf(st->status_detail, sizeof st->status_detail, "%zu account%s",
             st->cfg.account_count, st->cfg.account_count == 1 ? "" : "s");
    if (detail != NULL)
        *detail = st->status_detail;
    return "connected";
}

/* The 1.1 members this channel cannot work without. A 1.1 gateway has
 * them; the check names what is missing instead of crashing on a host that
 * advertises 1.1 without them. */
static const char *missing_host_member(const oc_host_api_t *host)
{
    if (!OC_HOST_HAS(host, http_route))
        return "http_route";
    if (!OC_HOST_HAS(host, http_respond))
        return "http_respond";
    if (!OC_HOST_HAS(host, inbound_submit))
        return "inbound_submit";
    return NULL;
}

static void wh_destroy(void *state);

static int32_t wh_init(const oc_host_api_t *host, oc_plugin_t *self, oc_config_t *cfg,
                       void **out)
{
    if (host == NULL || out == NULL)
        return OC_EINVAL;
    *out = NULL;
    const char *missing = missing_host_member(host);
    if (missing != NULL) {
        host->log(self, OC_LOG_ERROR,
                  "this gateway (ABI %u.%u, version %s) does not provide host->%s: channel-webhook "
                  "needs the inbound HTTP routes and inbound messages of ABI 1.1; upgrade the "
                  "gateway",
                  (unsigned)host->abi_major, (unsigned)host->abi_minor,
                  host->host_version ? host->host_version : "?", missing);
        return OC_ENOTSUP;
    }
    wh_state_t *st = calloc(1, sizeof *st);
    if (st == NULL)
        return OC_ENOMEM;
    st->host = host;
    st->self = self;
    int32_t rc = wh_config_read(host, self, cfg, &st->cfg);
    if (rc != OC_OK) {
        free(st);
        return rc;
    }
    /* Registering a route is no I/O: the gateway's server serves it once
     * running. Allowed during init only. */
    rc = host->http_route(self, WH_ROUTE, wh_inbound_handle, st);
    if (rc != OC_OK) {
        wh_destroy(st);
        return rc;
    }
    if (host->log_enabled(self, OC_LOG_DEBUG))
        host->log(self, OC_LOG_DEBUG, "%s; %zu account(s); POST %s",
                  st->cfg.enabled ? "enabled" : "disabled", st->cfg.account_count, WH_ROUTE);
    *out = st;
    return OC_OK;
}

/* In place, all or nothing. Nothing in flight points into the config (the
 * host copied each request), so the swap is safe at any time; and keeping
 * the instance keeps its route (a replacement could not register it again
 * while this one holds it). */
static int32_t wh_reload(void *state, oc_config_t *cfg)
{
    wh_state_t *st = state;
    wh_config_t fresh;
    int32_t rc = wh_config_read(st->host, st->self, cfg, &fresh);
    if (rc != OC_OK)
        return rc;
    wh_config_free(&st->cfg);
    st->cfg = fresh;
    return OC_OK;
}

static void finish_stop(wh_state_t *st)
{
    oc_stop_done_cb done = st->stop_done;
    st->stop_done = NULL;
    if (done != NULL)
        done(st->stop_data);
}

void wh_state_check_stopped(wh_state_t *st)
{
    if (st->stopping && st->inbound_pending == 0 && st->stop_done != NULL)
        finish_stop(st);
}

/* New inbound requests get 503 and sends OC_ECANCELED from here on; calls in
 * flight are canceled (reported retryable: the outbox keeps them); stop
 * completes once every inbound message we handed over has been answered. */
static void wh_stop(void *state, oc_stop_done_cb done, void *done_data)
{
    wh_state_t *st = state;
    st->stopping = 1;
    st->stop_done = done;
    st->stop_data = done_data;
    wh_send_cancel_all(st, 1);
    wh_state_check_stopped(st);
}

static void wh_destroy(void *state)
{
    wh_state_t *st = state;
    if (st == NULL)
        return;
    wh_send_cancel_all(st, 0); /* none after a stop; defensive otherwise */
    wh_config_free(&st->cfg);
    free(st);
}

static const oc_plugin_ops_t wh_ops = {
    OC_PLUGIN_OPS_INIT,
    .init = wh_init,
    .reload = wh_reload,
    .stop = wh_stop,
    .destroy = wh_destroy,
};

static const oc_channel_ops_t wh_channel_ops = {
    OC_CHANNEL_OPS_INIT,
    .channel_name = wh_channel_name,
    .send = wh_send,
    .status = wh_status,
};

OC_PLUGIN_DEFINE(OC_KIND_CHANNEL, "channel-webhook", "1.0.0",
                 "generic signed webhook channel (HMAC-SHA256, JSON in and out)", &wh_ops,
                 &wh_channel_ops)
