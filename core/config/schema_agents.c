/* config/schema_agents.c - agents, bindings, session, messages, identity. */
#include "config/schema.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

/* ---- model references ---------------------------------------------------- */

static int has_alias(const gw_config_t *c, const char *a)
{
    for (size_t i = 0; i < c->agent_defaults.model_count; i++)
        if (c->agent_defaults.models[i].alias && !strcmp(c->agent_defaults.models[i].alias, a))
            return 1;
    return 0;
}

/* "provider/model" (provider configured, when any are) or a defined alias. */
static void check_model_ref(const gw_config_t *c, gw_cfg_node_t *n, const char *m,
                            gw_diag_t *d)
{
    const char *slash = strchr(m, '/');
    if (slash == NULL) {
        if (!has_alias(c, m))
            gw_cfg_error(d, n, "expected 'provider/model' or an alias from "
                         "agents.defaults.models, got \"%s\"", m);
        return;
    }
    if (slash == m || slash[1] == '\0') {
        gw_cfg_error(d, n, "expected 'provider/model', got \"%s\" (for example "
                     "openai/gpt-4o-mini)", m);
        return;
    }
    if (c->provider_count == 0)
        return; /* nothing to check against (--dev, tests) */
    const char *names[64];
    size_t n_names = 0;
    for (size_t i = 0; i < c->provider_count; i++) {
        const char *p = c->providers[i].name;
        if (strlen(p) == (size_t)(slash - m) && strncmp(p, m, (size_t)(slash - m)) == 0)
            return;
        if (n_names < 64)
            names[n_names++] = p;
    }
    gw_buf_t list = GW_BUF_INIT;
    for (size_t i = 0; i < n_names; i++)
        gw_buf_printf(&list, "%s%s", i ? ", " : "", names[i]);
    gw_cfg_error(d, n, "unknown provider '%.*s' in \"%s\" (providers[] names: %s)",
                 (int)(slash - m), m, m, list.data ? list.data : "");
    gw_buf_free(&list);
}

/* `model:` as a string or {primary, fallbacks}; mc is filled. */
static int read_model(gw_config_t *c, gw_cfg_node_t *map, gw_model_cfg_t *mc, gw_diag_t *d)
{
    gw_cfg_node_t *n = gw_cfg_child(map, "model");
    if (n == NULL || n->type == OC_CFG_NULL)
        return 0;
    if (n->type == OC_CFG_SCALAR) {
        check_model_ref(c, n, n->scalar, d);
        return gw_schema_dup(&mc->primary, n->scalar);
    }
    if (n->type != OC_CFG_MAP) {
        gw_cfg_error(d, n, "expected 'provider/model' or {primary, fallbacks}, got %s",
                     gw_cfg_type_name(n));
        return 0;
    }
    const char *primary = NULL;
    int rc = gw_cfg_get_str(n, "primary", NULL, &primary, d);
    if (rc == -ENOENT)
        gw_cfg_missing(d, n, "primary", "the model tried first, as provider/model");
    if (rc == 0) {
        check_model_ref(c, gw_cfg_lookup(n, "primary"), primary, d);
        if (gw_schema_dup(&mc->primary, primary) != 0)
            return -ENOMEM;
    }
    const char **fb = NULL;
    size_t nfb = 0;
    rc = gw_cfg_get_str_list(n, "fallbacks", &fb, &nfb, d);
    if (rc == -ENOMEM)
        return rc;
    gw_cfg_node_t *fl = gw_cfg_lookup(n, "fallbacks");
    for (size_t i = 0; i < nfb; i++)
        check_model_ref(c, fl->items[i], fb[i], d);
    rc = gw_strv_dup(&mc->fallbacks, &mc->fallback_count, fb, nfb);
    free(fb);
    return rc;
}

static void free_model(gw_model_cfg_t *m)
{
    free(m->primary);
    gw_strv_free(m->fallbacks, m->fallback_count);
    memset(m, 0, sizeof(*m));
}

/* ---- agents ------------------------------------------------------------- */

