/* plugin/plugins.c - the plugin set: open, instantiate, start, stop, free. */
#include "plugin/plugins.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/log.h"
#include "util/buf.h"

void gw_plugins_init(gw_plugins_t *ps, gw_loop_t *home, gw_metrics_t *metrics)
{
    memset(ps, 0, sizeof(*ps));
    ps->home = home;
    ps->metrics = metrics;
}

size_t gw_plugins_default_dirs(char **dirs, size_t max)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0 || max < 2)
        return 0;
    exe[n] = '\0';
    char *bin = dirname(exe); /* .../bin */
    gw_buf_t a = GW_BUF_INIT, b = GW_BUF_INIT;
    gw_buf_printf(&a, "%s/../lib/openclaw/plugins", bin);
    gw_buf_printf(&b, "%s/../plugins", bin);
    dirs[0] = gw_buf_steal(&a);
    dirs[1] = gw_buf_steal(&b);
    return 2;
}

static void report_at(gw_diag_t *d, const gw_cfg_node_t *n, const char *fmt, const char *a,
                      const char *b)
{
    if (n && n->origin)
        gw_diag_add(d, n->origin, 0, 0, fmt, a, b);
    else if (n)
        gw_diag_add(d, n->file, n->line, n->col, fmt, a, b);
    else
        gw_diag_add(d, NULL, 0, 0, fmt, a, b);
}

int gw_plugins_open(gw_plugins_t *ps, const gw_config_t *c, gw_diag_t *d)
{
    char *defaults[2];
    size_t ndefaults = 0;
    const char *const *dirs = (const char *const *)c->plugin_paths;
    size_t ndirs = c->plugin_path_count;
    if (ndirs == 0) {
        ndefaults = gw_plugins_default_dirs(defaults, 2);
        dirs = (const char *const *)defaults;
        ndirs = ndefaults;
    }
    int status = OC_OK;
    /* Problems are reported at the plugins.load item (file:line:col) when
     * the list came from a file. */
    gw_cfg_node_t *list = gw_cfg_find(c->root, "plugins.load");
    ps->mods = calloc(c->plugin_load_count ? c->plugin_load_count : 1, sizeof(*ps->mods));
    for (size_t i = 0; ps->mods && i < c->plugin_load_count; i++) {
        gw_module_t *m;
        gw_diag_t local = GW_DIAG_INIT;
        int rc = gw_module_open(c->plugin_load[i], dirs, ndirs, &m, &local);
        const gw_cfg_node_t *at = list && i < gw_cfg_len(list) ? list->items[i] : NULL;
        for (size_t k = 0; k < local.count; k++)
            report_at(d, at, "%s%s", local.msgs[k], "");
        gw_diag_free(&local);
        if (rc != OC_OK) {
            status = rc;
            continue;
        }
        for (size_t j = 0; j < ps->nmods; j++) {
            if (strcmp(ps->mods[j]->desc.name, m->desc.name) == 0) {
                gw_buf_t msg = GW_BUF_INIT;
                gw_buf_printf(&msg,
                              "plugin %s: name \"%s\" is already taken by %s; list each plugin "
                              "once in plugins.load",
                              m->file, m->desc.name, ps->mods[j]->path);
                report_at(d, at, "%s%s", msg.data, "");
                gw_buf_free(&msg);
                gw_module_close(m);
                m = NULL;
                status = OC_EEXIST;
                break;
            }
        }
        if (m)
            ps->mods[ps->nmods++] = m;
    }
    for (size_t i = 0; i < ndefaults; i++)
        free(defaults[i]);
    return ps->mods ? status : OC_ENOMEM;
}

/* Start order: storage first (others use it), then auth, providers,
 * channels (which bring traffic). Stop runs in reverse. */
static int kind_rank(uint32_t kind)
{
    switch (kind) {
    case OC_KIND_STORAGE: return 0;
    case OC_KIND_AUTH: return 1;
    case OC_KIND_PROVIDER: return 2;
    default: return 3;
    }
}

