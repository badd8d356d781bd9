/* config/schema.h - internal to core/config: validation of the core
 * sections into gw_config_t. Each function reads its section from c->root,
 * reports problems into `d` and returns 0, or -ENOMEM (nothing else: the
 * caller counts the messages). Not thread-safe. */
#ifndef GW_CONFIG_SCHEMA_H
#define GW_CONFIG_SCHEMA_H

#include "config/config.h"
#include "util/strv.h"

int gw_schema_top(gw_config_t *c, gw_diag_t *d);        /* allowed top-level keys */
int gw_schema_server(gw_config_t *c, gw_diag_t *d);
int gw_schema_plugins(gw_config_t *c, gw_diag_t *d);
int gw_schema_monitoring(gw_config_t *c, gw_diag_t *d); /* after server */
int gw_schema_storage(gw_config_t *c, gw_diag_t *d);    /* storage.type; auth/channels shapes */
int gw_schema_providers(gw_config_t *c, gw_diag_t *d);
int gw_schema_agents(gw_config_t *c, gw_diag_t *d);     /* after providers */
int gw_schema_bindings(gw_config_t *c, gw_diag_t *d);   /* after agents */
int gw_schema_session(gw_config_t *c, gw_diag_t *d);
int gw_schema_messages(gw_config_t *c, gw_diag_t *d);
int gw_schema_identity(gw_config_t *c, gw_diag_t *d);

/* Helpers shared by the schema files. */
/* *dst = copy of s (NULL stays NULL). 0 or -ENOMEM. */
int gw_schema_dup(char **dst, const char *s);
/* `~` expanded, then made absolute against the config file's directory
 * (the working directory when there is no file). malloc'd or NULL. */
char *gw_schema_abs_path(const gw_config_t *c, const char *p);
/* Non-zero when s is a non-empty [a-z0-9_-]+ of at most 64 characters. */
int gw_schema_is_id(const char *s);

#endif