/* agents.defaults.models: {"provider/model": {alias}} */
static int read_models(gw_config_t *c, gw_cfg_node_t *defs, gw_diag_t *d)
{
    gw_agent_defaults_cfg_t *ad = &c->agent_defaults;
    gw_cfg_node_t *models = NULL;
    if (gw_cfg_get_map(defs, "models", &models, d) != 0 || models->len == 0)
        return 0;
    ad->models = calloc(models->len, sizeof(*ad->models));
    if (ad->models == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < models->len; i++) {
        const char *key = gw_cfg_key_at(models, i);
        gw_cfg_node_t *v = gw_cfg_at(models, i);
        const char *slash = strchr(key, '/');
        int bad_key = slash == NULL || slash == key || slash[1] == '\0';
        if (bad_key)
            gw_cfg_error_at_key(d, v, "expected a key of the form 'provider/model', got \"%s\" "
                                "(for example \"openai/gpt-4o-mini\")", key);
        else
            check_model_ref(c, v, key, d);
        const char *alias = NULL;
        if (v->type != OC_CFG_NULL && v->type != OC_CFG_MAP) {
            gw_cfg_error(d, v, "expected a map like {alias: fast}, got %s",
                         gw_cfg_type_name(v));
            continue;
        }
        if (gw_cfg_get_str(v, "alias", NULL, &alias, d) == 0) {
            if (*alias == '\0' || strchr(alias, '/')) {
                gw_cfg_error(d, gw_cfg_lookup(v, "alias"), "expected a short name without "
                             "'/', got \"%s\"", alias);
                alias = NULL;
            } else if (has_alias(c, alias)) {
                gw_cfg_error(d, gw_cfg_lookup(v, "alias"), "alias \"%s\" is used twice in "
                             "agents.defaults.models (aliases must be unique)", alias);
                alias = NULL;
            }
        }
        if (bad_key)
            continue;
        gw_model_alias_t *m = &ad->models[ad->model_count++];
        if (gw_schema_dup(&m->model, key) != 0 || gw_schema_dup(&m->alias, alias) != 0)
            return -ENOMEM;
    }
    return 0;
}

static int read_defaults(gw_config_t *c, gw_cfg_node_t *agents, gw_diag_t *d)
{
    gw_agent_defaults_cfg_t *ad = &c->agent_defaults;
    gw_cfg_node_t *defs = NULL;
    const char *sp = NULL;
    int64_t v;
    gw_cfg_get_map(agents, "defaults", &defs, d);
    int rc = read_models(c, defs, d);
    if (rc == 0)
        rc = read_model(c, defs, &ad->model, d);
    if (rc != 0)
        return rc;
    if (gw_cfg_get_str(defs, "systemPrompt", NULL, &sp, d) == 0 &&
        gw_schema_dup(&ad->system_prompt, sp) != 0)
        return -ENOMEM;
    gw_cfg_get_int(defs, "historyLimit", 50, 0, 100000, &v, d);
    ad->history_limit = (int)v;
    gw_cfg_get_int(defs, "timeoutSeconds", 600, 1, 7 * 86400, &v, d);
    ad->timeout_seconds = (int)v;
    gw_cfg_get_int(defs, "maxConcurrent", 4, 1, 1024, &v, d);
    ad->max_concurrent = (int)v;
    return 0;
}

static int read_mention_patterns(gw_cfg_node_t *e, gw_agent_cfg_t *a, gw_diag_t *d)
{
    gw_cfg_node_t *gc = NULL;
    const char **pats = NULL;
    size_t n = 0;
    gw_cfg_get_map(e, "groupChat", &gc, d);
    int rc = gw_cfg_get_str_list(gc, "mentionPatterns", &pats, &n, d);
    if (rc != 0)
        return rc == -ENOMEM ? rc : 0;
    gw_cfg_node_t *list = gw_cfg_lookup(gc, "mentionPatterns");
    for (size_t i = 0; i < n; i++) {
        regex_t re;
        int err = regcomp(&re, pats[i], REG_EXTENDED | REG_NOSUB);
        if (err != 0) {
            char why[256];
            regerror(err, &re, why, sizeof(why));
            gw_cfg_error(d, list->items[i], "invalid regular expression \"%s\": %s (POSIX "
                         "extended syntax; escape special characters with \\)", pats[i], why);
        } else {
            regfree(&re);
        }
    }
    rc = gw_strv_dup(&a->mention_patterns, &a->mention_pattern_count, pats, n);
    free(pats);
    return rc;
}

