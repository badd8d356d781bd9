/* tests/storage/conformance.c - the storage conformance cases (see
 * conformance.h). Backend-independent: only openclaw/storage.h semantics. */
#define _GNU_SOURCE
#include "conformance.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- environment -------------------------------------------------------- */

static pthread_t sc_loop_thread; /* callbacks must run here */

static uint64_t sc_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t sc_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sc_load(sc_env_t *env)
{
    const sc_backend_t *b = env->backend;
    env->th = oc_test_host_new(b->yaml);
    cr_assert_not_null(env->th, "test host: %s", oc_test_host_last_error());
    int32_t rc = oc_test_host_load(env->th, b->so_path);
    cr_assert_eq(rc, OC_OK, "loading %s failed (%d): %s", b->so_path, rc,
                 oc_test_host_errors(env->th));
    env->host = oc_test_host_api(env->th);
    env->ops = oc_test_host_kind_ops(env->th, b->plugin);
    env->st = oc_test_host_state(env->th, b->plugin);
    cr_assert_not_null(env->ops, "%s: no kind ops", b->plugin);
    cr_assert_not_null(env->st, "%s: no state", b->plugin);
    cr_assert_eq(env->ops->kind, OC_KIND_STORAGE);
    sc_loop_thread = pthread_self();
}

void sc_env_open(sc_env_t *env, const sc_backend_t *b)
{
    memset(env, 0, sizeof *env);
    env->backend = b;
    static unsigned counter;
    snprintf(env->ns, sizeof env->ns, "sc%x%x%llx", (unsigned)getpid(), counter++,
             (unsigned long long)(sc_wall_ms() & 0xffffffffffull));
    snprintf(env->agent, sizeof env->agent, "%s", env->ns);
    snprintf(env->agent2, sizeof env->agent2, "%sb", env->ns);
    sc_load(env);
}

void sc_env_close(sc_env_t *env)
{
    if (env->th != NULL)
        oc_test_host_free(env->th);
    env->th = NULL;
    env->ops = NULL;
    env->st = NULL;
    env->host = NULL;
}

void sc_env_reopen(sc_env_t *env)
{
    sc_env_close(env);
    sc_load(env);
}

void sc_run(const sc_backend_t *b, const char *case_name)
{
    const sc_case_t *c = NULL;
    for (size_t i = 0; i < sc_case_count; i++)
        if (strcmp(sc_cases[i].name, case_name) == 0)
            c = &sc_cases[i];
    cr_assert_not_null(c, "no conformance case %s", case_name);
    sc_env_t env;
    sc_env_open(&env, b);
    c->fn(&env);
    sc_env_close(&env);
}

const char *sc_key(const sc_env_t *env, char *buf, size_t len, const char *suffix)
{
    snprintf(buf, len, "agent:%s:%s", env->ns, suffix);
    return buf;
}

const char *sc_chan(const sc_env_t *env, char *buf, size_t len, const char *suffix)
{
    snprintf(buf, len, "%s.%s", env->ns, suffix);
    return buf;
}

uint64_t sc_now_ms(void)
{
    return sc_wall_ms();
}

static int sc_flag(void *arg)
{
    return *(const int *)arg != 0;
}

void sc_wait(sc_env_t *env, const int *flag)
{
    cr_assert(oc_test_host_run_until(env->th, sc_flag, (void *)flag, SC_TIMEOUT_MS),
              "timed out waiting for a storage callback");
}

/* ---- result copies ------------------------------------------------------ */

