# shellcheck shell=bash
# store_lib.sh - helpers for the tests that run gateways on a networked store
# (shared_store.sh, storage_faults.sh). Source after lib.sh.
#
#   store_url BACKEND           a fresh, empty store on the shared test servers
#                               (scripts/ci-services): a new PostgreSQL database,
#                               or a Redis db index of our own, flushed
#   private_store_start BACKEND a throwaway server of our own (so a test may
#                               stop it): sets STORE_URL; durable (Redis with
#                               appendfsync always)
#   private_store_stop / private_store_resume
#   lb_start PORT UPSTREAM...   nginx round-robin in front of gateways: LB_PORT
#   storage_plugin BACKEND      the plugin's name

storage_plugin() {
  case "$1" in
    postgres) echo storage-postgres ;;
    redis) echo storage-redis ;;
    *) fail "unknown backend $1" ;;
  esac
}

store_url() {
  case "$1" in
    postgres)
      [[ -n "${OPENCLAW_TEST_PG_URL:-}" ]] ||
        fail "OPENCLAW_TEST_PG_URL is not set: eval \"\$(scripts/ci-services env)\" first"
      local db="oc_it_$$_$RANDOM"
      psql -q "$OPENCLAW_TEST_PG_URL" -c "CREATE DATABASE $db" >/dev/null ||
        fail "cannot create database $db on $OPENCLAW_TEST_PG_URL"
      CLEANUP_DBS+=("$db")
      echo "${OPENCLAW_TEST_PG_URL%/*}/$db"
      ;;
    redis)
      [[ -n "${OPENCLAW_TEST_REDIS_URL:-}" ]] ||
        fail "OPENCLAW_TEST_REDIS_URL is not set: eval \"\$(scripts/ci-services env)\" first"
      # db 9..15 are the integration tests' own (conformance uses db 0).
      local base=${OPENCLAW_TEST_REDIS_URL%/*} idx=${REDIS_DB_INDEX:-9}
      redis-cli -u "$base/$idx" flushdb >/dev/null || fail "cannot flush $base/$idx"
      echo "$base/$idx"
      ;;
  esac
}

CLEANUP_DBS=()
_drop_dbs() {
  local db
  for db in "${CLEANUP_DBS[@]}"; do
    psql -q "$OPENCLAW_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
      >/dev/null 2>&1 || true
  done
}

_as_pg() {
  if [[ "$(id -u)" -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Sets STORE_URL (read by the caller).
# shellcheck disable=SC2034
private_store_start() {
  PRIVATE_BACKEND=$1
  PRIVATE_DIR=$TEST_TMP/store
  PRIVATE_PORT=$(free_port)
  mkdir -p "$PRIVATE_DIR"
  case "$1" in
    postgres)
      local d
      for d in /usr/lib/postgresql/*/bin; do PG_BIN=$d; done # the newest sorts last
      chmod 755 "$TEST_TMP" "$PRIVATE_DIR"
      [[ "$(id -u)" -ne 0 ]] || chown postgres: "$PRIVATE_DIR"
      _as_pg "$PG_BIN/initdb" -D "$PRIVATE_DIR/data" -A trust -U postgres --no-locale \
        >"$PRIVATE_DIR/initdb.log" 2>&1 || fail "initdb failed: $(tail -3 "$PRIVATE_DIR/initdb.log")"
      private_store_resume
      "$PG_BIN/createdb" -h 127.0.0.1 -p "$PRIVATE_PORT" -U postgres gwtest ||
        fail "createdb failed"
      STORE_URL="postgresql://postgres@127.0.0.1:$PRIVATE_PORT/gwtest"
      ;;
    redis)
      private_store_resume
      STORE_URL="redis://127.0.0.1:$PRIVATE_PORT/0"
      ;;
  esac
}

# The server goes away cleanly (what it acknowledged is on disk).
private_store_stop() {
  case "$PRIVATE_BACKEND" in
    postgres)
      _as_pg "$PG_BIN/pg_ctl" -D "$PRIVATE_DIR/data" -m fast -w -t 30 stop >/dev/null ||
        fail "pg_ctl stop failed"
      ;;
    redis)
      redis-cli -p "$PRIVATE_PORT" shutdown >/dev/null 2>&1 || true
      wait_pid_gone "$(cat "$PRIVATE_DIR/redis.pid" 2>/dev/null || echo 0)" ||
        fail "redis did not stop"
      ;;
  esac
}

_redis_up() { [[ "$(redis-cli -p "$PRIVATE_PORT" ping 2>/dev/null)" == PONG ]]; }

private_store_resume() {
  case "$PRIVATE_BACKEND" in
    postgres)
      _as_pg "$PG_BIN/pg_ctl" -D "$PRIVATE_DIR/data" -l "$PRIVATE_DIR/log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $PRIVATE_PORT -k $PRIVATE_DIR" start >/dev/null ||
        fail "postgresql did not start: $(tail -5 "$PRIVATE_DIR/log")"
      ;;
    redis)
      redis-server --port "$PRIVATE_PORT" --bind 127.0.0.1 --save '' --appendonly yes \
        --appendfsync always --daemonize yes --dir "$PRIVATE_DIR" \
        --pidfile "$PRIVATE_DIR/redis.pid" --logfile "$PRIVATE_DIR/log" ||
        fail "redis-server did not start"
      wait_until 5000 _redis_up || fail "redis did not answer PING"
      ;;
  esac
}

_stop_private() {
  [[ -n "${PRIVATE_BACKEND:-}" ]] || return 0
  case "$PRIVATE_BACKEND" in
    postgres) _as_pg "$PG_BIN/pg_ctl" -D "$PRIVATE_DIR/data" -m immediate stop \
      >/dev/null 2>&1 || true ;;
    redis) redis-cli -p "$PRIVATE_PORT" shutdown nosave >/dev/null 2>&1 || true ;;
  esac
}

lb_start() {
  LB_PORT=$1
  shift
  local conf=$TEST_TMP/nginx.conf servers="" u
  mkdir -p "$TEST_TMP/nginx"
  for u in "$@"; do servers+="    server $u max_fails=0;"$'\n'; done
  cat >"$conf" <<NGINX
worker_processes 1;
error_log $TEST_TMP/nginx/error.log warn;
pid $TEST_TMP/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TEST_TMP/nginx;
  proxy_temp_path $TEST_TMP/nginx;
  upstream gateways {
$servers    keepalive 32;
  }
  server {
    listen 127.0.0.1:$LB_PORT;
    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_connect_timeout 1s;
    }
  }
}
NGINX
  nginx -c "$conf" -p "$TEST_TMP/nginx" -g 'daemon off;' 2>"$TEST_TMP/nginx/stderr" &
  track_pid $!
  # shellcheck disable=SC2317 # called through wait_until
  _lb_up() { curl -s -o /dev/null "http://127.0.0.1:$LB_PORT/health"; }
  wait_until 5000 _lb_up || fail "nginx did not start: $(cat "$TEST_TMP/nginx/stderr")"
}

CLEANUP_HOOKS+=(_drop_dbs _stop_private)