static int read_agent(gw_config_t *c, gw_cfg_node_t *e, gw_agent_cfg_t *a, gw_diag_t *d)
{
    const char *s = NULL;
    if (gw_cfg_get_str(e, "name", NULL, &s, d) == 0 && gw_schema_dup(&a->name, s) != 0)
        return -ENOMEM;
    if (gw_cfg_get_str(e, "systemPrompt", NULL, &s, d) == 0 &&
        gw_schema_dup(&a->system_prompt, s) != 0)
        return -ENOMEM;
    gw_cfg_get_bool(e, "default", 0, &a->is_default, d);
    int rc = read_model(c, e, &a->model, d);
    return rc ? rc : read_mention_patterns(e, a, d);
}

static int read_agent_list(gw_config_t *c, gw_cfg_node_t *list, gw_diag_t *d)
{
    if (list->len == 0) {
        gw_cfg_error(d, list, "the list is empty (add an agent like {id: main}, or remove "
                     "agents.list to get the default agent 'main')");
        return 0;
    }
    c->agents = calloc(list->len, sizeof(*c->agents));
    if (c->agents == NULL)
        return -ENOMEM;
    gw_cfg_node_t *first_default = NULL;
    for (size_t i = 0; i < list->len; i++) {
        gw_cfg_node_t *e = list->items[i];
        const char *id = NULL;
        if (e->type != OC_CFG_MAP) {
            gw_cfg_error(d, e, "expected a map like {id: main, name: ...}, got %s",
                         gw_cfg_type_name(e));
            continue;
        }
        int rc = gw_cfg_get_str(e, "id", NULL, &id, d);
        if (rc == -ENOENT)
            gw_cfg_missing(d, e, "id", "a short name of a-z, 0-9, _ and -");
        if (rc == 0 && !gw_schema_is_id(id)) {
            gw_cfg_error(d, gw_cfg_lookup(e, "id"), "expected an id of a-z, 0-9, _ and - (at "
                         "most 64), got \"%s\"", id);
            rc = -EINVAL;
        }
        if (rc == 0 && gw_config_agent(c, id)) {
            gw_cfg_error(d, gw_cfg_lookup(e, "id"), "duplicate agent id \"%s\" (ids must be "
                         "unique)", id);
            rc = -EINVAL;
        }
        gw_agent_cfg_t *a = &c->agents[c->agent_count];
        if (gw_schema_dup(&a->id, rc == 0 ? id : NULL) != 0 || read_agent(c, e, a, d) != 0)
            return -ENOMEM;
        if (a->id == NULL) { /* reported; drop the entry */
            free(a->name);
            free(a->system_prompt);
            free_model(&a->model);
            gw_strv_free(a->mention_patterns, a->mention_pattern_count);
            memset(a, 0, sizeof(*a));
            continue;
        }
        if (a->is_default && first_default) {
            gw_cfg_error(d, gw_cfg_lookup(e, "default"), "only one agent can be the default "
                         "(%s at line %d already is)", first_default->path, first_default->line);
        } else if (a->is_default) {
            first_default = e;
            c->default_agent = c->agent_count;
        }
        c->agent_count++;
    }
    if (first_default == NULL)
        c->default_agent = 0;
    for (size_t i = 0; i < c->agent_count; i++)
        c->agents[i].is_default = i == c->default_agent;
    return 0;
}

int gw_schema_agents(gw_config_t *c, gw_diag_t *d)
{
    gw_cfg_node_t *agents = NULL, *list = NULL;
    gw_cfg_get_map(c->root, "agents", &agents, d);
    int rc = read_defaults(c, agents, d);
    if (rc != 0)
        return rc;
    if (gw_cfg_get_list(agents, "list", &list, d) == 0 && (rc = read_agent_list(c, list, d)))
        return rc;
    if (c->agent_count == 0) { /* absent, or every entry was wrong (reported) */
        free(c->agents);
        c->agents = calloc(1, sizeof(*c->agents));
        if (c->agents == NULL || gw_schema_dup(&c->agents[0].id, GW_DEFAULT_AGENT_ID) != 0)
            return -ENOMEM;
        c->agents[0].is_default = 1;
        c->agent_count = 1;
        c->default_agent = 0;
    }
    gw_cfg_report_unused(agents, d);
    return 0;
}

