/* scripts.c - storage-redis: the script of each storage op, by op kind. T
 * loads them all (SCRIPT LOAD) on every connection and runs them with
 * EVALSHA, or EVAL when the server lost them (io.c). */
#include "rd.h"
#include "scripts.h"

const char *const rd_scripts[RD_OP__USER] = {
    [RD_OP_SESSION_PUT] = rd_lua_session_put,
    [RD_OP_SESSION_GET] = rd_lua_session_get,
    [RD_OP_SESSION_LIST] = rd_lua_session_list,
    [RD_OP_SESSION_DELETE] = rd_lua_session_delete,
    [RD_OP_TRANSCRIPT_APPEND] = rd_lua_transcript_append,
    [RD_OP_TRANSCRIPT_READ] = rd_lua_transcript_read,
    [RD_OP_TRANSCRIPT_CLEAR] = rd_lua_transcript_clear,
    [RD_OP_INBOX_PUT] = rd_lua_inbox_put,
    [RD_OP_INBOX_PENDING] = rd_lua_inbox_pending,
    [RD_OP_COMMIT] = rd_lua_commit,
    [RD_OP_OUTBOX_PENDING] = rd_lua_outbox_pending,
    [RD_OP_OUTBOX_UPDATE] = rd_lua_outbox_update,
    [RD_OP_PAIRING_REQUEST] = rd_lua_pairing_request,
    [RD_OP_PAIRING_LIST] = rd_lua_pairing_list,
    [RD_OP_PAIRING_APPROVE] = rd_lua_pairing_approve,
    [RD_OP_ALLOW_ADD] = rd_lua_allow_add,
    [RD_OP_ALLOW_CHECK] = rd_lua_allow_check,
    [RD_OP_LEASE_ACQUIRE] = rd_lua_lease_acquire,
    [RD_OP_LEASE_RELEASE] = rd_lua_lease_release,
    [RD_OP_INBOX_SESSION_PENDING] = rd_lua_inbox_session_pending,
    [RD_OP_OUTBOX_CLAIM] = rd_lua_outbox_claim,
    [RD_OP_PRUNE] = rd_lua_prune,
};