static char *sc_dup(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void sc_copy_session(sc_session_t *d, const oc_session_t *s)
{
    d->key = sc_dup(s->key);
    d->agent_id = sc_dup(s->agent_id);
    d->channel = sc_dup(s->channel);
    d->meta_json = sc_dup(s->meta_json);
    d->created_ms = s->created_ms;
    d->updated_ms = s->updated_ms;
    d->turn_count = s->turn_count;
}

void sc_res_free(sc_res_t *r)
{
    for (size_t i = 0; i < r->nsessions; i++) {
        free(r->sessions[i].key);
        free(r->sessions[i].agent_id);
        free(r->sessions[i].channel);
        free(r->sessions[i].meta_json);
    }
    for (size_t i = 0; i < r->nturns; i++) {
        free(r->turns[i].role);
        free(r->turns[i].content);
        free(r->turns[i].meta_json);
    }
    for (size_t i = 0; i < r->ninbox; i++) {
        sc_inbox_t *x = &r->inbox[i];
        free(x->channel);
        free(x->account);
        free(x->message_id);
        free(x->envelope_json);
        free(x->session_key);
    }
    for (size_t i = 0; i < r->noutbox; i++) {
        sc_outbox_t *x = &r->outbox[i];
        free(x->idempotency_key);
        free(x->channel);
        free(x->account);
        free(x->peer_id);
        free(x->text);
        free(x->in_reply_to);
        free(x->last_error);
    }
    for (size_t i = 0; i < r->npairings; i++) {
        sc_pairing_t *x = &r->pairings[i];
        free(x->channel);
        free(x->account);
        free(x->sender_id);
        free(x->code);
        free(x->meta_json);
    }
    free(r->sessions);
    free(r->turns);
    free(r->inbox);
    free(r->outbox);
    free(r->pairings);
    free(r->lease_name);
    free(r->lease_holder);
    memset(r, 0, sizeof *r);
}

static void sc_on_thread(void)
{
    cr_expect(pthread_equal(pthread_self(), sc_loop_thread), "callback off the loop thread");
}

static void sc_cb_done(void *data, int32_t status)
{
    sc_res_t *r = data;
    sc_on_thread();
    r->calls++;
    r->status = status;
}

static void sc_cb_session(void *data, int32_t status, const oc_session_t *s)
{
    sc_res_t *r = data;
    sc_on_thread();
    r->calls++;
    r->status = status;
    r->null_items = s == NULL;
    if (s != NULL && r->sessions == NULL) {
        r->sessions = calloc(1, sizeof *r->sessions);
        sc_copy_session(&r->sessions[0], s);
        r->nsessions = 1;
    }
}

static void sc_cb_list(void *data, int32_t status, const oc_session_t *const *items, size_t n)
{
    sc_res_t *r = data;
    sc_on_thread();
    r->calls++;
    r->status = status;
    r->null_items = items == NULL;
    if (items != NULL && n > 0 && r->sessions == NULL) {
        r->sessions = calloc(n, sizeof *r->sessions);
        for (size_t i = 0; i < n; i++)
            sc_copy_session(&r->sessions[i], items[i]);
        r->nsessions = n;
    }
}

static void sc_cb_turns(void *data, int32_t status, const oc_turn_t *const *turns, size_t n)
{
    sc_res_t *r = data;
    sc_on_thread();
    r->calls++;
    r->status = status;
    r->null_items = turns == NULL;
    if (turns != NULL && n > 0 && r->turns == NULL) {
        r->turns = calloc(n, sizeof *r->turns);
        for (size_t i = 0; i < n; i++) {
            r->turns[i].seq = turns[i]->seq;
            r->turns[i].role = sc_dup(turns[i]->role);
            r->turns[i].content = sc_dup(turns[i]->content);
            r->turns[i].meta_json = sc_dup(turns[i]->meta_json);
            r->turns[i].created_ms = turns[i]->created_ms;
        }
        r->nturns = n;
    }
}

static void sc_cb_append(void *data, int32_t status, uint64_t last_seq)
{
    sc_res_t *r = data;
    sc_on_thread();
    r->calls++;
    r->status = status;
    r->last_seq = last_seq;
}

static void sc_cb_inbox_put(void *data, int32_t status, uint64_t id, int32_t dup)
{
    sc_res_t *r = data;
    sc_on_thread();
    r->calls++;
    r->status = status;
    r->id = id;
    r->flag = dup;
}

static void sc_cb_inbox_list(void *data, int32_t status, const oc_inbox_item_t *const *items,
                             size_t n)
{
    sc_res_t *r = data;
    sc_on_thread();
    r->calls++;
    r->status = status;
    r->null_items = items == NULL;
    if (items == NULL || n == 0 || r->inbox != NULL)
        return;
    r->inbox = calloc(n, sizeof *r->inbox);
    cr_assert_not_null(r->inbox);
    for (size_t i = 0; i < n; i++) {
        const oc_inbox_item_t *s = items[i];
        sc_inbox_t *d = &r->inbox[i];
        d->id = s->id;
        d->state = s->state;
        d->channel = sc_dup(s->channel);
        d->account = sc_dup(s->account);
        d->message_id = sc_dup(s->message_id);
        d->envelope_json = sc_dup(s->envelope_json);
        d->received_ms = s->received_ms;
        if (s->struct_size >= offsetof(oc_inbox_item_t, session_key) + sizeof(char *))
            d->session_key = sc_dup(s->session_key);
    }
    r->ninbox = n;
}

static void sc_copy_outbox(sc_outbox_t *d, const oc_outbox_item_t *s);

static void sc_cb_outbox_list(void *data, int32_t status, const oc_outbox_item_t *const *items,
                              size_t n)
{
    sc_res_t *r = data;
    sc_on_thread();
    r->calls++;
    r->status = status;
    r->null_items = items == NULL;
    if (items == NULL || n == 0 || r->outbox != NULL)
        return;
    r->outbox = calloc(n, sizeof *r->outbox);
    cr_assert_not_null(r->outbox);
    for (size_t i = 0; i < n; i++)
        sc_copy_outbox(&r->outbox[i], items[i]);
    r->noutbox = n;
}

static void sc_copy_outbox(sc_outbox_t *d, const oc_outbox_item_t *s)
{
        d->id = s->id;
        d->state = s->state;
        d->peer_kind = s->peer_kind;
        d->attempts = s->attempts;
        d->idempotency_key = sc_dup(s->idempotency_key);
        d->channel = sc_dup(s->channel);
        d->account = sc_dup(s->account);
        d->peer_id = sc_dup(s->peer_id);
        d->text = sc_dup(s->text);
        d->in_reply_to = sc_dup(s->in_reply_to);
        d->last_error = sc_dup(s->last_error);
        d->created_ms = s->created_ms;
        d->next_attempt_ms = s->next_attempt_ms;
}

static void sc_copy_pairing(sc_pairing_t *d, const oc_pairing_t *s)
{
    d->channel = sc_dup(s->channel);
    d->account = sc_dup(s->account);
    d->sender_id = sc_dup(s->sender_id);
    d->code = sc_dup(s->code);
    d->meta_json = sc_dup(s->meta_json);
    d->created_ms = s->created_ms;
    d->last_seen_ms = s->last_seen_ms;
    d->expires_ms = s->expires_ms;
}

static void sc_cb_pairing(void *data, int32_t status, const oc_pairing_t *req, int32_t created)
{
    sc_res_t *r = data;
    sc_on_thread();
    r->calls++;
    r->status = status;
    r->flag = created;
    r->null_items = req == NULL;
    if (req != NULL && r->pairings == NULL) {
        r->pairings = calloc(1, sizeof *r->pairings);
        cr_assert_not_null(r->pairings);
        sc_copy_pairing(&r->pairings[0], req);
        r->npairings = 1;
    }
}

static void sc_cb_pairing_list(void *data, int32_t status, const oc_pairing_t *const *items,
                               size_t n)
{
    sc_res_t *r = data;
    sc_on_thread();
    r->calls++;
    r->status = status;
    r->null_items = items == NULL;
    if (items == NULL || n == 0 || r->pairings != NULL)
        return;
    r->pairings = calloc(n, sizeof *r->pairings);
    cr_assert_not_null(r->pairings);
    for (size_t i = 0; i < n; i++)
        sc_copy_pairing(&r->pairings[i], items[i]);
    r->npairings = n;
}

/* ---- synchronous wrappers ---------------------------------------------- */

static int32_t sc_finish(sc_env_t *env, int32_t rc, sc_res_t *r, const char *what)
{
    cr_assert_eq(rc, OC_PENDING, "%s returned %d, not OC_PENDING", what, rc);
    sc_wait(env, &r->calls);
    cr_assert_eq(r->calls, 1, "%s: callback ran %d times", what, r->calls);
    return r->status;
}

int32_t sc_put(sc_env_t *env, const oc_session_t *s)
{
    sc_res_t r = {0};
    return sc_finish(env, env->ops->session_put(env->st, s, sc_cb_done, &r), &r, "session_put");
}

int32_t sc_put_simple(sc_env_t *env, const char *key, const char *agent, uint64_t updated_ms)
{
    oc_session_t s = {.struct_size = sizeof s,
                      .key = key,
                      .agent_id = agent,
                      .channel = "webchat",
                      .updated_ms = updated_ms};
    return sc_put(env, &s);
}

int32_t sc_get(sc_env_t *env, const char *key, sc_res_t *r)
{
    sc_res_t local = {0};
    sc_res_t *res = r != NULL ? r : &local;
    memset(res, 0, sizeof *res);
    int32_t st =
        sc_finish(env, env->ops->session_get(env->st, key, sc_cb_session, res), res, "get");
    if (st == OC_OK)
        cr_assert_eq(res->nsessions, 1, "get OK without a session");
    else
        cr_assert(res->null_items, "get failed but passed a session");
    sc_res_free(&local);
    return st;
}

int32_t sc_list(sc_env_t *env, uint32_t limit, const char *agent, const char *prefix,
                sc_res_t *r)
{
    memset(r, 0, sizeof *r);
    oc_session_query_t q = {
        .struct_size = sizeof q, .limit = limit, .agent_id = agent, .key_prefix = prefix};
    return sc_finish(env, env->ops->session_list(env->st, &q, sc_cb_list, r), r, "list");
}

int32_t sc_delete(sc_env_t *env, const char *key)
{
    sc_res_t r = {0};
    return sc_finish(env, env->ops->session_delete(env->st, key, sc_cb_done, &r), &r, "delete");
}

int32_t sc_append(sc_env_t *env, const char *key, const oc_turn_t *const *turns, size_t n,
                  uint64_t *last_seq)
{
    sc_res_t r = {0};
    int32_t st = sc_finish(
        env, env->ops->transcript_append(env->st, key, turns, n, sc_cb_append, &r), &r,
        "append");
    if (last_seq != NULL)
        *last_seq = r.last_seq;
    return st;
}

int32_t sc_append_text(sc_env_t *env, const char *key, const char *role, const char *content,
                       uint64_t *last_seq)
{
    oc_turn_t t = {.struct_size = sizeof t, .role = role, .content = content};
    const oc_turn_t *tp[] = {&t};
    return sc_append(env, key, tp, 1, last_seq);
}

int32_t sc_read(sc_env_t *env, const char *key, uint32_t limit, sc_res_t *r)
{
    memset(r, 0, sizeof *r);
    return sc_finish(env, env->ops->transcript_read(env->st, key, limit, sc_cb_turns, r), r,
                     "read");
}

int32_t sc_clear(sc_env_t *env, const char *key)
{
    sc_res_t r = {0};
    return sc_finish(env, env->ops->transcript_clear(env->st, key, sc_cb_done, &r), &r, "clear");
}

int32_t sc_inbox_put_item(sc_env_t *env, const oc_inbox_item_t *it, uint64_t *id,
                          int32_t *dup)
{
    sc_res_t r = {0};
    int32_t st =
        sc_finish(env, env->ops->inbox_put(env->st, it, sc_cb_inbox_put, &r), &r, "inbox_put");
    if (st == OC_OK)
        cr_assert_gt(r.id, 0, "inbox_put OK with id 0");
    if (id != NULL)
        *id = r.id;
    if (dup != NULL)
        *dup = r.flag;
    return st;
}

int32_t sc_inbox_put(sc_env_t *env, const char *channel, const char *account,
                     const char *message_id, const char *envelope, uint64_t *id, int32_t *dup)
{
    oc_inbox_item_t it = {.struct_size = sizeof it,
                          .channel = channel,
                          .account = account,
                          .message_id = message_id,
                          .envelope_json = envelope,
                          .received_ms = SC_RECEIVED_MS};
    return sc_inbox_put_item(env, &it, id, dup);
}

int32_t sc_inbox_pending(sc_env_t *env, uint64_t after_id, uint32_t limit, sc_res_t *r)
{
    memset(r, 0, sizeof *r);
    return sc_finish(env, env->ops->inbox_pending(env->st, after_id, limit, sc_cb_inbox_list, r),
                     r, "inbox_pending");
}

int32_t sc_commit(sc_env_t *env, const oc_commit_t *c)
{
    sc_res_t r = {0};
    return sc_finish(env, env->ops->commit(env->st, c, sc_cb_done, &r), &r, "commit");
}

int32_t sc_outbox_pending(sc_env_t *env, uint64_t after_id, uint32_t limit, sc_res_t *r)
{
    memset(r, 0, sizeof *r);
    return sc_finish(env,
                     env->ops->outbox_pending(env->st, after_id, limit, sc_cb_outbox_list, r),
                     r, "outbox_pending");
}

int32_t sc_outbox_update(sc_env_t *env, uint64_t id, uint32_t state, uint32_t attempts,
                         uint64_t next_attempt_ms, const char *last_error)
{
    sc_res_t r = {0};
    return sc_finish(env,
                     env->ops->outbox_update(env->st, id, state, attempts, next_attempt_ms,
                                             last_error, sc_cb_done, &r),
                     &r, "outbox_update");
}

/* A request comes with OC_OK and never with an error. */
static void sc_check_request(const sc_res_t *r, const char *what)
{
    if (r->status == OC_OK)
        cr_assert(!r->null_items && r->npairings == 1, "%s: OC_OK without a request", what);
    else
        cr_assert(r->null_items, "%s failed (%d) but passed a request", what, r->status);
}

int32_t sc_pairing_request(sc_env_t *env, const oc_pairing_t *req, uint32_t max_pending,
                           uint64_t now_ms, sc_res_t *r)
{
    memset(r, 0, sizeof *r);
    int32_t st = sc_finish(
        env, env->ops->pairing_request(env->st, req, max_pending, now_ms, sc_cb_pairing, r), r,
        "pairing_request");
    sc_check_request(r, "pairing_request");
    return st;
}

int32_t sc_pairing_list(sc_env_t *env, const char *channel, uint64_t now_ms, sc_res_t *r)
{
    memset(r, 0, sizeof *r);
    return sc_finish(env,
                     env->ops->pairing_list(env->st, channel, now_ms, sc_cb_pairing_list, r), r,
                     "pairing_list");
}

int32_t sc_pairing_approve(sc_env_t *env, const char *channel, const char *code,
                           uint64_t now_ms, sc_res_t *r)
{
    memset(r, 0, sizeof *r);
    int32_t st = sc_finish(
        env, env->ops->pairing_approve(env->st, channel, code, now_ms, sc_cb_pairing, r), r,
        "pairing_approve");
    sc_check_request(r, "pairing_approve");
    return st;
}

int32_t sc_allow_add(sc_env_t *env, const char *channel, const char *account,
                     const char *sender_id)
{
    sc_res_t r = {0};
    return sc_finish(
        env, env->ops->allow_add(env->st, channel, account, sender_id, sc_cb_done, &r), &r,
        "allow_add");
}

int32_t sc_allow_check(sc_env_t *env, const char *channel, const char *account,
                       const char *sender_id)
{
    sc_res_t r = {0};
    return sc_finish(
        env, env->ops->allow_check(env->st, channel, account, sender_id, sc_cb_done, &r), &r,
        "allow_check");
}

static uint64_t sc_turn_count(sc_env_t *env, const char *key)
{
    sc_res_t r;
    cr_assert_eq(sc_get(env, key, &r), OC_OK);
    uint64_t n = r.sessions[0].turn_count;
    sc_res_free(&r);
    return n;
}

int sc_streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

const char *sc_show(const char *s)
{
    return s != NULL ? s : "(null)";
}

/* ---- cases -------------------------------------------------------------- */

void sc_case_put_get_roundtrip(sc_env_t *env)
{
    char key[600];
    sc_key(env, key, sizeof key, "telegram:direct:42");
    const char *meta = "{\"peer\":\"42\",\"name\":\"J\\u00fcrgen \xc3\xbc\",\"n\":[1,2]}";
    oc_session_t s = {.struct_size = sizeof s,
                      .key = key,
                      .agent_id = env->agent,
                      .channel = "telegram",
                      .meta_json = meta,
                      .created_ms = 1700000000123ull,
                      .updated_ms = 1700000000456ull,
                      .turn_count = 99}; /* read-only: ignored */
    cr_assert_eq(sc_put(env, &s), OC_OK);
    sc_res_t r;
    cr_assert_eq(sc_get(env, key, &r), OC_OK);
    SC_STR_EQ(r.sessions[0].key, key);
    SC_STR_EQ(r.sessions[0].agent_id, env->agent);
    SC_STR_EQ(r.sessions[0].channel, "telegram");
    SC_STR_EQ(r.sessions[0].meta_json, meta);
    cr_assert_eq(r.sessions[0].created_ms, 1700000000123ull);
    cr_assert_eq(r.sessions[0].updated_ms, 1700000000456ull);
    cr_assert_eq(r.sessions[0].turn_count, 0);
    sc_res_free(&r);

    /* NULL channel and meta come back NULL. */
    char key2[600];
    sc_key(env, key2, sizeof key2, "main");
    oc_session_t s2 = {.struct_size = sizeof s2, .key = key2, .agent_id = env->agent,
                       .created_ms = 5, .updated_ms = 6};
    cr_assert_eq(sc_put(env, &s2), OC_OK);
    cr_assert_eq(sc_get(env, key2, &r), OC_OK);
    cr_assert_null(r.sessions[0].channel);
    cr_assert_null(r.sessions[0].meta_json);
    sc_res_free(&r);

    /* A key of exactly 512 bytes is valid. */
    char big[513];
    int n = snprintf(big, sizeof big, "agent:%s:", env->ns);
    memset(big + n, 'k', sizeof big - 1 - (size_t)n);
    big[512] = '\0';
    cr_assert_eq(sc_put_simple(env, big, env->agent, 7), OC_OK);
    cr_assert_eq(sc_get(env, big, &r), OC_OK);
    SC_STR_EQ(r.sessions[0].key, big);
    sc_res_free(&r);
}

void sc_case_put_zero_timestamps_are_now(sc_env_t *env)
{
    char key[600];
    sc_key(env, key, sizeof key, "main");
    uint64_t before = sc_wall_ms();
    cr_assert_eq(sc_put_simple(env, key, env->agent, 0), OC_OK);
    uint64_t after = sc_wall_ms();
    sc_res_t r;
    cr_assert_eq(sc_get(env, key, &r), OC_OK);
    cr_assert(r.sessions[0].created_ms >= before && r.sessions[0].created_ms <= after,
              "created_ms %llu not in [%llu, %llu]",
              (unsigned long long)r.sessions[0].created_ms, (unsigned long long)before,
              (unsigned long long)after);
    cr_assert(r.sessions[0].updated_ms >= before && r.sessions[0].updated_ms <= after);
    sc_res_free(&r);
}

void sc_case_created_kept_on_update(sc_env_t *env)
{
    char key[600];
    sc_key(env, key, sizeof key, "main");
    oc_session_t s = {.struct_size = sizeof s, .key = key, .agent_id = env->agent,
                      .channel = "slack", .meta_json = "{\"v\":1}",
                      .created_ms = 1000, .updated_ms = 1000};
    cr_assert_eq(sc_put(env, &s), OC_OK);
    cr_assert_eq(sc_append_text(env, key, "user", "hello", NULL), OC_OK);
    cr_assert_eq(sc_append_text(env, key, "assistant", "hi", NULL), OC_OK);

    oc_session_t s2 = {.struct_size = sizeof s2, .key = key, .agent_id = env->agent2,
                       .channel = "discord", .meta_json = "{\"v\":2}",
                       .created_ms = 5000, .updated_ms = 6000};
    cr_assert_eq(sc_put(env, &s2), OC_OK);
    sc_res_t r;
    cr_assert_eq(sc_get(env, key, &r), OC_OK);
    cr_assert_eq(r.sessions[0].created_ms, 1000, "created_ms changed on update");
    cr_assert_eq(r.sessions[0].updated_ms, 6000);
    SC_STR_EQ(r.sessions[0].agent_id, env->agent2);
    SC_STR_EQ(r.sessions[0].channel, "discord");
    SC_STR_EQ(r.sessions[0].meta_json, "{\"v\":2}");
    cr_assert_eq(r.sessions[0].turn_count, 2, "put must keep the transcript");
    sc_res_free(&r);

    /* 0 timestamps on update: created still kept, updated = now. */
    uint64_t before = sc_wall_ms();
    oc_session_t s3 = {.struct_size = sizeof s3, .key = key, .agent_id = env->agent};
    cr_assert_eq(sc_put(env, &s3), OC_OK);
    cr_assert_eq(sc_get(env, key, &r), OC_OK);
    cr_assert_eq(r.sessions[0].created_ms, 1000);
    cr_assert_geq(r.sessions[0].updated_ms, before);
    cr_assert_null(r.sessions[0].channel, "channel is replaced, NULL included");
    sc_res_free(&r);

    uint64_t last;
    cr_assert_eq(sc_append_text(env, key, "user", "again", &last), OC_OK);
    cr_assert_eq(last, 3, "seq continues after a put");
}

void sc_case_get_missing_is_enoent(sc_env_t *env)
{
    char key[600];
    sc_key(env, key, sizeof key, "nobody");
    sc_res_t r;
    cr_assert_eq(sc_get(env, key, &r), OC_ENOENT);
    cr_assert(r.null_items, "ENOENT comes with a NULL session");
    sc_res_free(&r);
}

void sc_case_list_order_filters_limit(sc_env_t *env)
{
    char k[6][600], prefix[600];
    static const char *const sfx[6] = {"a:1", "a:2", "a:3", "b:1", "b:2", "c:1"};
    /* updated_ms deliberately not in key or insertion order. */
    static const uint64_t upd[6] = {3000, 1000, 6000, 2000, 5000, 4000};
    for (int i = 0; i < 6; i++) {
        sc_key(env, k[i], sizeof k[i], sfx[i]);
        cr_assert_eq(sc_put_simple(env, k[i], i < 3 ? env->agent : env->agent2, upd[i]), OC_OK);
    }
    sc_key(env, prefix, sizeof prefix, "");

    sc_res_t r;
    /* All of this case's sessions, newest updated first. */
    cr_assert_eq(sc_list(env, 0, NULL, prefix, &r), OC_OK);
    static const int order[6] = {2, 4, 5, 0, 3, 1};
    cr_assert_eq(r.nsessions, 6);
    for (int i = 0; i < 6; i++) {
        SC_STR_EQ(r.sessions[i].key, k[order[i]]);
        cr_assert_eq(r.sessions[i].updated_ms, upd[order[i]]);
    }
    sc_res_free(&r);

    /* Limit. */
    cr_assert_eq(sc_list(env, 2, NULL, prefix, &r), OC_OK);
    cr_assert_eq(r.nsessions, 2);
    SC_STR_EQ(r.sessions[0].key, k[2]);
    SC_STR_EQ(r.sessions[1].key, k[4]);
    sc_res_free(&r);

    /* Agent filter (agent ids are unique to this case). */
    cr_assert_eq(sc_list(env, 0, env->agent2, NULL, &r), OC_OK);
    cr_assert_eq(r.nsessions, 3);
    SC_STR_EQ(r.sessions[0].key, k[4]);
    SC_STR_EQ(r.sessions[1].key, k[5]);
    SC_STR_EQ(r.sessions[2].key, k[3]);
    for (size_t i = 0; i < r.nsessions; i++)
        SC_STR_EQ(r.sessions[i].agent_id, env->agent2);
    sc_res_free(&r);

    /* Key prefix filter, and both filters together. */
    char pa[600];
    sc_key(env, pa, sizeof pa, "a:");
    cr_assert_eq(sc_list(env, 0, NULL, pa, &r), OC_OK);
    cr_assert_eq(r.nsessions, 3);
    SC_STR_EQ(r.sessions[0].key, k[2]);
    SC_STR_EQ(r.sessions[1].key, k[0]);
    SC_STR_EQ(r.sessions[2].key, k[1]);
    sc_res_free(&r);
    cr_assert_eq(sc_list(env, 0, env->agent2, pa, &r), OC_OK);
    cr_assert_eq(r.nsessions, 0);
    sc_res_free(&r);
    cr_assert_eq(sc_list(env, 1, env->agent, pa, &r), OC_OK);
    cr_assert_eq(r.nsessions, 1);
    SC_STR_EQ(r.sessions[0].key, k[2]);
    sc_res_free(&r);

    /* Nothing matches: OK and empty. */
    char none[600];
    sc_key(env, none, sizeof none, "zzz:");
    cr_assert_eq(sc_list(env, 0, NULL, none, &r), OC_OK);
    cr_assert_eq(r.nsessions, 0);
    sc_res_free(&r);

    /* An update moves a session to the front. */
    cr_assert_eq(sc_put_simple(env, k[1], env->agent, 9000), OC_OK);
    cr_assert_eq(sc_list(env, 1, NULL, prefix, &r), OC_OK);
    SC_STR_EQ(r.sessions[0].key, k[1]);
    sc_res_free(&r);
}

static void sc_count_cb(void *data, int32_t status)
{
    int *n = data;
    cr_expect_eq(status, OC_OK);
    (*n)++;
}

static int sc_count_reached(void *arg)
{
    const int *v = arg; /* v[0] = count, v[1] = target */
    return v[0] >= v[1];
}

void sc_case_list_default_limit_is_100(sc_env_t *env)
{
    int counts[2] = {0, 105};
    char key[600], sfx[32];
    for (int i = 0; i < counts[1]; i++) {
        snprintf(sfx, sizeof sfx, "s:%03d", i);
        sc_key(env, key, sizeof key, sfx);
        oc_session_t s = {.struct_size = sizeof s, .key = key, .agent_id = env->agent,
                          .created_ms = 1, .updated_ms = 1000 + (uint64_t)i};
        cr_assert_eq(env->ops->session_put(env->st, &s, sc_count_cb, &counts[0]), OC_PENDING);
    }
    cr_assert(oc_test_host_run_until(env->th, sc_count_reached, counts, SC_TIMEOUT_MS));
    sc_res_t r;
    cr_assert_eq(sc_list(env, 0, env->agent, NULL, &r), OC_OK);
    cr_assert_eq(r.nsessions, 100, "limit 0 means 100, got %zu", r.nsessions);
    sc_key(env, key, sizeof key, "s:104");
    SC_STR_EQ(r.sessions[0].key, key);
    sc_key(env, key, sizeof key, "s:005");
    SC_STR_EQ(r.sessions[99].key, key);
    sc_res_free(&r);
    cr_assert_eq(sc_list(env, 1000, env->agent, NULL, &r), OC_OK);
    cr_assert_eq(r.nsessions, 105);
    sc_res_free(&r);
}

void sc_case_list_prefix_is_literal(sc_env_t *env)
{
    /* LIKE / GLOB / MATCH metacharacters in a prefix match only themselves. */
    static const char *const sfx[] = {"x%y", "xay", "x_y", "x*y", "x?y", "x[y", "x\\y"};
    char key[600], prefix[600];
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        sc_key(env, key, sizeof key, sfx[i]);
        cr_assert_eq(sc_put_simple(env, key, env->agent, 100 + i), OC_OK);
    }
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        char p[8];
        snprintf(p, sizeof p, "%.2s", sfx[i]); /* "x%", "xa", "x_", ... */
        sc_key(env, prefix, sizeof prefix, p);
        sc_res_t r;
        cr_assert_eq(sc_list(env, 0, NULL, prefix, &r), OC_OK);
        cr_assert_eq(r.nsessions, 1, "prefix \"%s\" matched %zu sessions", prefix, r.nsessions);
        sc_key(env, key, sizeof key, sfx[i]);
        SC_STR_EQ(r.sessions[0].key, key);
        sc_res_free(&r);
    }
}