/* ---- bindings ----------------------------------------------------------- */

static void unknown_agent(gw_config_t *c, gw_cfg_node_t *n, const char *id, gw_diag_t *d)
{
    const char *ids[64];
    size_t k = 0;
    gw_buf_t list = GW_BUF_INIT;
    for (size_t i = 0; i < c->agent_count && k < 64; i++) {
        ids[k++] = c->agents[i].id;
        gw_buf_printf(&list, "%s%s", i ? ", " : "", c->agents[i].id);
    }
    const char *sug = gw_cfg_suggest(id, ids, k);
    if (sug)
        gw_cfg_error(d, n, "unknown agent \"%s\" (did you mean '%s'?)", id, sug);
    else
        gw_cfg_error(d, n, "unknown agent \"%s\" (agents: %s)", id, list.data ? list.data : "");
    gw_buf_free(&list);
}

static int read_match(gw_cfg_node_t *e, gw_binding_cfg_t *b, gw_diag_t *d)
{
    static const char *const kinds[] = {"direct", "group", NULL};
    gw_cfg_node_t *m = NULL, *peer = NULL;
    const char *s = NULL;
    int rc = gw_cfg_get_map(e, "match", &m, d);
    if (rc == -ENOENT)
        gw_cfg_missing(d, e, "match", "{channel: telegram, accountId: ..., peer: {kind, id}}");
    if (rc != 0)
        return 0;
    rc = gw_cfg_get_str(m, "channel", NULL, &s, d);
    if (rc == -ENOENT)
        gw_cfg_missing(d, m, "channel", "the channel name, as under channels:");
    if (rc == 0 && gw_schema_dup(&b->channel, s) != 0)
        return -ENOMEM;
    if (gw_cfg_get_str(m, "accountId", NULL, &s, d) == 0 && gw_schema_dup(&b->account_id, s))
        return -ENOMEM;
    if (gw_cfg_get_map(m, "peer", &peer, d) != 0)
        return 0;
    rc = gw_cfg_get_enum(peer, "kind", kinds, NULL, &s, d);
    if (rc == -ENOENT)
        gw_cfg_missing(d, peer, "kind", "direct or group");
    if (rc == 0)
        b->peer_kind = strcmp(s, "direct") == 0 ? GW_PEER_DIRECT : GW_PEER_GROUP;
    rc = gw_cfg_get_str(peer, "id", NULL, &s, d);
    if (rc == -ENOENT)
        gw_cfg_missing(d, peer, "id", "the platform's user or group id, or \"*\"");
    if (rc == 0 && gw_schema_dup(&b->peer_id, s) != 0)
        return -ENOMEM;
    return 0;
}

int gw_schema_bindings(gw_config_t *c, gw_diag_t *d)
{
    gw_cfg_node_t *list = NULL;
    if (gw_cfg_get_list(c->root, "bindings", &list, d) != 0 || list->len == 0)
        return 0;
    c->bindings = calloc(list->len, sizeof(*c->bindings));
    if (c->bindings == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < list->len; i++) {
        gw_cfg_node_t *e = list->items[i];
        gw_binding_cfg_t *b = &c->bindings[c->binding_count];
        const char *id = NULL;
        if (e->type != OC_CFG_MAP) {
            gw_cfg_error(d, e, "expected a map like {agentId: main, match: {channel: "
                         "telegram}}, got %s", gw_cfg_type_name(e));
            continue;
        }
        int rc = gw_cfg_get_str(e, "agentId", NULL, &id, d);
        if (rc == -ENOENT)
            gw_cfg_missing(d, e, "agentId", "an id from agents.list, or main");
        if (rc == 0 && gw_config_agent(c, id) == NULL)
            unknown_agent(c, gw_cfg_lookup(e, "agentId"), id, d);
        c->binding_count++; /* owns what is filled in, even when invalid */
        if ((rc == 0 && gw_schema_dup(&b->agent_id, id) != 0) || read_match(e, b, d) != 0)
            return -ENOMEM;
    }
    gw_cfg_report_unused(list, d);
    return 0;
}

