/* scripts_messaging.c - storage-redis: the Lua scripts of the inbox, outbox,
 * commit and prune ops (arguments as ops_messaging.c and ops_shared.c
 * write them, after the key prefix). */
#include "lua.h"
#include "scripts.h"

/* channel, account, message_id, envelope, received, session? ->
 * {0, id, duplicate} */
const char rd_lua_inbox_put[] = LUA_COMMON LUA_INBOX
    "local c, a, m = ARGV[2], ARGV[3], ARGV[4]\n"
    "local d = dkey(c, a, m)\n"
    "local id = redis.call('HGET', P .. 'inbox:ids', d)\n"
    "if id then return {0, id, 1} end\n"
    "id = fmt(redis.call('INCR', P .. 'inbox:next'))\n"
    "local ik = P .. 'i:' .. id\n"
    "redis.call('HSET', ik, 'c', c, 'a', a, 'm', m, 'e', ARGV[5], 'r', ARGV[6], 's', '1')\n"
    "local sess = opt(ARGV[7])\n"
    "if sess then\n"
    "  redis.call('HSET', ik, 'k', sess)\n"
    "  redis.call('ZADD', P .. 'inbox:sp:' .. sess, id, id)\n"
    "end\n"
    "redis.call('HSET', P .. 'inbox:ids', d, id)\n"
    "redis.call('ZADD', P .. 'inbox:pending', id, id)\n"
    "return {0, id, 0}\n";

/* after_id, limit -> {0, item...} */
const char rd_lua_inbox_pending[] = LUA_COMMON LUA_INBOX
    "return ilist(P .. 'inbox:pending', ARGV[2], ARGV[3])\n";

/* session_key, after_id, limit -> {0, item...} */
const char rd_lua_inbox_session_pending[] = LUA_COMMON LUA_INBOX
    "return ilist(P .. 'inbox:sp:' .. ARGV[2], ARGV[3], ARGV[4])\n";

/* See fill_commit (ops_messaging.c) for the arguments. {0} | {1} when the
 * transcript's session does not exist | {2} when pending_only and an inbox
 * id is not pending. Both checks come before any write. */
const char rd_lua_commit[] = LUA_COMMON LUA_SESSIONS LUA_INBOX LUA_OUTBOX
    "local pend, clear, now, target = ARGV[2] == '1', ARGV[3] == '1', ARGV[4], opt(ARGV[5])\n"
    "local has = ARGV[6] == '1'\n"
    "local nt = tonumber(ARGV[13])\n"
    "local bi = 14 + 4 * nt\n"
    "local ni = tonumber(ARGV[bi])\n"
    "local bo = bi + 1 + ni\n"
    "local no = tonumber(ARGV[bo])\n"
    "if target and (clear or nt > 0) and not (has and ARGV[7] == target) and\n"
    "   redis.call('EXISTS', skey(target)) == 0 then return {1} end\n"
    "if pend then\n"
    "  for i = 1, ni do\n"
    "    if not redis.call('ZSCORE', P .. 'inbox:pending', ARGV[bi + i]) then return {2} end\n"
    "  end\n"
    "end\n"
    "if has then sput(ARGV[7], ARGV[8], opt(ARGV[9]), opt(ARGV[10]), ARGV[11], ARGV[12]) end\n"
    "if clear then sclear(target, now) end\n"
    "if nt > 0 then sappend(target, now, 14, nt) end\n"
    "for i = 1, ni do idone(ARGV[bi + i]) end\n"
    "for i = 0, no - 1 do oput(bo + 1 + 11 * i) end\n"
    "return {0}\n";

/* after_id, limit -> {0, item...} */
const char rd_lua_outbox_pending[] = LUA_COMMON LUA_OUTBOX
    "local ids = redis.call('ZRANGEBYSCORE', P .. 'outbox:pending', '(' .. ARGV[2], '+inf',\n"
    "  'LIMIT', 0, ARGV[3])\n"
    "local out = {0}\n"
    "for _, id in ipairs(ids) do\n"
    "  local it = oget(id)\n"
    "  if it then out[#out + 1] = it end\n"
    "end\n"
    "return out\n";

