/* openclaw/errors.h - status codes shared by the gateway and its plugins.
 *
 * Every function of the ABI returns int32_t: OC_OK (0) on success, a negative
 * OC_E* code on failure, or one of the two positive non-error results.
 *
 * APPEND ONLY. Values are fixed forever: never renumber, never reuse a value,
 * never insert. New codes take the next free negative number. */
#ifndef OPENCLAW_ERRORS_H
#define OPENCLAW_ERRORS_H

#define OC_OK 0

/* Non-error results. */
#define OC_PENDING 1  /* the answer comes later through the callback given */
#define OC_DECLINED 2 /* "not mine": e.g. an auth plugin with no opinion */

/* Errors. (since 1.0) */
#define OC_EINVAL (-1)     /* invalid argument */
#define OC_ENOMEM (-2)     /* out of memory */
#define OC_ENOTSUP (-3)    /* operation not supported by this plugin or host */
#define OC_EAGAIN (-4)     /* try again later (backpressure, not ready) */
#define OC_EBUSY (-5)      /* resource busy (lease held, port taken) */
#define OC_ETIMEDOUT (-6)  /* timed out */
#define OC_ECANCELED (-7)  /* canceled (stop, client went away) */
#define OC_ENOENT (-8)     /* not found */
#define OC_EIO (-9)        /* I/O error (disk, network) */
#define OC_EPROTO (-10)    /* peer spoke the protocol wrong */
#define OC_ECONFIG (-11)   /* configuration error; details were reported */
#define OC_EABI (-12)      /* ABI mismatch */
#define OC_EINTERNAL (-13) /* bug: an invariant does not hold */
#define OC_EACCES (-14)    /* denied: bad or missing credentials */
#define OC_ELIMIT (-15)    /* rate limited: retry after the time given */
#define OC_EEXIST (-16)    /* already exists (duplicate id, name taken) */
#define OC_EUNAVAIL (-17)  /* dependency unavailable (storage down, upstream down) */

#endif