void sc_case_delete_cascades_and_enoent(sc_env_t *env)
{
    char key[600], other[600];
    sc_key(env, key, sizeof key, "main");
    sc_key(env, other, sizeof other, "other");
    cr_assert_eq(sc_put_simple(env, key, env->agent, 0), OC_OK);
    cr_assert_eq(sc_put_simple(env, other, env->agent, 0), OC_OK);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(sc_append_text(env, key, "user", "x", NULL), OC_OK);
        cr_assert_eq(sc_append_text(env, other, "user", "y", NULL), OC_OK);
    }
    cr_assert_eq(sc_delete(env, key), OC_OK);
    cr_assert_eq(sc_get(env, key, NULL), OC_ENOENT);
    sc_res_t r;
    cr_assert_eq(sc_read(env, key, 0, &r), OC_ENOENT, "the transcript goes with the session");
    sc_res_free(&r);
    cr_assert_eq(sc_delete(env, key), OC_ENOENT);

    /* Re-created: no old turns come back. */
    cr_assert_eq(sc_put_simple(env, key, env->agent, 0), OC_OK);
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 0, "old turns survived the delete");
    sc_res_free(&r);
    cr_assert_eq(sc_turn_count(env, key), 0);

    /* The other session is untouched. */
    cr_assert_eq(sc_read(env, other, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 3);
    sc_res_free(&r);

    char missing[600];
    sc_key(env, missing, sizeof missing, "never");
    cr_assert_eq(sc_delete(env, missing), OC_ENOENT);
}