static oc_plugin_t *add_instance(gw_plugins_t *ps, gw_module_t *m, const char *name,
                                 gw_cfg_node_t *cfg)
{
    oc_plugin_t **insts = realloc(ps->insts, (ps->ninsts + 1) * sizeof(*insts));
    if (insts == NULL)
        return NULL;
    ps->insts = insts;
    oc_plugin_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->mod = m;
    p->set = ps;
    p->name = strdup(name);
    p->cfg = cfg;
    size_t at = ps->ninsts;
    while (at > 0 && kind_rank(ps->insts[at - 1]->mod->desc.kind) > kind_rank(m->desc.kind)) {
        ps->insts[at] = ps->insts[at - 1];
        at--;
    }
    ps->insts[at] = p;
    ps->ninsts++;
    return p;
}

static gw_module_t *find_module(gw_plugins_t *ps, const char *name)
{
    for (size_t i = 0; i < ps->nmods; i++)
        if (strcmp(ps->mods[i]->desc.name, name) == 0)
            return ps->mods[i];
    return NULL;
}


/* Plugins known to use a key of a shared section, for "add it" hints. */
static const struct {
    const char *section, *key, *plugin;
} key_owners[] = {
    {"auth", "apiKey", "auth-apikey"},
    {"auth", "bearerToken", "auth-apikey"},
    {"auth", "password", "auth-password"},
    {"storage", "path", "storage-sqlite"},
    {"storage", "url", "storage-postgres or storage-redis"},
};

/* Marks a whole subtree read: its section was already reported. */
static void mark_all_used(gw_cfg_node_t *n)
{
    if (n == NULL)
        return;
    gw_cfg_mark_used(n);
    for (size_t i = 0; i < n->len; i++)
        mark_all_used(n->items[i]);
}

static void report_unread_keys(gw_cfg_node_t *section, const char *name, gw_diag_t *d)
{
    if (section == NULL || section->type != OC_CFG_MAP)
        return;
    for (size_t i = 0; i < section->len; i++) {
        gw_cfg_node_t *v = section->items[i];
        const char *key = section->keys[i];
        if (v->used)
            continue;
        const char *owner = NULL;
        for (size_t k = 0; k < sizeof(key_owners) / sizeof(key_owners[0]); k++)
            if (strcmp(key_owners[k].section, name) == 0 && strcmp(key_owners[k].key, key) == 0)
                owner = key_owners[k].plugin;
        if (owner) {
            report_at(d, v, "%s: no loaded plugin uses this key; add %s to plugins.load",
                      v->path, owner);
            mark_all_used(v);
        }
    }
    gw_cfg_report_unused(section, d);
}

static int init_instance(oc_plugin_t *p, gw_diag_t *d)
{
    p->diag = d;
    p->cfg_failed = 0;
    void *state = NULL;
    int rc = p->mod->ops.init(&gw_host_api, p, p->cfg, &state);
    if (rc == OC_OK && p->cfg_failed)
        rc = OC_ECONFIG; /* a getter reported a problem the plugin did not act on */
    if (rc != OC_OK) {
        if (!p->cfg_failed)
            gw_diag_add(d, NULL, 0, 0, "plugin %s: init failed: %s", p->name,
                        gw_host_api.strerror(rc));
        if (state)
            p->mod->ops.destroy(state);
        p->diag = NULL;
        return rc;
    }
    p->state = state;
    p->inited = 1;
    p->diag = NULL;
    return OC_OK;
}

