/* tests/unit/llm/fake.h - fake provider instances for the llm unit tests:
 * scripted answers on timers of the loop that called chat (never inside
 * chat), a record of where and how often they were called, and a
 * gw_plugins_t holding them, so the catalog and the runner see real
 * oc_plugin_t instances without dlopen. Loops: the test's main loop (the
 * home) and, for the hop tests, a worker loop on its own thread. */
#ifndef TEST_LLM_FAKE_H
#define TEST_LLM_FAKE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config/config.h"
#include "llm/llm.h"
#include "loop/loop.h"
#include "plugin/plugins.h"

#define FAKE_OK 1     /* answer (streamed: `chunks` content chunks, then done) */
#define FAKE_FAIL 2   /* fail with fail_class / http_status / retry_after_ms */
#define FAKE_HANG 3   /* never answer (until canceled) */
#define FAKE_STREAM_FAIL 4 /* stream `chunks` chunks, then fail as FAKE_FAIL */

typedef struct fake_prov_s {
    const char *name;          /* providers[].name */
    int multi_loop;            /* OC_PLUGIN_F_MULTI_LOOP */
    int mode;
    int32_t fail_class;
    int http_status;
    uint32_t retry_after_ms;
    int chunks;                /* streamed content chunks */
    uint32_t delay_ms;         /* before the answer / between chunks */
    const char *models[4];     /* NULL-terminated list for the models op */
    atomic_int calls, cancels, live;
    pthread_t last_thread;     /* the thread chat last ran on */
    char last_model[64];
} fake_prov_t;

/* A plugin set holding the fakes (as "provider-fake:<name>" instances). */
void fake_plugins(gw_plugins_t *ps, fake_prov_t *provs, size_t n);
void fake_plugins_free(gw_plugins_t *ps);

/* The configuration from yaml (asserts it loads). */
gw_config_t *fake_config(const char *yaml);

/* A loop for the calling thread (the test's main loop). */
typedef struct fake_loop_s {
    uv_loop_t uv;
    gw_loop_t loop;
} fake_loop_t;
void fake_loop_init(fake_loop_t *l, int id);
/* Runs l until *flag != 0 or timeout_ms (asserts the flag). */
void fake_loop_run_until(fake_loop_t *l, const atomic_int *flag, uint64_t timeout_ms);
/* Closes l (runs it until its handles are closed). */
void fake_loop_close(fake_loop_t *l);

/* A worker loop on its own thread: fn(arg) is posted to it. */
typedef struct fake_worker_s {
    fake_loop_t fl;
    pthread_t thread;
    atomic_int stop;
    uv_async_t wake;
} fake_worker_t;
void fake_worker_start(fake_worker_t *w);
void fake_worker_post(fake_worker_t *w, gw_post_cb fn, void *arg);
void fake_worker_stop(fake_worker_t *w);

#endif