void sc_case_append_seq_numbering(sc_env_t *env)
{
    char key[600];
    sc_key(env, key, sizeof key, "main");
    cr_assert_eq(sc_put_simple(env, key, env->agent, 1000), OC_OK);
    uint64_t last;
    cr_assert_eq(sc_append_text(env, key, "system", "be brief", &last), OC_OK);
    cr_assert_eq(last, 1);

    oc_turn_t t[3] = {
        {.struct_size = sizeof t[0], .role = "user", .content = "q1",
         .meta_json = "{\"msg\":\"m1\"}", .created_ms = 111},
        {.struct_size = sizeof t[0], .role = "assistant", .content = "",
         .created_ms = 222},
        {.struct_size = sizeof t[0], .role = "tool", .content = "{\"ok\":true}"},
    };
    const oc_turn_t *tp[3] = {&t[0], &t[1], &t[2]};
    uint64_t before = sc_wall_ms();
    cr_assert_eq(sc_append(env, key, tp, 3, &last), OC_OK);
    uint64_t after = sc_wall_ms();
    cr_assert_eq(last, 4);
    cr_assert_eq(sc_append(env, key, tp, 2, &last), OC_OK);
    cr_assert_eq(last, 6);

    sc_res_t r;
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 6);
    for (size_t i = 0; i < 6; i++)
        cr_assert_eq(r.turns[i].seq, i + 1);
    SC_STR_EQ(r.turns[0].role, "system");
    SC_STR_EQ(r.turns[0].content, "be brief");
    SC_STR_EQ(r.turns[1].role, "user");
    SC_STR_EQ(r.turns[1].content, "q1");
    SC_STR_EQ(r.turns[1].meta_json, "{\"msg\":\"m1\"}");
    cr_assert_eq(r.turns[1].created_ms, 111);
    SC_STR_EQ(r.turns[2].role, "assistant");
    SC_STR_EQ(r.turns[2].content, "");
    cr_assert_null(r.turns[2].meta_json);
    cr_assert_eq(r.turns[2].created_ms, 222);
    SC_STR_EQ(r.turns[3].role, "tool");
    cr_assert(r.turns[3].created_ms >= before && r.turns[3].created_ms <= after,
              "created_ms 0 means now");
    SC_STR_EQ(r.turns[4].content, "q1");
    SC_STR_EQ(r.turns[5].role, "assistant");
    sc_res_free(&r);

    cr_assert_eq(sc_get(env, key, &r), OC_OK);
    cr_assert_eq(r.sessions[0].turn_count, 6);
    cr_assert_gt(r.sessions[0].updated_ms, 1000, "append updates updated_ms");
    sc_res_free(&r);

    /* Sequences are per session. */
    char key2[600];
    sc_key(env, key2, sizeof key2, "second");
    cr_assert_eq(sc_put_simple(env, key2, env->agent, 0), OC_OK);
    cr_assert_eq(sc_append_text(env, key2, "user", "first", &last), OC_OK);
    cr_assert_eq(last, 1);
}