/* Creates the instances of one module from the sections it owns. */
static void instantiate(gw_plugins_t *ps, const gw_config_t *c, gw_module_t *m)
{
    gw_cfg_node_t *root = c->root;
    const char *short_name = strchr(m->desc.name, '-') + 1;
    switch (m->desc.kind) {
    case OC_KIND_AUTH:
        add_instance(ps, m, m->desc.name, gw_cfg_child(root, "auth"));
        break;
    case OC_KIND_STORAGE:
        if (strcmp(short_name, c->storage_type) == 0)
            ps->storage_inst = add_instance(ps, m, m->desc.name, gw_cfg_child(root, "storage"));
        else
            gw_log(OC_LOG_INFO, "plugins", "%s is loaded but storage.type is %s: not used",
                   m->desc.name, c->storage_type);
        break;
    case OC_KIND_CHANNEL: {
        gw_cfg_node_t *channels = gw_cfg_child(root, "channels");
        add_instance(ps, m, m->desc.name, channels ? gw_cfg_child(channels, short_name) : NULL);
        break;
    }
    case OC_KIND_PROVIDER: {
        gw_cfg_node_t *providers = gw_cfg_child(root, "providers");
        gw_buf_t name = GW_BUF_INIT;
        for (size_t j = 0; providers && j < gw_cfg_len(providers); j++) {
            gw_cfg_node_t *e = gw_cfg_at(providers, j);
            gw_cfg_node_t *type = gw_cfg_find(e, "type");
            gw_cfg_node_t *pname = gw_cfg_find(e, "name");
            if (type && type->scalar && strcmp(type->scalar, short_name) == 0) {
                gw_buf_reset(&name);
                gw_buf_printf(&name, "%s:%s", m->desc.name,
                              pname && pname->scalar ? pname->scalar : "?");
                add_instance(ps, m, name.data, e);
            }
        }
        gw_buf_free(&name);
        break;
    }
    }
}

/* Sections that name a plugin nobody loaded. */
static int report_missing_plugins(gw_plugins_t *ps, const gw_config_t *c, gw_diag_t *d)
{
    gw_cfg_node_t *storage = gw_cfg_find(c->root, "storage");
    gw_cfg_node_t *channels = gw_cfg_find(c->root, "channels");
    gw_cfg_node_t *providers = gw_cfg_find(c->root, "providers");
    int status = OC_OK;
    gw_buf_t want = GW_BUF_INIT;
    if (ps->storage_inst == NULL && !ps->storage_optional) {
        gw_cfg_node_t *t = storage ? gw_cfg_find(storage, "type") : NULL;
        gw_buf_printf(&want, "storage-%s", c->storage_type);
        report_at(d, t, "storage.type is \"%s\" but plugin %s is not in plugins.load; add it",
                  c->storage_type, want.data);
        status = OC_ECONFIG;
    }
    for (size_t j = 0; channels && j < gw_cfg_len(channels); j++) {
        gw_buf_reset(&want);
        gw_buf_printf(&want, "channel-%s", gw_cfg_key_at(channels, j));
        if (!find_module(ps, want.data)) {
            gw_cfg_node_t *v = gw_cfg_at(channels, j);
            report_at(d, v, "%s: plugin %s is not in plugins.load; add it", v->path, want.data);
            mark_all_used(v);
            status = OC_ECONFIG;
        }
    }
    for (size_t j = 0; providers && j < gw_cfg_len(providers); j++) {
        gw_cfg_node_t *e = gw_cfg_at(providers, j);
        gw_cfg_node_t *type = gw_cfg_find(e, "type");
        if (type == NULL || type->scalar == NULL)
            continue; /* the core schema reported it */
        gw_buf_reset(&want);
        gw_buf_printf(&want, "provider-%s", type->scalar);
        if (!find_module(ps, want.data)) {
            report_at(d, type, "%s: plugin %s is not in plugins.load; add it", type->path,
                      want.data);
            mark_all_used(e);
            status = OC_ECONFIG;
        }
    }
    gw_buf_free(&want);
    return status;
}