/* id, state, attempts, next_attempt_ms, last_error? -> {0} | {1}; the
 * claim goes */
const char rd_lua_outbox_update[] = LUA_COMMON
    "local id = ARGV[2]\n"
    "local ok = P .. 'o:' .. id\n"
    "local cr = redis.call('HGET', ok, 'cr')\n"
    "if not cr then return {1} end\n"
    "redis.call('HSET', ok, 's', ARGV[3], 'n', ARGV[4], 'na', ARGV[5])\n"
    "local e = opt(ARGV[6])\n"
    "if e then redis.call('HSET', ok, 'e', e) else redis.call('HDEL', ok, 'e') end\n"
    "if ARGV[3] == '1' then\n"
    "  redis.call('ZADD', P .. 'outbox:pending', id, id)\n"
    "  redis.call('ZREM', P .. 'outbox:settled', id)\n"
    "else\n"
    "  redis.call('ZREM', P .. 'outbox:pending', id)\n"
    "  redis.call('ZADD', P .. 'outbox:settled', cr, id)\n"
    "end\n"
    "redis.call('DEL', P .. 'claim:' .. id)\n"
    "return {0}\n";

/* id, holder, ttl_ms -> {0, item} | {1} | {2, item} not pending | {4}
 * claimed by another holder. The claim is a key with a PX expiry: the
 * server's clock decides when it lapses. */
const char rd_lua_outbox_claim[] = LUA_COMMON LUA_OUTBOX
    "local id = ARGV[2]\n"
    "local it = oget(id)\n"
    "if not it then return {1} end\n"
    "if it[13] ~= '1' then return {2, it} end\n"
    "local ck = P .. 'claim:' .. id\n"
    "local h = redis.call('GET', ck)\n"
    "if h and h ~= ARGV[3] then return {4} end\n"
    "redis.call('SET', ck, ARGV[3], 'PX', ARGV[4])\n"
    "return {0, it}\n";

/* before_ms, batch -> {0, more}: deletes up to `batch` done inbox items
 * received before before_ms and as many sent or failed outbox items
 * created before it; more = 1 when a batch was full (run it again). */
const char rd_lua_prune[] = LUA_COMMON LUA_INBOX
    "local before, n = '(' .. ARGV[2], tonumber(ARGV[3])\n"
    "local ids = redis.call('ZRANGEBYSCORE', P .. 'inbox:done', '-inf', before, 'LIMIT', 0, n)\n"
    "for _, id in ipairs(ids) do\n"
    "  local ik = P .. 'i:' .. id\n"
    "  local f = redis.call('HMGET', ik, 'c', 'a', 'm', 's')\n"
    "  if f[4] == '2' then\n"
    "    local d = dkey(f[1], f[2], f[3])\n"
    "    if redis.call('HGET', P .. 'inbox:ids', d) == id then\n"
    "      redis.call('HDEL', P .. 'inbox:ids', d)\n"
    "    end\n"
    "    redis.call('DEL', ik)\n"
    "  end\n"
    "  redis.call('ZREM', P .. 'inbox:done', id)\n"
    "end\n"
    "local oids = redis.call('ZRANGEBYSCORE', P .. 'outbox:settled', '-inf', before,\n"
    "  'LIMIT', 0, n)\n"
    "for _, id in ipairs(oids) do\n"
    "  local ok = P .. 'o:' .. id\n"
    "  local f = redis.call('HMGET', ok, 'key', 's')\n"
    "  if f[2] and f[2] ~= '1' then\n"
    "    if redis.call('HGET', P .. 'outbox:keys', f[1]) == id then\n"
    "      redis.call('HDEL', P .. 'outbox:keys', f[1])\n"
    "    end\n"
    "    redis.call('DEL', ok, P .. 'claim:' .. id)\n"
    "  end\n"
    "  redis.call('ZREM', P .. 'outbox:settled', id)\n"
    "end\n"
    "local more = 0\n"
    "if #ids == n or #oids == n then more = 1 end\n"
    "return {0, more}\n";