void sc_case_append_many_turns_in_one_call(sc_env_t *env)
{
    enum { N = 300 };
    char key[600];
    sc_key(env, key, sizeof key, "many");
    cr_assert_eq(sc_put_simple(env, key, env->agent, 0), OC_OK);
    cr_assert_eq(sc_append_text(env, key, "system", "s", NULL), OC_OK);
    oc_turn_t *t = calloc(N, sizeof *t);
    const oc_turn_t **tp = calloc(N, sizeof *tp);
    char (*text)[16] = calloc(N, sizeof *text);
    cr_assert(t != NULL && tp != NULL && text != NULL);
    for (int i = 0; i < N; i++) {
        snprintf(text[i], sizeof text[i], "t%d", i);
        t[i] = (oc_turn_t){.struct_size = sizeof t[i], .role = i % 2 ? "assistant" : "user",
                           .content = text[i]};
        tp[i] = &t[i];
    }
    uint64_t last;
    int32_t st = sc_append(env, key, tp, N, &last);
    free(t);
    free(tp);
    free(text);
    cr_assert_eq(st, OC_OK);
    cr_assert_eq(last, N + 1);
    sc_res_t r;
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, N + 1);
    for (size_t i = 1; i < r.nturns; i++) {
        char want[32];
        snprintf(want, sizeof want, "t%zu", i - 1);
        cr_assert_eq(r.turns[i].seq, i + 1);
        SC_STR_EQ(r.turns[i].content, want);
    }
    sc_res_free(&r);
    cr_assert_eq(sc_turn_count(env, key), N + 1);
}

void sc_case_append_missing_is_enoent(sc_env_t *env)
{
    char key[600];
    sc_key(env, key, sizeof key, "ghost");
    uint64_t last = 77;
    cr_assert_eq(sc_append_text(env, key, "user", "boo", &last), OC_ENOENT);
    cr_assert_eq(sc_get(env, key, NULL), OC_ENOENT, "append must not create the session");
}

void sc_case_read_last_n_oldest_first(sc_env_t *env)
{
    char key[600], text[32];
    sc_key(env, key, sizeof key, "main");
    cr_assert_eq(sc_put_simple(env, key, env->agent, 0), OC_OK);
    sc_res_t r;
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 0, "a new session has no turns");
    sc_res_free(&r);
    for (int i = 1; i <= 10; i++) {
        snprintf(text, sizeof text, "turn %d", i);
        cr_assert_eq(sc_append_text(env, key, i % 2 ? "user" : "assistant", text, NULL), OC_OK);
    }
    cr_assert_eq(sc_read(env, key, 3, &r), OC_OK);
    cr_assert_eq(r.nturns, 3);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(r.turns[i].seq, (uint64_t)(8 + i));
        snprintf(text, sizeof text, "turn %d", 8 + i);
        SC_STR_EQ(r.turns[i].content, text);
    }
    sc_res_free(&r);
    cr_assert_eq(sc_read(env, key, 1, &r), OC_OK);
    cr_assert_eq(r.nturns, 1);
    cr_assert_eq(r.turns[0].seq, 10);
    sc_res_free(&r);
    cr_assert_eq(sc_read(env, key, 100, &r), OC_OK);
    cr_assert_eq(r.nturns, 10);
    cr_assert_eq(r.turns[0].seq, 1);
    cr_assert_eq(r.turns[9].seq, 10);
    sc_res_free(&r);
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 10);
    sc_res_free(&r);

    char missing[600];
    sc_key(env, missing, sizeof missing, "ghost");
    cr_assert_eq(sc_read(env, missing, 0, &r), OC_ENOENT);
    cr_assert(r.null_items);
    sc_res_free(&r);
}

void sc_case_clear_then_append_continues_seq(sc_env_t *env)
{
    char key[600];
    sc_key(env, key, sizeof key, "main");
    cr_assert_eq(sc_put_simple(env, key, env->agent, 1000), OC_OK);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(sc_append_text(env, key, "user", "x", NULL), OC_OK);
    cr_assert_eq(sc_clear(env, key), OC_OK);
    sc_res_t r;
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 0);
    sc_res_free(&r);
    cr_assert_eq(sc_get(env, key, &r), OC_OK, "clear keeps the session");
    cr_assert_eq(r.sessions[0].turn_count, 0);
    sc_res_free(&r);

    uint64_t last;
    cr_assert_eq(sc_append_text(env, key, "user", "after", &last), OC_OK);
    cr_assert_eq(last, 6, "seq numbers are never reused");
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 1);
    cr_assert_eq(r.turns[0].seq, 6);
    SC_STR_EQ(r.turns[0].content, "after");
    sc_res_free(&r);
    cr_assert_eq(sc_turn_count(env, key), 1);
    cr_assert_eq(sc_clear(env, key), OC_OK);
    cr_assert_eq(sc_clear(env, key), OC_OK, "clearing an empty transcript is fine");

    char missing[600];
    sc_key(env, missing, sizeof missing, "ghost");
    cr_assert_eq(sc_clear(env, missing), OC_ENOENT);
}

/* ---- ordering ---------------------------------------------------------- */

#define SC_ORD_SESSIONS 8
#define SC_ORD_OPS 1000

enum { SC_ORD_APPEND, SC_ORD_PUT, SC_ORD_GET, SC_ORD_READ };

typedef struct sc_ord_s sc_ord_t;

typedef struct sc_ord_op_s {
    sc_ord_t *o;
    int session, index; /* index among the session's ops, in call order */
    int kind;
    int expect; /* APPEND: seq; PUT/GET: meta number; READ: last content number (-1 none) */
} sc_ord_op_t;

struct sc_ord_s {
    int seen[SC_ORD_SESSIONS]; /* callbacks so far, per session */
    int done, failures;
    char first_failure[256];
    sc_ord_op_t ops[SC_ORD_OPS];
};

static void sc_ord_fail(sc_ord_t *o, const sc_ord_op_t *op, const char *what, long got)
{
    if (o->failures++ == 0)
        snprintf(o->first_failure, sizeof o->first_failure,
                 "session %d op %d (kind %d): %s (got %ld, expected %d)", op->session, op->index,
                 op->kind, what, got, op->expect);
}

static void sc_ord_arrived(sc_ord_op_t *op)
{
    sc_ord_t *o = op->o;
    if (op->index != o->seen[op->session])
        sc_ord_fail(o, op, "callback out of call order", o->seen[op->session]);
    o->seen[op->session]++;
    o->done++;
}

static void sc_ord_done(void *data, int32_t status)
{
    sc_ord_op_t *op = data;
    if (status != OC_OK)
        sc_ord_fail(op->o, op, "put failed", status);
    sc_ord_arrived(op);
}

static void sc_ord_append(void *data, int32_t status, uint64_t last)
{
    sc_ord_op_t *op = data;
    if (status != OC_OK || last != (uint64_t)op->expect)
        sc_ord_fail(op->o, op, "append seq", status != OC_OK ? status : (long)last);
    sc_ord_arrived(op);
}

