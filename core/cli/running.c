/* cli/running.c - the running gateway, as its state files describe it, and
 * probes of its listener (`gateway status`, `models status`). */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "gateway/state.h"

void gw_running_free(gw_running_t *r)
{
    if (r->state)
        json_object_put(r->state);
    free(r->state_dir);
}

const char *gw_jstr(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

int64_t gw_jint(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

int gw_find_running(int dev, gw_running_t *r)
{
    memset(r, 0, sizeof(*r));
    r->state_dir = gw_config_state_dir(dev);
    if (r->state_dir == NULL)
        return 0;
    gw_buf_t b = GW_BUF_INIT;
    if (gw_state_read(r->state_dir, &b) != 0) {
        gw_buf_free(&b);
        return 0;
    }
    r->state = json_tokener_parse(b.data);
    gw_buf_free(&b);
    if (r->state == NULL)
        return 0;
    r->pid = (int)gw_jint(r->state, "pid");
    if (!gw_pid_is_gateway(r->pid)) {
        json_object_put(r->state);
        r->state = NULL;
        return 0;
    }
    return 1;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    gw_buf_append(ud, p, sz * n);
    return sz * n;
}

long gw_probe(const char *host, int port, int tls, const char *path, const char *authorization,
              gw_buf_t *body)
{
    CURL *h = curl_easy_init();
    if (h == NULL)
        return 0;
    gw_buf_t url = GW_BUF_INIT, auth = GW_BUF_INIT;
    const char *connect_host = strcmp(host, "0.0.0.0") == 0 ? "127.0.0.1"
                               : strcmp(host, "::") == 0    ? "[::1]"
                                                            : host;
    int v6 = strchr(connect_host, ':') && connect_host[0] != '[';
    gw_buf_printf(&url, "%s://%s%s%s:%d%s", tls ? "https" : "http", v6 ? "[" : "", connect_host,
                  v6 ? "]" : "", port, path);
    struct curl_slist *hdrs = NULL;
    if (authorization) {
        gw_buf_printf(&auth, "Authorization: %s", authorization);
        hdrs = curl_slist_append(NULL, auth.data);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    }
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L); /* a local probe of our own listener */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    long code = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    gw_buf_free(&url);
    gw_buf_free(&auth);
    return code;
}
