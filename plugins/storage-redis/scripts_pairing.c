/* scripts_pairing.c - storage-redis: the Lua scripts of the pairing,
 * allow-list and lease ops (arguments as ops_pairing.c and ops_shared.c
 * write them, after the key prefix). */
#include "lua.h"
#include "scripts.h"

/* channel, account, sender, code, meta?, expires, now, max ->
 * {0, created, request} | {3} over max_pending | {2} code taken. In the
 * order storage.h gives: sweep the expired, repeat, limit, collision,
 * insert. */
const char rd_lua_pairing_request[] = LUA_COMMON LUA_PAIRING
    "local c, a, s, code, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[8]\n"
    "for _, rid in ipairs(redis.call('ZRANGEBYSCORE', P .. 'pair:exp', '-inf', now)) do\n"
    "  pdel(rid)\n"
    "end\n"
    "local rid = redis.call('HGET', P .. 'pair:sender', penc(c, a, s))\n"
    "if rid then\n"
    "  redis.call('HSET', P .. 'p:' .. rid, 'ls', now)\n"
    "  return {0, 0, pget(rid)}\n"
    "end\n"
    "local ca = P .. 'pair:ca:' .. enc2(c, a)\n"
    "if redis.call('SCARD', ca) >= tonumber(ARGV[9]) then return {3} end\n"
    "local ck, up = P .. 'pair:code:' .. c, string.upper(code)\n"
    "if redis.call('HEXISTS', ck, up) == 1 then return {2} end\n"
    "rid = string.format('%016d', redis.call('INCR', P .. 'pair:next'))\n"
    "local pk = P .. 'p:' .. rid\n"
    "redis.call('HSET', pk, 'c', c, 'a', a, 's', s, 'code', code, 'cr', now, 'ls', now,\n"
    "  'ex', ARGV[7])\n"
    "local m = opt(ARGV[6])\n"
    "if m then redis.call('HSET', pk, 'm', m) end\n"
    "redis.call('HSET', P .. 'pair:sender', penc(c, a, s), rid)\n"
    "redis.call('SADD', ca, rid)\n"
    "redis.call('HSET', ck, up, rid)\n"
    "redis.call('ZADD', P .. 'pair:exp', ARGV[7], rid)\n"
    "redis.call('ZADD', P .. 'pair:created', now, rid)\n"
    "redis.call('ZADD', P .. 'pair:ch:' .. c, now, rid)\n"
    "return {0, 1, pget(rid)}\n";

/* channel?, now -> {0, request...} unexpired, oldest first */
const char rd_lua_pairing_list[] = LUA_COMMON LUA_PAIRING
    "local c, now = opt(ARGV[2]), tonumber(ARGV[3])\n"
    "local idx = P .. 'pair:created'\n"
    "if c then idx = P .. 'pair:ch:' .. c end\n"
    "local out = {0}\n"
    "for _, rid in ipairs(redis.call('ZRANGE', idx, 0, -1)) do\n"
    "  local f = pget(rid)\n"
    "  if f and tonumber(f[8]) > now then out[#out + 1] = f end\n"
    "end\n"
    "return out\n";

/* channel, code, now -> {0, 0, request} | {1}: the request goes, its
 * sender joins the allow list of (channel, account). */
const char rd_lua_pairing_approve[] = LUA_COMMON LUA_PAIRING
    "local rid = redis.call('HGET', P .. 'pair:code:' .. ARGV[2], string.upper(ARGV[3]))\n"
    "if not rid then return {1} end\n"
    "local f = pget(rid)\n"
    "if not f or tonumber(f[8]) <= tonumber(ARGV[4]) then return {1} end\n"
    "pdel(rid)\n"
    "redis.call('SADD', P .. 'allow:' .. enc2(f[1], f[2]), f[3])\n"
    "return {0, 0, f}\n";

/* channel, account, sender -> {0} */
const char rd_lua_allow_add[] = LUA_COMMON LUA_PAIRING
    "redis.call('SADD', P .. 'allow:' .. enc2(ARGV[2], ARGV[3]), ARGV[4])\n"
    "return {0}\n";

/* channel, account, sender -> {0} | {1} */
const char rd_lua_allow_check[] = LUA_COMMON LUA_PAIRING
    "if redis.call('SISMEMBER', P .. 'allow:' .. enc2(ARGV[2], ARGV[3]), ARGV[4]) == 1 then\n"
    "  return {0}\n"
    "end\n"
    "return {1}\n";

/* name, holder, ttl -> {0, holder, token, ttl} | {4, holder, token, left}.
 * lease:<name> is a hash {h holder, t token} with a PX expiry, so an
 * expired lease is simply gone; the tokens live in the hash leasetok,
 * which never expires, so a token only grows. */
const char rd_lua_lease_acquire[] = LUA_COMMON
    "local lk = P .. 'lease:' .. ARGV[2]\n"
    "local h = redis.call('HGET', lk, 'h')\n"
    "if h and h ~= ARGV[3] then\n"
    "  return {4, h, redis.call('HGET', lk, 't'), redis.call('PTTL', lk)}\n"
    "end\n"
    "local t\n"
    "if h then\n"
    "  t = redis.call('HGET', lk, 't')\n"
    "else\n"
    "  t = fmt(redis.call('HINCRBY', P .. 'leasetok', ARGV[2], 1))\n"
    "  redis.call('HSET', lk, 'h', ARGV[3], 't', t)\n"
    "end\n"
    "redis.call('PEXPIRE', lk, ARGV[4])\n"
    "return {0, ARGV[3], t, tonumber(ARGV[4])}\n";

/* name, holder -> {0} | {1} when not held by holder (expired, taken over,
 * never held) */
const char rd_lua_lease_release[] = LUA_COMMON
    "local lk = P .. 'lease:' .. ARGV[2]\n"
    "if redis.call('HGET', lk, 'h') ~= ARGV[3] then return {1} end\n"
    "redis.call('DEL', lk)\n"
    "return {0}\n";