static void sc_ord_get(void *data, int32_t status, const oc_session_t *s)
{
    sc_ord_op_t *op = data;
    char want[32];
    snprintf(want, sizeof want, "{\"n\":%d}", op->expect);
    if (status != OC_OK || s == NULL || s->meta_json == NULL || strcmp(s->meta_json, want) != 0)
        sc_ord_fail(op->o, op, "get saw another put", status);
    sc_ord_arrived(op);
}

static void sc_ord_read(void *data, int32_t status, const oc_turn_t *const *t, size_t n)
{
    sc_ord_op_t *op = data;
    if (status != OC_OK) {
        sc_ord_fail(op->o, op, "read failed", status);
    } else if (op->expect < 0) {
        if (n != 0)
            sc_ord_fail(op->o, op, "read saw a turn too early", (long)n);
    } else if (n != 1 || atoi(t[0]->content) != op->expect) {
        sc_ord_fail(op->o, op, "read saw another append", n == 1 ? atoi(t[0]->content) : -1);
    }
    sc_ord_arrived(op);
}

static int sc_ord_all_done(void *arg)
{
    const sc_ord_t *o = arg;
    return o->done >= SC_ORD_OPS;
}

void sc_case_per_session_order_1000_ops(sc_env_t *env)
{
    char keys[SC_ORD_SESSIONS][600];
    int appends[SC_ORD_SESSIONS] = {0}, last_content[SC_ORD_SESSIONS], last_meta[SC_ORD_SESSIONS];
    int index[SC_ORD_SESSIONS] = {0};
    for (int s = 0; s < SC_ORD_SESSIONS; s++) {
        char sfx[16];
        snprintf(sfx, sizeof sfx, "ord:%d", s);
        sc_key(env, keys[s], sizeof keys[s], sfx);
        oc_session_t ss = {.struct_size = sizeof ss, .key = keys[s], .agent_id = env->agent,
                           .meta_json = "{\"n\":-1}"};
        cr_assert_eq(sc_put(env, &ss), OC_OK);
        last_content[s] = -1;
        last_meta[s] = -1;
    }

    sc_ord_t *o = calloc(1, sizeof *o);
    cr_assert_not_null(o);
    uint32_t rnd = 12345;
    /* All 1000 submitted without running the loop in between. */
    for (int i = 0; i < SC_ORD_OPS; i++) {
        rnd = rnd * 1103515245u + 12345u;
        int s = (int)((rnd >> 16) % SC_ORD_SESSIONS);
        int kind = (int)((rnd >> 8) % 4);
        sc_ord_op_t *op = &o->ops[i];
        op->o = o;
        op->session = s;
        op->index = index[s]++;
        op->kind = kind;
        char text[32];
        int32_t rc;
        switch (kind) {
        case SC_ORD_APPEND: {
            snprintf(text, sizeof text, "%d", i);
            oc_turn_t t = {.struct_size = sizeof t, .role = "user", .content = text};
            const oc_turn_t *tp[] = {&t};
            op->expect = ++appends[s];
            last_content[s] = i;
            rc = env->ops->transcript_append(env->st, keys[s], tp, 1, sc_ord_append, op);
            break;
        }
        case SC_ORD_PUT: {
            snprintf(text, sizeof text, "{\"n\":%d}", i);
            oc_session_t ss = {.struct_size = sizeof ss, .key = keys[s], .agent_id = env->agent,
                               .meta_json = text};
            op->expect = i;
            last_meta[s] = i;
            rc = env->ops->session_put(env->st, &ss, sc_ord_done, op);
            break;
        }
        case SC_ORD_GET:
            op->expect = last_meta[s];
            rc = env->ops->session_get(env->st, keys[s], sc_ord_get, op);
            break;
        default:
            op->expect = last_content[s];
            rc = env->ops->transcript_read(env->st, keys[s], 1, sc_ord_read, op);
            break;
        }
        cr_assert_eq(rc, OC_PENDING, "op %d returned %d", i, rc);
    }
    int ok = oc_test_host_run_until(env->th, sc_ord_all_done, o, SC_TIMEOUT_MS);
    int done = o->done, failures = o->failures;
    char first[256];
    snprintf(first, sizeof first, "%s", o->first_failure);
    free(o);
    cr_assert(ok, "only %d of %d callbacks arrived", done, SC_ORD_OPS);
    cr_assert_eq(done, SC_ORD_OPS);
    cr_assert_eq(failures, 0, "%d ordering failures; first: %s", failures, first);
}

/* ---- invalid arguments -------------------------------------------------- */

static int sc_bad_calls;

static void sc_bad_done(void *data, int32_t status)
{
    (void)data;
    (void)status;
    sc_bad_calls++;
}

static void sc_bad_session(void *data, int32_t status, const oc_session_t *s)
{
    (void)data;
    (void)status;
    (void)s;
    sc_bad_calls++;
}

static void sc_bad_list(void *data, int32_t status, const oc_session_t *const *s, size_t n)
{
    (void)data;
    (void)status;
    (void)s;
    (void)n;
    sc_bad_calls++;
}

static void sc_bad_turns(void *data, int32_t status, const oc_turn_t *const *t, size_t n)
{
    (void)data;
    (void)status;
    (void)t;
    (void)n;
    sc_bad_calls++;
}

static void sc_bad_append(void *data, int32_t status, uint64_t last)
{
    (void)data;
    (void)status;
    (void)last;
    sc_bad_calls++;
}

void sc_case_invalid_arguments_einval(sc_env_t *env)
{
    const oc_storage_ops_t *o = env->ops;
    void *st = env->st;
    char key[600];
    sc_key(env, key, sizeof key, "main");
    cr_assert_eq(sc_put_simple(env, key, env->agent, 0), OC_OK);
    sc_bad_calls = 0;

    char big[520];
    int n = snprintf(big, sizeof big, "agent:%s:", env->ns);
    memset(big + n, 'k', 513 - (size_t)n);
    big[513] = '\0'; /* 513 bytes: one too many */
    const char *bad_keys[] = {NULL, "", big};

    for (size_t i = 0; i < 3; i++) {
        const char *k = bad_keys[i];
        oc_session_t s = {.struct_size = sizeof s, .key = k, .agent_id = env->agent};
        oc_turn_t t = {.struct_size = sizeof t, .role = "user", .content = "x"};
        const oc_turn_t *tp[] = {&t};
        cr_assert_eq(o->session_put(st, &s, sc_bad_done, NULL), OC_EINVAL, "put key %zu", i);
        cr_assert_eq(o->session_get(st, k, sc_bad_session, NULL), OC_EINVAL, "get key %zu", i);
        cr_assert_eq(o->session_delete(st, k, sc_bad_done, NULL), OC_EINVAL, "del key %zu", i);
        cr_assert_eq(o->transcript_append(st, k, tp, 1, sc_bad_append, NULL), OC_EINVAL,
                     "append key %zu", i);
        cr_assert_eq(o->transcript_read(st, k, 0, sc_bad_turns, NULL), OC_EINVAL,
                     "read key %zu", i);
        cr_assert_eq(o->transcript_clear(st, k, sc_bad_done, NULL), OC_EINVAL,
                     "clear key %zu", i);
    }

    /* Sessions: NULL session, no agent. */
    cr_assert_eq(o->session_put(st, NULL, sc_bad_done, NULL), OC_EINVAL);
    oc_session_t noagent = {.struct_size = sizeof noagent, .key = key};
    cr_assert_eq(o->session_put(st, &noagent, sc_bad_done, NULL), OC_EINVAL);

    /* Turns: bad role, NULL role, NULL content, NULL turn, none at all. One
     * bad turn among good ones rejects the whole append. */
    oc_turn_t good = {.struct_size = sizeof good, .role = "assistant", .content = "ok"};
    oc_turn_t badrole = {.struct_size = sizeof badrole, .role = "admin", .content = "x"};
    oc_turn_t caps = {.struct_size = sizeof caps, .role = "User", .content = "x"};
    oc_turn_t norole = {.struct_size = sizeof norole, .content = "x"};
    oc_turn_t nocontent = {.struct_size = sizeof nocontent, .role = "user"};
    const oc_turn_t *mix1[] = {&good, &badrole};
    const oc_turn_t *mix2[] = {&caps};
    const oc_turn_t *mix3[] = {&good, &norole, &good};
    const oc_turn_t *mix4[] = {&nocontent};
    const oc_turn_t *mix5[] = {&good, NULL};
    cr_assert_eq(o->transcript_append(st, key, mix1, 2, sc_bad_append, NULL), OC_EINVAL);
    cr_assert_eq(o->transcript_append(st, key, mix2, 1, sc_bad_append, NULL), OC_EINVAL);
    cr_assert_eq(o->transcript_append(st, key, mix3, 3, sc_bad_append, NULL), OC_EINVAL);
    cr_assert_eq(o->transcript_append(st, key, mix4, 1, sc_bad_append, NULL), OC_EINVAL);
    cr_assert_eq(o->transcript_append(st, key, mix5, 2, sc_bad_append, NULL), OC_EINVAL);
    cr_assert_eq(o->transcript_append(st, key, NULL, 1, sc_bad_append, NULL), OC_EINVAL);
    cr_assert_eq(o->transcript_append(st, key, mix1, 0, sc_bad_append, NULL), OC_EINVAL);

    /* No callback. */
    oc_session_t ok = {.struct_size = sizeof ok, .key = key, .agent_id = env->agent};
    const oc_turn_t *one[] = {&good};
    cr_assert_eq(o->session_put(st, &ok, NULL, NULL), OC_EINVAL);
    cr_assert_eq(o->session_get(st, key, NULL, NULL), OC_EINVAL);
    cr_assert_eq(o->session_list(st, NULL, NULL, NULL), OC_EINVAL);
    cr_assert_eq(o->session_delete(st, key, NULL, NULL), OC_EINVAL);
    cr_assert_eq(o->transcript_append(st, key, one, 1, NULL, NULL), OC_EINVAL);
    cr_assert_eq(o->transcript_read(st, key, 0, NULL, NULL), OC_EINVAL);
    cr_assert_eq(o->transcript_clear(st, key, NULL, NULL), OC_EINVAL);

    /* A too-long list prefix. */
    oc_session_query_t q = {.struct_size = sizeof q, .key_prefix = big};
    cr_assert_eq(o->session_list(st, &q, sc_bad_list, NULL), OC_EINVAL);

    /* Later ops on the same session complete, and no rejected call ever
     * called back nor left anything behind. */
    sc_res_t r;
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 0, "a rejected append wrote turns");
    sc_res_free(&r);
    cr_assert_eq(sc_get(env, key, NULL), OC_OK);
    cr_assert_eq(sc_bad_calls, 0, "a rejected call ran its callback %d times", sc_bad_calls);
}

