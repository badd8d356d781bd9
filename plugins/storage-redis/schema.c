/* schema.c - storage-redis: the key layout version and its migrations.
 *
 * <prefix>version holds the version of the layout under the prefix. Every
 * connection runs this script (EVAL, atomic) before any op: a new prefix
 * gets the latest version; an older one is migrated step by step, in the
 * same script as the version update, so a layout is either fully migrated
 * or untouched; a newer one is refused, never modified. Keys under the
 * prefix without a version key are refused too (another application's,
 * or a damaged store).
 *
 *   v1  sessions, transcripts, inbox, outbox, pairing, allow lists
 *   v2  sa:<agent>: a per-agent session index for session_list's filter
 *
 * To change the layout: append a step (steps[N]) and raise
 * RD_LAYOUT_LATEST; never edit a step that shipped.
 *
 * ARGV: prefix, latest. Reply: {from, latest} with from 0 for a new
 * prefix; {-1, 0} keys without a version; {-2, text} an unreadable version;
 * {-3, version} a newer layout. */
#include "rd.h"

const char rd_layout_script[] =
    "local P, latest = ARGV[1], tonumber(ARGV[2])\n"
    "local steps = {\n"
    "  [2] = function()\n"
    "    local ks = redis.call('ZRANGE', P .. 'sessions', 0, -1, 'WITHSCORES')\n"
    "    for i = 1, #ks, 2 do\n"
    "      local a = redis.call('HGET', P .. 's:' .. ks[i], 'a')\n"
    "      if a then redis.call('ZADD', P .. 'sa:' .. a, ks[i + 1], ks[i]) end\n"
    "    end\n"
    "  end,\n"
    "}\n"
    "local v = redis.call('GET', P .. 'version')\n"
    "if not v then\n"
    "  if redis.call('EXISTS', P .. 'sessions', P .. 'inbox:next', P .. 'outbox:next',\n"
    "      P .. 'pair:next') > 0 then\n"
    "    return {-1, 0}\n"
    "  end\n"
    "  redis.call('SET', P .. 'version', ARGV[2])\n"
    "  return {0, latest}\n"
    "end\n"
    "local have = tonumber(v)\n"
    "if not have or have < 1 or have % 1 ~= 0 then return {-2, v} end\n"
    "if have > latest then return {-3, have} end\n"
    "for to = have + 1, latest do steps[to]() end\n"
    "if have < latest then redis.call('SET', P .. 'version', ARGV[2]) end\n"
    "return {have, latest}\n";
