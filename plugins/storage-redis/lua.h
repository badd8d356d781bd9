/* lua.h - storage-redis: Lua fragments the scripts share (scripts_*.c).
 *
 * Every script gets the key prefix as ARGV[1] and builds its key names from
 * it (README.md, "Key layout"), so one script runs any number of keys
 * atomically. Scripts check everything they may refuse BEFORE their first
 * write: Redis does not roll a script back when it stops half-way.
 *
 * Conventions: an optional string argument is "-" (NULL) or "=" followed by
 * the value (opt()); NULL values come back as false, which Redis turns into
 * a nil element. Numbers are written with fmt() ('%d'), never with Lua's
 * default number format. */
#ifndef RD_LUA_H
#define RD_LUA_H

#define LUA_COMMON                                                                                 \
    "local P = ARGV[1]\n"                                                                          \
    "local function opt(v) if v == '-' then return false end return string.sub(v, 2) end\n"        \
    "local function fmt(n) return string.format('%d', n) end\n"

/* Sessions: hash s:<key> {a agent, c channel, m meta, cr created, up
 * updated, n turn count, q next seq}; list t:<key> of turns; sorted sets
 * `sessions` and sa:<agent> (score updated_ms, member key). A stored turn
 * is "seq,role,created,<len>,<meta arg><content>". */
#define LUA_SESSIONS                                                                               \
    "local function skey(k) return P .. 's:' .. k end\n"                                           \
    "local function stouch(k, sk, now)\n"                                                          \
    "  redis.call('HSET', sk, 'up', now)\n"                                                        \
    "  redis.call('ZADD', P .. 'sessions', now, k)\n"                                              \
    "  redis.call('ZADD', P .. 'sa:' .. redis.call('HGET', sk, 'a'), now, k)\n"                    \
    "end\n"                                                                                        \
    "local function sput(k, agent, chan, meta, cr, up)\n"                                          \
    "  local sk = skey(k)\n"                                                                       \
    "  local old = redis.call('HGET', sk, 'a')\n"                                                  \
    "  if old then\n"                                                                              \
    "    if old ~= agent then redis.call('ZREM', P .. 'sa:' .. old, k) end\n"                      \
    "    redis.call('HSET', sk, 'a', agent, 'up', up)\n"                                           \
    "  else\n"                                                                                     \
    "    redis.call('HSET', sk, 'a', agent, 'cr', cr, 'up', up, 'n', '0', 'q', '1')\n"             \
    "  end\n"                                                                                      \
    "  if chan then redis.call('HSET', sk, 'c', chan) else redis.call('HDEL', sk, 'c') end\n"      \
    "  if meta then redis.call('HSET', sk, 'm', meta) else redis.call('HDEL', sk, 'm') end\n"      \
    "  redis.call('ZADD', P .. 'sessions', up, k)\n"                                               \
    "  redis.call('ZADD', P .. 'sa:' .. agent, up, k)\n"                                           \
    "end\n"                                                                                        \
    "local function sappend(k, now, b, count)\n"                                                   \
    "  local sk = skey(k)\n"                                                                       \
    "  local tk = P .. 't:' .. k\n"                                                                \
    "  local q = tonumber(redis.call('HGET', sk, 'q'))\n"                                          \
    "  local batch = {}\n"                                                                         \
    "  for i = 0, count - 1 do\n"                                                                  \
    "    local j = b + 4 * i\n"                                                                    \
    "    local m = ARGV[j + 2]\n"                                                                  \
    "    batch[#batch + 1] = fmt(q + i) .. ',' .. ARGV[j] .. ',' .. ARGV[j + 1] .. ',' ..\n"       \
    "      fmt(#m) .. ',' .. m .. ARGV[j + 3]\n"                                                   \
    "    if #batch == 1000 then redis.call('RPUSH', tk, unpack(batch)); batch = {} end\n"          \
    "  end\n"                                                                                      \
    "  if #batch > 0 then redis.call('RPUSH', tk, unpack(batch)) end\n"                            \
    "  redis.call('HSET', sk, 'q', fmt(q + count))\n"                                              \
    "  redis.call('HINCRBY', sk, 'n', count)\n"                                                    \
    "  stouch(k, sk, now)\n"                                                                       \
    "  return q + count - 1\n"                                                                     \
    "end\n"                                                                                        \
    "local function sclear(k, now)\n"                                                              \
    "  local sk = skey(k)\n"                                                                       \
    "  redis.call('DEL', P .. 't:' .. k)\n"                                                        \
    "  redis.call('HSET', sk, 'n', '0')\n"                                                         \
    "  stouch(k, sk, now)\n"                                                                       \
    "end\n"                                                                                        \
    "local function sget(k)\n"                                                                     \
    "  local f = redis.call('HMGET', skey(k), 'a', 'c', 'm', 'cr', 'up', 'n')\n"                   \
    "  if not f[1] then return false end\n"                                                        \
    "  return {k, f[1], f[2], f[3], f[4], f[5], f[6]}\n"                                           \
    "end\n"

/* Inbox: hash i:<id> {c a m e r s k}, state s 1 pending / 2 done; sorted
 * sets inbox:pending and inbox:sp:<session> (score = member = id),
 * inbox:done (score received_ms); hash inbox:ids (dedupe key -> id);
 * counter inbox:next. The dedupe key length-prefixes channel and account
 * so ("a", "b:c") and ("a:b", "c") differ. */