/* ---- durability, stop ---------------------------------------------------- */

void sc_case_durable_across_restart(sc_env_t *env)
{
    if (!env->backend->persistent)
        cr_skip_test("%s does not persist across restarts", env->backend->plugin);
    char key[600];
    sc_key(env, key, sizeof key, "durable");
    oc_session_t s = {.struct_size = sizeof s, .key = key, .agent_id = env->agent,
                      .channel = "whatsapp", .meta_json = "{\"d\":1}",
                      .created_ms = 42, .updated_ms = 43};
    cr_assert_eq(sc_put(env, &s), OC_OK);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(sc_append_text(env, key, i % 2 ? "assistant" : "user", "kept", NULL), OC_OK);
    cr_assert_eq(sc_clear(env, key), OC_OK);
    cr_assert_eq(sc_append_text(env, key, "user", "after clear", NULL), OC_OK);

    sc_env_reopen(env);

    sc_res_t r;
    cr_assert_eq(sc_get(env, key, &r), OC_OK, "the session did not survive a restart");
    SC_STR_EQ(r.sessions[0].channel, "whatsapp");
    SC_STR_EQ(r.sessions[0].meta_json, "{\"d\":1}");
    cr_assert_eq(r.sessions[0].created_ms, 42);
    cr_assert_eq(r.sessions[0].turn_count, 1);
    sc_res_free(&r);
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, 1);
    cr_assert_eq(r.turns[0].seq, 5);
    SC_STR_EQ(r.turns[0].content, "after clear");
    sc_res_free(&r);
    uint64_t last;
    cr_assert_eq(sc_append_text(env, key, "user", "next", &last), OC_OK);
    cr_assert_eq(last, 6, "next seq survives a restart");
}

/* The child of sc_case_acknowledged_writes_survive_kill_9: no Criterion
 * calls here, only exit codes. Never returns. */
#define SC_KILL_OPS 50

static void sc_kill_cb(void *data, int32_t status, uint64_t last)
{
    int *acked = data;
    if (status == OC_OK && last == (uint64_t)(*acked + 1))
        (*acked)++;
    else
        _exit(5);
}

static int sc_kill_all(void *arg)
{
    return *(int *)arg >= SC_KILL_OPS;
}

static void sc_kill_put_cb(void *data, int32_t status)
{
    *(int32_t *)data = status == OC_OK ? 1 : -1;
}

static int sc_kill_put_done(void *arg)
{
    return *(int32_t *)arg != 0;
}

static void sc_kill_child(const sc_env_t *env, const char *key)
{
    const sc_backend_t *b = env->backend;
    oc_test_host_t *th = oc_test_host_new(b->yaml);
    if (th == NULL || oc_test_host_load(th, b->so_path) != OC_OK)
        _exit(2);
    const oc_storage_ops_t *ops = oc_test_host_kind_ops(th, b->plugin);
    void *st = oc_test_host_state(th, b->plugin);
    oc_session_t s = {.struct_size = sizeof s, .key = key, .agent_id = env->agent};
    int32_t put = 0;
    if (ops->session_put(st, &s, sc_kill_put_cb, &put) != OC_PENDING ||
        !oc_test_host_run_until(th, sc_kill_put_done, &put, SC_TIMEOUT_MS) || put != 1)
        _exit(3);
    int acked = 0;
    for (int i = 0; i < SC_KILL_OPS; i++) {
        oc_turn_t t = {.struct_size = sizeof t, .role = "user", .content = "acknowledged"};
        const oc_turn_t *tp[] = {&t};
        if (ops->transcript_append(st, key, tp, 1, sc_kill_cb, &acked) != OC_PENDING)
            _exit(4);
    }
    if (!oc_test_host_run_until(th, sc_kill_all, &acked, SC_TIMEOUT_MS))
        _exit(6);
    /* Every append was acknowledged: die without stopping anything. */
    kill(getpid(), SIGKILL);
    _exit(7);
}

void sc_case_acknowledged_writes_survive_kill_9(sc_env_t *env)
{
    if (!env->backend->persistent)
        cr_skip_test("%s does not persist across restarts", env->backend->plugin);
    char key[600];
    sc_key(env, key, sizeof key, "killed");
    sc_env_close(env);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0)
        sc_kill_child(env, key);
    int wstatus = 0;
    cr_assert_eq(waitpid(pid, &wstatus, 0), pid);
    cr_assert(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL,
              "the child failed before the kill (exit %d)",
              WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    sc_env_reopen(env);
    sc_res_t r;
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK, "the session was lost");
    cr_assert_eq(r.nturns, SC_KILL_OPS, "%d appends acknowledged, %zu survived kill -9",
                 SC_KILL_OPS, r.nturns);
    cr_assert_eq(r.turns[SC_KILL_OPS - 1].seq, SC_KILL_OPS);
    sc_res_free(&r);
}

#define SC_STOP_OPS 300

typedef struct sc_stop_s {
    int calls[SC_STOP_OPS];
    int32_t status[SC_STOP_OPS];
    uint64_t seq[SC_STOP_OPS];
} sc_stop_t;

typedef struct sc_stop_op_s {
    sc_stop_t *s;
    int i;
} sc_stop_op_t;

static void sc_stop_cb(void *data, int32_t status, uint64_t last)
{
    sc_stop_op_t *op = data;
    op->s->calls[op->i]++;
    op->s->status[op->i] = status;
    op->s->seq[op->i] = last;
}

void sc_case_stop_completes_accepted_ops(sc_env_t *env)
{
    char key[600];
    sc_key(env, key, sizeof key, "stop");
    cr_assert_eq(sc_put_simple(env, key, env->agent, 0), OC_OK);
    sc_stop_t *s = calloc(1, sizeof *s);
    sc_stop_op_t *ops = calloc(SC_STOP_OPS, sizeof *ops);
    cr_assert(s != NULL && ops != NULL);
    for (int i = 0; i < SC_STOP_OPS; i++) {
        ops[i].s = s;
        ops[i].i = i;
        oc_turn_t t = {.struct_size = sizeof t, .role = "user", .content = "queued"};
        const oc_turn_t *tp[] = {&t};
        cr_assert_eq(env->ops->transcript_append(env->st, key, tp, 1, sc_stop_cb, &ops[i]),
                     OC_PENDING);
    }
    /* Stop right away: every accepted op is called back exactly once (done
     * or canceled) before the host finishes stopping. */
    sc_env_close(env);
    int ok = 0;
    for (int i = 0; i < SC_STOP_OPS; i++) {
        cr_assert_eq(s->calls[i], 1, "op %d called back %d times across stop", i, s->calls[i]);
        cr_assert(s->status[i] == OC_OK || s->status[i] == OC_ECANCELED,
                  "op %d: status %d", i, s->status[i]);
        if (s->status[i] == OC_OK) {
            ok++;
            cr_assert_eq(s->seq[i], (uint64_t)ok, "completed appends are numbered in order");
        }
    }
    free(s);
    free(ops);
    if (!env->backend->persistent)
        return;
    /* Nothing acknowledged is lost. */
    sc_env_reopen(env);
    sc_res_t r;
    cr_assert_eq(sc_read(env, key, 0, &r), OC_OK);
    cr_assert_eq(r.nturns, (size_t)ok, "%d appends acknowledged, %zu stored", ok, r.nturns);
    sc_res_free(&r);
}