/* Keys nobody read, section by section. */
static void report_unread(const gw_config_t *c, gw_diag_t *d)
{
    gw_cfg_node_t *channels = gw_cfg_find(c->root, "channels");
    gw_cfg_node_t *providers = gw_cfg_find(c->root, "providers");
    report_unread_keys(gw_cfg_find(c->root, "auth"), "auth", d);
    report_unread_keys(gw_cfg_find(c->root, "storage"), "storage", d);
    for (size_t j = 0; channels && j < gw_cfg_len(channels); j++)
        gw_cfg_report_unused(gw_cfg_at(channels, j), d);
    for (size_t j = 0; providers && j < gw_cfg_len(providers); j++)
        gw_cfg_report_unused(gw_cfg_at(providers, j), d);
}

/* Init every instance not yet initialised, then index the auth chain and
 * the storage. */
static int init_pending(gw_plugins_t *ps, gw_diag_t *d)
{
    int status = OC_OK;
    for (size_t i = 0; i < ps->ninsts; i++)
        if (!ps->insts[i]->inited && init_instance(ps->insts[i], d) != OC_OK)
            status = OC_ECONFIG;
    free(ps->auth);
    ps->nauth = 0;
    ps->auth = calloc(ps->ninsts ? ps->ninsts : 1, sizeof(*ps->auth));
    for (size_t i = 0; ps->auth && i < ps->ninsts; i++)
        if (ps->insts[i]->inited && ps->insts[i]->mod->desc.kind == OC_KIND_AUTH)
            ps->auth[ps->nauth++] = ps->insts[i];
    if (ps->storage_inst && ps->storage_inst->inited) {
        ps->storage.struct_size = sizeof(ps->storage);
        ps->storage.ops = &ps->storage_inst->mod->k.storage;
        ps->storage.state = ps->storage_inst->state;
    }
    return status;
}

int gw_plugins_create(gw_plugins_t *ps, const gw_config_t *c, gw_diag_t *d)
{
    for (size_t i = 0; i < ps->nmods; i++)
        instantiate(ps, c, ps->mods[i]);
    int status = report_missing_plugins(ps, c, d);
    if (init_pending(ps, d) != OC_OK)
        status = OC_ECONFIG;
    report_unread(c, d);
    return d->count ? OC_ECONFIG : status;
}

int gw_plugins_create_one(gw_plugins_t *ps, const gw_config_t *c, gw_module_t *m, gw_diag_t *d)
{
    size_t before = d->count;
    instantiate(ps, c, m);
    int status = init_pending(ps, d);
    report_unread(c, d);
    return d->count > before ? OC_ECONFIG : status;
}

int gw_plugins_start(gw_plugins_t *ps, gw_diag_t *d)
{
    for (size_t i = 0; i < ps->ninsts; i++) {
        oc_plugin_t *p = ps->insts[i];
        if (!p->inited || p->started)
            continue;
        int rc = p->mod->ops.start ? p->mod->ops.start(p->state) : OC_OK;
        if (rc != OC_OK) {
            gw_diag_add(d, NULL, 0, 0, "plugin %s: start failed: %s", p->name,
                        gw_host_api.strerror(rc));
            return rc;
        }
        p->started = 1;
        gw_log(OC_LOG_DEBUG, "plugins", "started %s %s", p->name, p->mod->desc.version);
    }
    return OC_OK;
}

/* ---- stop: one instance at a time, in reverse start order ---- */

static void stop_next(gw_plugins_t *ps);

static void stop_finish(gw_plugins_t *ps)
{
    if (ps->stop_timer) {
        gw_host_api.timer_stop(ps->stop_timer);
        ps->stop_timer = NULL;
    }
    void (*done)(void *) = ps->stop_done;
    ps->stop_done = NULL;
    if (done)
        done(ps->stop_data);
}

static void on_instance_stopped(void *data)
{
    oc_plugin_t *p = data;
    gw_plugins_t *ps = p->set;
    if (p->stopped)
        return; /* a second done call is a plugin bug; ignore it */
    p->stopped = 1;
    if (ps->stop_done == NULL)
        return; /* arrived after the deadline */
    if (ps->in_stop_call)
        return; /* done called from inside stop: stop_next goes on by itself */
    stop_next(ps);
}

