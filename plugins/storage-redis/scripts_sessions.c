/* scripts_sessions.c - storage-redis: the Lua scripts of the session and
 * transcript ops. ARGV[1] is the key prefix; the rest is each op's
 * arguments as its fill function in ops.c writes them. Each returns
 * {status, ...}. */
#include "lua.h"
#include "scripts.h"

/* key, agent, channel?, meta?, created, updated */
const char rd_lua_session_put[] = LUA_COMMON LUA_SESSIONS
    "sput(ARGV[2], ARGV[3], opt(ARGV[4]), opt(ARGV[5]), ARGV[6], ARGV[7])\n"
    "return {0}\n";

/* key -> {0, session} | {1} */
const char rd_lua_session_get[] = LUA_COMMON LUA_SESSIONS
    "local s = sget(ARGV[2])\n"
    "if not s then return {1} end\n"
    "return {0, s}\n";

/* agent?, prefix?, limit -> {0, session...}: newest updated first (ties:
 * key descending), read from the agent's index when given, else from the
 * whole index; the prefix is a literal byte prefix. Cost: the index
 * entries scanned until `limit` match (README.md). */
const char rd_lua_session_list[] = LUA_COMMON LUA_SESSIONS
    "local agent, prefix, limit = opt(ARGV[2]), opt(ARGV[3]), tonumber(ARGV[4])\n"
    "local idx = P .. 'sessions'\n"
    "if agent then idx = P .. 'sa:' .. agent end\n"
    "local out, at, n = {0}, 0, 0\n"
    "while n < limit do\n"
    "  local keys = redis.call('ZREVRANGE', idx, at, at + 255)\n"
    "  if #keys == 0 then break end\n"
    "  at = at + #keys\n"
    "  for _, k in ipairs(keys) do\n"
    "    if n < limit and (not prefix or string.sub(k, 1, #prefix) == prefix) then\n"
    "      local s = sget(k)\n"
    "      if s then out[#out + 1] = s; n = n + 1 end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return out\n";

/* key -> {0} | {1} */
const char rd_lua_session_delete[] = LUA_COMMON LUA_SESSIONS
    "local k = ARGV[2]\n"
    "local a = redis.call('HGET', skey(k), 'a')\n"
    "if not a then return {1} end\n"
    "redis.call('DEL', skey(k), P .. 't:' .. k)\n"
    "redis.call('ZREM', P .. 'sessions', k)\n"
    "redis.call('ZREM', P .. 'sa:' .. a, k)\n"
    "return {0}\n";

/* key, now, count, turns... -> {0, last seq} | {1} */
const char rd_lua_transcript_append[] = LUA_COMMON LUA_SESSIONS
    "if redis.call('EXISTS', skey(ARGV[2])) == 0 then return {1} end\n"
    "return {0, sappend(ARGV[2], ARGV[3], 5, tonumber(ARGV[4]))}\n";

/* key, limit (0 = all) -> {0, {turn...}} oldest first | {1} */
const char rd_lua_transcript_read[] = LUA_COMMON LUA_SESSIONS
    "if redis.call('EXISTS', skey(ARGV[2])) == 0 then return {1} end\n"
    "local lim = tonumber(ARGV[3])\n"
    "local first = 0\n"
    "if lim > 0 then first = -lim end\n"
    "return {0, redis.call('LRANGE', P .. 't:' .. ARGV[2], first, -1)}\n";

/* key, now -> {0} | {1}; the seq counter is kept */
const char rd_lua_transcript_clear[] = LUA_COMMON LUA_SESSIONS
    "if redis.call('EXISTS', skey(ARGV[2])) == 0 then return {1} end\n"
    "sclear(ARGV[2], ARGV[3])\n"
    "return {0}\n";