/* ---- the loop is never blocked ----------------------------------------- */

#define SC_BIG_OPS 20000
#define SC_BIG_SESSIONS 50

typedef struct sc_big_s {
    int done, failures, ticks_while_running;
    uint64_t expect_fail_seq, got_fail_seq;
    uint64_t seq[SC_BIG_SESSIONS];
} sc_big_t;

typedef struct sc_big_op_s {
    sc_big_t *b;
    int session;
    uint64_t expect;
} sc_big_op_t;

static void sc_big_cb(void *data, int32_t status, uint64_t last)
{
    sc_big_op_t *op = data;
    if (status != OC_OK || last != op->expect) {
        if (op->b->failures++ == 0) {
            op->b->expect_fail_seq = op->expect;
            op->b->got_fail_seq = status != OC_OK ? (uint64_t)(int64_t)status : last;
        }
    }
    op->b->done++;
}

static void sc_big_tick(void *data)
{
    sc_big_t *b = data;
    if (b->done < SC_BIG_OPS)
        b->ticks_while_running++;
}

static int sc_big_done(void *arg)
{
    const sc_big_t *b = arg;
    return b->done >= SC_BIG_OPS;
}

void sc_case_loop_not_blocked_20k_appends(sc_env_t *env)
{
    char keys[SC_BIG_SESSIONS][600];
    for (int s = 0; s < SC_BIG_SESSIONS; s++) {
        char sfx[16];
        snprintf(sfx, sizeof sfx, "big:%d", s);
        sc_key(env, keys[s], sizeof keys[s], sfx);
        cr_assert_eq(sc_put_simple(env, keys[s], env->agent, 0), OC_OK);
    }
    sc_big_t *b = calloc(1, sizeof *b);
    sc_big_op_t *ops = calloc(SC_BIG_OPS, sizeof *ops);
    cr_assert(b != NULL && ops != NULL);
    /* A repeating timer on the same loop: it can only fire while the storage
     * work runs if that work is off the loop. */
    oc_timer_t *timer = env->host->timer_start(NULL, 1, 1, sc_big_tick, b);
    cr_assert_not_null(timer);

    uint64_t t0 = sc_mono_ns();
    for (int i = 0; i < SC_BIG_OPS; i++) {
        int s = i % SC_BIG_SESSIONS;
        ops[i].b = b;
        ops[i].session = s;
        ops[i].expect = ++b->seq[s];
        char text[48];
        snprintf(text, sizeof text, "message %d of the big batch", i);
        oc_turn_t t = {.struct_size = sizeof t, .role = i % 2 ? "assistant" : "user",
                       .content = text, .meta_json = "{\"k\":1}"};
        const oc_turn_t *tp[] = {&t};
        int32_t rc = env->ops->transcript_append(env->st, keys[s], tp, 1, sc_big_cb, &ops[i]);
        cr_assert_eq(rc, OC_PENDING, "append %d returned %d", i, rc);
    }
    int ok = oc_test_host_run_until(env->th, sc_big_done, b, SC_TIMEOUT_MS * 2);
    uint64_t elapsed = sc_mono_ns() - t0;
    env->host->timer_stop(timer);

    sc_big_t res = *b;
    free(b);
    free(ops);
    cr_assert(ok, "only %d of %d appends completed", res.done, SC_BIG_OPS);
    cr_assert_eq(res.failures, 0, "%d appends failed; first expected seq %llu, got %lld",
                 res.failures, (unsigned long long)res.expect_fail_seq,
                 (long long)res.got_fail_seq);
    cr_assert_gt(res.ticks_while_running, 0, "the loop was blocked while the appends ran");
    fprintf(stderr,
            "[%s] %d appends in %.1f ms: %.0f appends/s; timer ticked %d times meanwhile\n",
            env->backend->plugin, SC_BIG_OPS, (double)elapsed / 1e6,
            SC_BIG_OPS / ((double)elapsed / 1e9), res.ticks_while_running);

    sc_res_t r;
    cr_assert_eq(sc_read(env, keys[7], 0, &r), OC_OK);
    cr_assert_eq(r.nturns, SC_BIG_OPS / SC_BIG_SESSIONS);
    cr_assert_eq(r.turns[r.nturns - 1].seq, SC_BIG_OPS / SC_BIG_SESSIONS);
    sc_res_free(&r);
}

void sc_case_health_ok_when_ready(sc_env_t *env)
{
    char key[600];
    sc_key(env, key, sizeof key, "health");
    cr_assert_eq(sc_get(env, key, NULL), OC_ENOENT); /* the backend answered */
    const char *text = NULL;
    int32_t h = env->ops->health(env->st, &text);
    cr_assert_eq(h, OC_OK, "health %d: %s", h, text ? text : "(no text)");
}

/* ---- the table ---------------------------------------------------------- */

#define SC_ENTRY(name) {#name, sc_case_##name},
const sc_case_t sc_cases[] = {SC_FOR_EACH_CASE(SC_ENTRY)};
#undef SC_ENTRY
const size_t sc_case_count = sizeof sc_cases / sizeof sc_cases[0];

/* ---- 1.2 --------------------------------------------------------------- */

static void sc_cb_lease(void *data, int32_t status, const oc_lease_t *l)
{
    sc_res_t *r = data;
    sc_on_thread();
    r->calls++;
    r->status = status;
    r->null_items = l == NULL;
    if (l == NULL || r->has_lease)
        return;
    r->has_lease = 1;
    r->lease_name = sc_dup(l->name);
    r->lease_holder = sc_dup(l->holder);
    r->lease_token = l->token;
    r->lease_left_ms = l->expires_in_ms;
}

static void sc_cb_outbox_item(void *data, int32_t status, const oc_outbox_item_t *item)
{
    sc_res_t *r = data;
    sc_on_thread();
    r->calls++;
    r->status = status;
    r->null_items = item == NULL;
    if (item == NULL || r->outbox != NULL)
        return;
    r->outbox = calloc(1, sizeof *r->outbox);
    cr_assert_not_null(r->outbox);
    sc_copy_outbox(&r->outbox[0], item);
    r->noutbox = 1;
}

int32_t sc_lease_acquire(sc_env_t *env, const char *name, const char *holder, uint32_t ttl_ms,
                         sc_res_t *r)
{
    memset(r, 0, sizeof *r);
    int32_t st = sc_finish(
        env, env->ops->lease_acquire(env->st, name, holder, ttl_ms, sc_cb_lease, r), r,
        "lease_acquire");
    if (st == OC_OK || st == OC_EBUSY)
        cr_assert(r->has_lease, "lease_acquire %d without the lease", st);
    else
        cr_assert(!r->has_lease, "lease_acquire failed (%d) but passed a lease", st);
    return st;
}

int32_t sc_lease_release(sc_env_t *env, const char *name, const char *holder)
{
    sc_res_t r = {0};
    return sc_finish(env, env->ops->lease_release(env->st, name, holder, sc_cb_done, &r), &r,
                     "lease_release");
}

int32_t sc_inbox_session_pending(sc_env_t *env, const char *session_key, uint64_t after_id,
                                 uint32_t limit, sc_res_t *r)
{
    memset(r, 0, sizeof *r);
    return sc_finish(env,
                     env->ops->inbox_session_pending(env->st, session_key, after_id, limit,
                                                     sc_cb_inbox_list, r),
                     r, "inbox_session_pending");
}

int32_t sc_outbox_claim(sc_env_t *env, uint64_t id, const char *holder, uint32_t ttl_ms,
                        sc_res_t *r)
{
    memset(r, 0, sizeof *r);
    int32_t st = sc_finish(
        env, env->ops->outbox_claim(env->st, id, holder, ttl_ms, sc_cb_outbox_item, r), r,
        "outbox_claim");
    if (st == OC_OK || st == OC_EEXIST)
        cr_assert_eq(r->noutbox, 1, "outbox_claim %d without the item", st);
    if (st == OC_ENOENT)
        cr_assert(r->null_items, "outbox_claim ENOENT with an item");
    return st;
}

int32_t sc_prune(sc_env_t *env, uint64_t before_ms)
{
    sc_res_t r = {0};
    return sc_finish(env, env->ops->prune(env->st, before_ms, sc_cb_done, &r), &r, "prune");
}
