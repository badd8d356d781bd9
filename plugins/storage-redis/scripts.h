/* scripts.h - storage-redis: the Lua source of each op's script
 * (scripts_*.c), gathered in rd_scripts[] (scripts.c). */
#ifndef RD_SCRIPTS_H
#define RD_SCRIPTS_H

extern const char rd_lua_session_put[];
extern const char rd_lua_session_get[];
extern const char rd_lua_session_list[];
extern const char rd_lua_session_delete[];
extern const char rd_lua_transcript_append[];
extern const char rd_lua_transcript_read[];
extern const char rd_lua_transcript_clear[];
extern const char rd_lua_inbox_put[];
extern const char rd_lua_inbox_pending[];
extern const char rd_lua_inbox_session_pending[];
extern const char rd_lua_commit[];
extern const char rd_lua_outbox_pending[];
extern const char rd_lua_outbox_update[];
extern const char rd_lua_outbox_claim[];
extern const char rd_lua_prune[];
extern const char rd_lua_pairing_request[];
extern const char rd_lua_pairing_list[];
extern const char rd_lua_pairing_approve[];
extern const char rd_lua_allow_add[];
extern const char rd_lua_allow_check[];
extern const char rd_lua_lease_acquire[];
extern const char rd_lua_lease_release[];

#endif