#define LUA_INBOX                                                                                  \
    "local function dkey(c, a, m) return fmt(#c) .. ':' .. c .. fmt(#a) .. ':' .. a .. m end\n"    \
    "local function iget(id)\n"                                                                    \
    "  local f = redis.call('HMGET', P .. 'i:' .. id, 'c', 'a', 'm', 'e', 'r', 's', 'k')\n"        \
    "  if not f[1] then return false end\n"                                                        \
    "  return {id, f[1], f[2], f[3], f[4], f[5], f[6], f[7]}\n"                                    \
    "end\n"                                                                                        \
    "local function ilist(zk, after, limit)\n"                                                     \
    "  local ids = redis.call('ZRANGEBYSCORE', zk, '(' .. after, '+inf', 'LIMIT', 0, limit)\n"     \
    "  local out = {0}\n"                                                                          \
    "  for _, id in ipairs(ids) do\n"                                                              \
    "    local it = iget(id)\n"                                                                    \
    "    if it then out[#out + 1] = it end\n"                                                      \
    "  end\n"                                                                                      \
    "  return out\n"                                                                               \
    "end\n"                                                                                        \
    "local function idone(id)\n"                                                                   \
    "  local ik = P .. 'i:' .. id\n"                                                               \
    "  local f = redis.call('HMGET', ik, 's', 'r', 'k')\n"                                         \
    "  if f[1] ~= '1' then return end\n"                                                           \
    "  redis.call('HSET', ik, 's', '2')\n"                                                         \
    "  redis.call('ZREM', P .. 'inbox:pending', id)\n"                                             \
    "  if f[3] then redis.call('ZREM', P .. 'inbox:sp:' .. f[3], id) end\n"                        \
    "  redis.call('ZADD', P .. 'inbox:done', f[2], id)\n"                                          \
    "end\n"

/* Outbox: hash o:<id> {key c a pk p t r e n(attempts) cr na s}; sorted sets
 * outbox:pending (score = member = id) and outbox:settled (score
 * created_ms); hash outbox:keys (idempotency key -> id); claim:<id> (the
 * holder, expiring); counter outbox:next. */
#define LUA_OUTBOX                                                                                 \
    "local function oget(id)\n"                                                                    \
    "  local f = redis.call('HMGET', P .. 'o:' .. id, 'key', 'c', 'a', 'pk', 'n', 'p', 't',\n"     \
    "    'r', 'e', 'cr', 'na', 's')\n"                                                             \
    "  if not f[1] then return false end\n"                                                        \
    "  return {id, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], "           \
    "f[12]}\n"                                                                                     \
    "end\n"                                                                                        \
    "local function oput(j)\n"                                                                     \
    "  local key = ARGV[j]\n"                                                                      \
    "  if redis.call('HEXISTS', P .. 'outbox:keys', key) == 1 then return end\n"                   \
    "  local id = fmt(redis.call('INCR', P .. 'outbox:next'))\n"                                   \
    "  local ok = P .. 'o:' .. id\n"                                                               \
    "  redis.call('HSET', ok, 'key', key, 'c', ARGV[j + 1], 'a', ARGV[j + 2],\n"                   \
    "    'pk', ARGV[j + 3],\n"                                                                     \
    "    'p', ARGV[j + 4], 't', ARGV[j + 5], 's', '1', 'n', ARGV[j + 8], 'cr', ARGV[j + 9],\n"     \
    "    'na', ARGV[j + 10])\n"                                                                    \
    "  local r, e = opt(ARGV[j + 6]), opt(ARGV[j + 7])\n"                                          \
    "  if r then redis.call('HSET', ok, 'r', r) end\n"                                             \
    "  if e then redis.call('HSET', ok, 'e', e) end\n"                                             \
    "  redis.call('HSET', P .. 'outbox:keys', key, id)\n"                                          \
    "  redis.call('ZADD', P .. 'outbox:pending', id, id)\n"                                        \
    "end\n"

/* Pairing: hash p:<rid> {c a s code m cr ls ex} (rid: 16 zero-padded
 * digits, so equal scores sort in insertion order); sorted sets pair:exp
 * (score expires_ms), pair:created and pair:ch:<channel> (score
 * created_ms); hash pair:sender ((channel, account, sender) -> rid); set
 * pair:ca:<channel, account> of rids; hash pair:code:<channel> (upper-case
 * code -> rid); counter pair:next. Allow lists: set allow:<channel,
 * account> of sender ids. */
#define LUA_PAIRING                                                                                \
    "local function enc2(c, a) return fmt(#c) .. ':' .. c .. a end\n"                              \
    "local function penc(c, a, s) return fmt(#c) .. ':' .. c .. fmt(#a) .. ':' .. a .. s end\n"    \
    "local function pget(rid)\n"                                                                   \
    "  local f = redis.call('HMGET', P .. 'p:' .. rid, 'c', 'a', 's', 'code', 'm', 'cr',\n"        \
    "    'ls', 'ex')\n"                                                                            \
    "  if not f[1] then return false end\n"                                                        \
    "  return f\n"                                                                                 \
    "end\n"                                                                                        \
    "local function pdel(rid)\n"                                                                   \
    "  local f = pget(rid)\n"                                                                      \
    "  if f then\n"                                                                                \
    "    redis.call('HDEL', P .. 'pair:sender', penc(f[1], f[2], f[3]))\n"                         \
    "    redis.call('SREM', P .. 'pair:ca:' .. enc2(f[1], f[2]), rid)\n"                           \
    "    local ck, up = P .. 'pair:code:' .. f[1], string.upper(f[4])\n"                           \
    "    if redis.call('HGET', ck, up) == rid then redis.call('HDEL', ck, up) end\n"               \
    "    redis.call('ZREM', P .. 'pair:ch:' .. f[1], rid)\n"                                       \
    "    redis.call('DEL', P .. 'p:' .. rid)\n"                                                    \
    "  end\n"                                                                                      \
    "  redis.call('ZREM', P .. 'pair:exp', rid)\n"                                                 \
    "  redis.call('ZREM', P .. 'pair:created', rid)\n"                                             \
    "end\n"

#endif
