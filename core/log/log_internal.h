/* log/log_internal.h - shared between log.c and redact.c; not for other modules. */
#ifndef GW_LOG_INTERNAL_H
#define GW_LOG_INTERNAL_H

#include <stddef.h>

#include "log/log.h"

/* A registered secret. The list only grows (push at the head) until
 * gw_log_shutdown, so readers walk it without a lock. */
typedef struct gw_log_secret_s {
    const struct gw_log_secret_s *next;
    size_t len;
    char value[];
} gw_log_secret_t;

/* Head of the list (acquire load); NULL when none. */
const gw_log_secret_t *gw_log_secrets_head(void);

#endif
