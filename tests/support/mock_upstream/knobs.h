/* mock_upstream/knobs.h - the behaviour knobs of oc-mock-upstream and their
 * three spellings: a command-line flag (--latency-ms), a per-request header
 * (x-mock-latency-ms) and a /mock/config JSON key (latency_ms). One table
 * drives the parsing, the error messages and the JSON dump, so the three
 * cannot drift apart.
 *
 * A knobs_t is a plain value: copied per request, no pointers. The functions
 * are pure (thread-safe) except where noted. */
#ifndef MOCK_KNOBS_H
#define MOCK_KNOBS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef struct knobs_s {
    uint32_t latency_ms;         /* before the answer, or before a stream's first chunk */
    uint32_t chunks;             /* content chunks of a stream */
    uint32_t chunk_interval_ms;  /* between a stream's chunks */
    double fail_rate;            /* share of model calls answered fail_status */
    uint32_t fail_status;
    uint32_t status;             /* forced on every model call; 0 = off */
    uint32_t retry_after_s;      /* Retry-After on a forced or injected 429/503 */
    uint32_t stall;              /* accept, never answer */
    uint32_t size;               /* minimum reply content bytes (padding) */
    uint32_t tools;              /* answer with a tool call when the request has tools */
    uint32_t echo;               /* put the last user message in the reply */
    int32_t stream_error_after;  /* error event after this many chunks; -1 = off */
    uint32_t rl_every_s, rl_for_s; /* 429 for the last for_s of every every_s; 0 = off */
    uint64_t rl_epoch_ns;        /* start of the first window cycle (uv_hrtime) */
} knobs_t;

enum { KT_UINT, KT_INT, KT_RATE, KT_STATUS, KT_STATUS0, KT_BOOL, KT_WINDOW };

typedef struct knob_def_s {
    const char *key;    /* /mock/config JSON key */
    const char *header; /* request header, or NULL when not per request */
    const char *flag;   /* command-line flag, without the dashes */
    int type;
    int64_t min, max;   /* KT_UINT, KT_INT */
    size_t off;         /* of the field in knobs_t */
    const char *help;   /* one line for --help */
} knob_def_t;

extern const knob_def_t knob_defs[];
extern const size_t knob_count;

/* The built-in defaults (the window cycle starts now). */
void knobs_init(knobs_t *k);

/* The knob spelled `name` as a header (any case), or NULL. */
const knob_def_t *knob_by_header(const char *name, size_t n);

/* Sets knob d from text v (a flag argument or a header value, n bytes).
 * 0, or -1 with "<who>: '<v>' is not <accepted values>" appended to err. */
int knob_set_text(knobs_t *k, const knob_def_t *d, const char *v, size_t n, const char *who,
                  gw_buf_t *err);

/* Applies a JSON object of knobs (keys of knob_defs), all or nothing.
 * 0, or -1 with a message naming the key and the accepted values in err
 * (k unchanged). o is borrowed. */
int knobs_apply_json(knobs_t *k, struct json_object *o, gw_buf_t *err);

/* Appends the knobs as a JSON object. */
void knobs_to_json(const knobs_t *k, gw_buf_t *out);

/* Appends what d accepts, e.g. "an integer in 0..600000". */
void knob_describe(const knob_def_t *d, int json, gw_buf_t *out);

/* Inside the rate-limit window: the seconds until it ends (>= 1); else 0. */
uint32_t knobs_rl_retry_after(const knobs_t *k, uint64_t now_ns);

#endif
