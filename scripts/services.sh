#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1 (5432, 6379), as the tests and `npm start` expect.
#   services.sh ensure   start them if they are installed but not running (needs root for PostgreSQL)
#   services.sh install  also install them from Debian's packages first when absent (CI, fresh machines)
#   services.sh packages only install the packages that are absent (as root), start nothing; `npm start`
#                        uses it before running its own servers (scripts/stores.mjs)
# Never stops or restarts a server that is already running: the servers are shared by the machine.
set -u
mode=${1:-ensure}
say() { echo "[services] $*"; }

pg_ok() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; }
redis_ok() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

if [ "$mode" = install ] || [ "$mode" = packages ]; then
  missing=()
  command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql postgresql-client)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null || { say "apt-get install failed"; exit 1; }
  fi
  [ "$mode" = packages ] && { say "PostgreSQL and Redis are installed"; exit 0; }
fi

if ! pg_ok; then
  if command -v pg_lsclusters >/dev/null 2>&1; then
    ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$ver" ]; then
      ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
      say "creating PostgreSQL $ver cluster"
      pg_createcluster "$ver" main >/dev/null
    fi
    conf=/etc/postgresql/$ver/main
    # Tests connect as postgres over TCP without a password: trust loopback, as this machine kind
    # does. Only in `install` mode (CI, a fresh machine): a developer's pg_hba.conf is never touched.
    if [ "$mode" = install ] && ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$conf/pg_hba.conf" 2>/dev/null; then
      say "allowing trust authentication on 127.0.0.1 in $conf/pg_hba.conf"
      sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$conf/pg_hba.conf"
      pg_ctlcluster --skip-systemctl-redirect "$ver" main reload >/dev/null 2>&1 || true
    fi
    say "starting PostgreSQL $ver"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start >/dev/null 2>&1 || true
    for _ in $(seq 1 60); do pg_ok && break; sleep 0.5; done
  fi
fi
pg_ok && say "PostgreSQL answers on 127.0.0.1:5432" || { say "PostgreSQL is not reachable on 127.0.0.1:5432 (install: apt-get install postgresql)"; exit 1; }

if ! redis_ok; then
  if command -v redis-server >/dev/null 2>&1; then
    say "starting redis-server on 127.0.0.1:6379"
    mkdir -p /tmp/switchboard-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /tmp/switchboard-redis \
      --logfile /tmp/switchboard-redis/redis.log >/dev/null
    for _ in $(seq 1 40); do redis_ok && break; sleep 0.25; done
  fi
fi
redis_ok && say "Redis answers on 127.0.0.1:6379" || { say "Redis is not reachable on 127.0.0.1:6379 (install: apt-get install redis-server)"; exit 1; }