static void stop_next(gw_plugins_t *ps)
{
    while (ps->stop_pending > 0) {
        oc_plugin_t *p = ps->insts[--ps->stop_pending];
        if (!p->started || p->stopped)
            continue;
        if (p->mod->ops.stop == NULL) {
            p->stopped = 1;
            continue;
        }
        ps->in_stop_call = 1;
        p->mod->ops.stop(p->state, on_instance_stopped, p);
        ps->in_stop_call = 0;
        if (!p->stopped)
            return; /* continues in on_instance_stopped */
    }
    stop_finish(ps);
}

static void on_stop_deadline(void *data)
{
    gw_plugins_t *ps = data;
    ps->stop_timer = NULL; /* one-shot: released by the host after this returns */
    for (size_t i = 0; i < ps->ninsts; i++)
        if (ps->insts[i]->started && !ps->insts[i]->stopped && i >= ps->stop_pending)
            gw_log(OC_LOG_WARN, "plugins", "%s did not stop in time; leaving it",
                   ps->insts[i]->name);
    stop_finish(ps);
}

void gw_plugins_stop(gw_plugins_t *ps, uint64_t deadline_ms, void (*done)(void *data), void *data)
{
    ps->stop_done = done;
    ps->stop_data = data;
    ps->stop_pending = ps->ninsts;
    ps->stop_timer = gw_host_api.timer_start(NULL, deadline_ms, 0, on_stop_deadline, ps);
    stop_next(ps);
}

void gw_plugins_free(gw_plugins_t *ps)
{
    for (size_t i = ps->ninsts; i-- > 0;) {
        oc_plugin_t *p = ps->insts[i];
        /* An instance still stopping past the deadline keeps its memory:
         * destroying it under a pending callback would be worse. */
        if (p->inited && (!p->started || p->stopped))
            p->mod->ops.destroy(p->state);
        free(p->name);
        free(p);
    }
    free(ps->insts);
    free(ps->auth);
    for (size_t i = 0; i < ps->nroutes; i++)
        free(ps->routes[i].path);
    free(ps->routes);
    for (size_t i = 0; i < ps->nmods; i++)
        gw_module_close(ps->mods[i]);
    free(ps->mods);
    memset(ps, 0, sizeof(*ps));
}

int gw_plugins_has_auth(const gw_plugins_t *ps)
{
    for (size_t i = 0; i < ps->nauth; i++) {
        oc_plugin_t *p = ps->auth[i];
        if (p->mod->k.auth.has_credentials(p->state))
            return 1;
    }
    return 0;
}

int gw_plugins_authenticate(const gw_plugins_t *ps, const oc_auth_request_t *req,
                            oc_auth_result_t *res)
{
    int verdict = OC_DECLINED;
    oc_auth_result_t r;
    for (size_t i = 0; i < ps->nauth; i++) {
        oc_plugin_t *p = ps->auth[i];
        memset(&r, 0, sizeof(r));
        r.struct_size = sizeof(r);
        int rc = p->mod->k.auth.authenticate(p->state, req, &r);
        if (rc == OC_OK) {
            *res = r;
            return OC_OK;
        }
        /* The strongest refusal wins: a lockout over a plain denial. */
        if (rc == OC_ELIMIT || (rc == OC_EACCES && verdict != OC_ELIMIT) ||
            (rc != OC_DECLINED && verdict == OC_DECLINED)) {
            verdict = rc == OC_ELIMIT ? OC_ELIMIT : OC_EACCES;
            *res = r;
        }
    }
    return verdict;
}

