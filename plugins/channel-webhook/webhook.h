/* webhook.h - the plugin's state and the calls between its source files.
 * Internal: nothing here crosses the plugin ABI, and only
 * openclaw_plugin_entry is exported from the .so.
 *
 * Threads: everything runs on the plugin's home loop (sdk/ABI.md, §6), so
 * the state needs no locks. */
#ifndef WH_WEBHOOK_H
#define WH_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include <openclaw/plugin.h>

#define WH_CHANNEL "webhook"
#define WH_ROUTE "/channels/webhook/inbound"
#define WH_DEFAULT_ACCOUNT "default"

#define WH_DEFAULT_TIMEOUT_MS 10000
#define WH_DEFAULT_MAX_BODY (1024 * 1024)

/* One account: where replies go and the key both directions are signed
 * with. Every string is plugin-owned (copied out of the config, which the
 * host may free at the next reload); the secret is wiped when freed. */
typedef struct wh_account_s {
    char *id;
    char *secret;
    size_t secret_len;
    char *callback_url;
} wh_account_t;

typedef struct wh_config_s {
    wh_account_t *accounts; /* owned; account_count >= 1 once read, in config order */
    size_t account_count;
    int enabled;
    uint32_t timeout_ms;
    size_t max_body_bytes;
} wh_config_t;

typedef struct wh_send_s wh_send_t; /* an outbound call in flight (outbound.c) */

typedef struct wh_state_s {
    const oc_host_api_t *host; /* host-owned, valid until destroy returns */
    oc_plugin_t *self;
    wh_config_t cfg;
    size_t inbound_pending; /* inbound_submit calls whose callback has not run */
    wh_send_t *sends;       /* outbound calls in flight, newest first */
    int stopping;
    oc_stop_done_cb stop_done; /* set while stop waits for inbound_pending to drain */
    void *stop_data;
    char status_detail[64];
} wh_state_t;

/* config.c: reads channels.webhook into *out (zeroed first). Every problem is
 * reported through host->cfg_error / the getters; returns OC_OK or
 * OC_ECONFIG (nothing to free then). */
int32_t wh_config_read(const oc_host_api_t *host, oc_plugin_t *self, oc_config_t *section,
                       wh_config_t *out);
void wh_config_free(wh_config_t *cfg);
/* The account named `id`; id NULL picks the only account, else "default".
 * NULL when there is no such account. Borrowed from cfg. */
const wh_account_t *wh_config_account(const wh_config_t *cfg, const char *id);
/* "a, b, c": the configured ids for error texts, cut with "..." to fit. */
void wh_config_account_list(const wh_config_t *cfg, char *buf, size_t len);

/* inbound.c: the handler of POST WH_ROUTE; data is the wh_state_t. */
void wh_inbound_handle(void *data, oc_http_exchange_t *ex, const oc_http_server_request_t *req);

/* outbound.c: the channel's send op; state is the wh_state_t. */
int32_t wh_send(void *state, const oc_outbound_t *msg, oc_send_cb cb, void *data);
/* Cancels every call in flight. With notify, each caller's cb gets a
 * retryable OC_ECANCELED (stop); without, nobody is called (destroy). */
void wh_send_cancel_all(wh_state_t *st, int notify);

/* plugin.c: called when an inbound submit finished; completes a pending
 * stop once nothing is in flight. */
void wh_state_check_stopped(wh_state_t *st);

#endif