/* ---- session, messages, identity ---------------------------------------- */

static int index_of(const char *const *v, const char *s)
{
    for (int i = 0; v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return i;
    return 0;
}

int gw_schema_session(gw_config_t *c, gw_diag_t *d)
{
    static const char *const scopes[] = {"main", "per-peer", "per-channel-peer",
                                         "per-account-channel-peer", NULL};
    static const char *const modes[] = {"none", "daily", "idle", NULL};
    static const char *const triggers[] = {"/new", "/reset"};
    gw_session_cfg_t *ss = &c->session;
    gw_cfg_node_t *s = NULL, *r = NULL;
    const char *str;
    int64_t v;
    gw_cfg_get_map(c->root, "session", &s, d);
    gw_cfg_get_enum(s, "dmScope", scopes, "main", &str, d);
    ss->dm_scope = GW_DM_SCOPE_MAIN + index_of(scopes, str);
    gw_cfg_get_map(s, "reset", &r, d);
    gw_cfg_get_enum(r, "mode", modes, "none", &str, d);
    ss->reset_mode = GW_RESET_NONE + index_of(modes, str);
    gw_cfg_get_int(r, "atHour", 4, 0, 23, &v, d);
    ss->reset_at_hour = (int)v;
    gw_cfg_get_int(r, "idleMinutes", 60, 1, 525600, &v, d);
    ss->reset_idle_minutes = (int)v;

    const char **t = NULL;
    size_t n = 0;
    int rc = gw_cfg_get_str_list(s, "resetTriggers", &t, &n, d);
    if (rc == -ENOMEM)
        return rc;
    if (rc == 0) {
        gw_cfg_node_t *list = gw_cfg_lookup(s, "resetTriggers");
        for (size_t i = 0; i < n; i++)
            if (t[i][0] == '\0')
                gw_cfg_error(d, list->items[i], "expected a command like \"/new\", got an "
                             "empty string");
        rc = gw_strv_dup(&ss->reset_triggers, &ss->reset_trigger_count, t, n);
        free(t);
    } else {
        rc = gw_strv_dup(&ss->reset_triggers, &ss->reset_trigger_count, triggers, 2);
    }
    gw_cfg_report_unused(s, d);
    return rc;
}

int gw_schema_messages(gw_config_t *c, gw_diag_t *d)
{
    static const char *const modes[] = {"followup", "collect", "interrupt", NULL};
    static const char *const drops[] = {"old", "new", NULL};
    gw_queue_cfg_t *q = &c->queue;
    gw_cfg_node_t *m = NULL, *qn = NULL;
    const char *str;
    int64_t v;
    gw_cfg_get_map(c->root, "messages", &m, d);
    gw_cfg_get_map(m, "queue", &qn, d);
    gw_cfg_get_enum(qn, "mode", modes, "collect", &str, d);
    q->mode = GW_QUEUE_FOLLOWUP + index_of(modes, str);
    gw_cfg_get_int(qn, "debounceMs", 1000, 0, 600000, &v, d);
    q->debounce_ms = (uint32_t)v;
    gw_cfg_get_int(qn, "cap", 20, 1, 100000, &v, d);
    q->cap = (uint32_t)v;
    gw_cfg_get_enum(qn, "drop", drops, "old", &str, d);
    q->drop = GW_QUEUE_DROP_OLD + index_of(drops, str);
    gw_cfg_report_unused(m, d);
    return 0;
}

int gw_schema_identity(gw_config_t *c, gw_diag_t *d)
{
    gw_cfg_node_t *id = NULL;
    const char *s;
    gw_cfg_get_map(c->root, "identity", &id, d);
    if ((gw_cfg_get_str(id, "name", NULL, &s, d) == 0 && gw_schema_dup(&c->identity.name, s)) ||
        (gw_cfg_get_str(id, "theme", NULL, &s, d) == 0 && gw_schema_dup(&c->identity.theme, s)) ||
        (gw_cfg_get_str(id, "emoji", NULL, &s, d) == 0 && gw_schema_dup(&c->identity.emoji, s)))
        return -ENOMEM;
    gw_cfg_report_unused(id, d);
    return 0;
}