void gw_plugins_print(const gw_plugins_t *ps, int json, FILE *out)
{
    if (json) {
        gw_buf_t b = GW_BUF_INIT;
        gw_buf_puts(&b, "[");
        for (size_t i = 0; i < ps->nmods; i++) {
            const gw_module_t *m = ps->mods[i];
            gw_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
            gw_buf_json_str(&b, m->desc.name);
            gw_buf_printf(&b, ",\"kind\":\"%s\",\"version\":", gw_kind_name(m->desc.kind));
            gw_buf_json_str(&b, m->desc.version);
            gw_buf_printf(&b, ",\"abi\":\"%u.%u\",\"file\":", m->desc.abi_major,
                          m->desc.abi_minor);
            gw_buf_json_str(&b, m->path);
            gw_buf_puts(&b, ",\"description\":");
            if (m->desc.description)
                gw_buf_json_str(&b, m->desc.description);
            else
                gw_buf_puts(&b, "null");
            gw_buf_puts(&b, "}");
        }
        gw_buf_puts(&b, "]\n");
        fputs(b.data, out);
        gw_buf_free(&b);
        return;
    }
    fprintf(out, "%-22s %-9s %-10s %-5s %s\n", "NAME", "KIND", "VERSION", "ABI", "FILE");
    for (size_t i = 0; i < ps->nmods; i++) {
        const gw_module_t *m = ps->mods[i];
        fprintf(out, "%-22s %-9s %-10s %u.%-3u %s\n", m->desc.name, gw_kind_name(m->desc.kind),
                m->desc.version, m->desc.abi_major, m->desc.abi_minor, m->path);
    }
}

/* ---- routes and lookups ---- */

int gw_plugins_add_route(gw_plugins_t *ps, oc_plugin_t *owner, const char *path, int auth,
                         oc_http_handler_cb cb, void *data)
{
    if (path == NULL || path[0] != '/' || cb == NULL || strlen(path) > 512)
        return -EINVAL;
    if (ps->routes_frozen)
        return -EBUSY;
    for (size_t i = 0; i < ps->nroutes; i++)
        if (strcmp(ps->routes[i].path, path) == 0)
            return -EEXIST;
    gw_route_t *r = realloc(ps->routes, (ps->nroutes + 1) * sizeof(*r));
    if (r == NULL)
        return -ENOMEM;
    ps->routes = r;
    gw_route_t *e = &r[ps->nroutes];
    memset(e, 0, sizeof(*e));
    if ((e->path = strdup(path)) == NULL)
        return -ENOMEM;
    e->plugin = owner;
    e->auth = auth;
    e->label = e->path;
    e->cb = cb;
    e->data = data;
    ps->nroutes++;
    return 0;
}

const gw_route_t *gw_plugins_find_route(const gw_plugins_t *ps, const char *path, size_t len)
{
    const gw_route_t *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < ps->nroutes; i++) {
        const gw_route_t *r = &ps->routes[i];
        size_t rl = strlen(r->path);
        if (rl == len && memcmp(r->path, path, len) == 0)
            return r;
        if (r->path[rl - 1] == '/' && rl <= len && memcmp(r->path, path, rl) == 0 &&
            rl > best_len) {
            best = r;
            best_len = rl;
        }
    }
    return best;
}

oc_plugin_t *gw_plugins_provider(const gw_plugins_t *ps, const char *name)
{
    for (size_t i = 0; i < ps->ninsts; i++) {
        oc_plugin_t *p = ps->insts[i];
        if (p->mod->desc.kind != OC_KIND_PROVIDER || !p->inited)
            continue;
        const char *colon = strchr(p->name, ':');
        if (colon && strcmp(colon + 1, name) == 0)
            return p;
    }
    return NULL;
}

oc_plugin_t *gw_plugins_channel(const gw_plugins_t *ps, const char *name)
{
    for (size_t i = 0; i < ps->ninsts; i++) {
        oc_plugin_t *p = ps->insts[i];
        if (p->mod->desc.kind != OC_KIND_CHANNEL || !p->started || p->stopped)
            continue;
        const char *cn = p->mod->k.channel.channel_name(p->state);
        if (cn && strcmp(cn, name) == 0)
            return p;
    }
    return NULL;
}

const oc_storage_t *gw_plugins_storage(const gw_plugins_t *ps)
{
    if (ps->storage_inst == NULL || !ps->storage_inst->started)
        return NULL;
    return &ps->storage;
}
