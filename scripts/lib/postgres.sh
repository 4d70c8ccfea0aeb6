# Finds a PostgreSQL server for the tests, the demo and CI, or starts a throwaway one. Sourced, not run.
#
#   1. DATABASE_URL, when set;
#   2. else a server on 127.0.0.1:5432 (user postgres, trust auth), as on the project's machines;
#   3. else a throwaway cluster from the system's PostgreSQL binaries (initdb, pg_ctl) in a temporary folder,
#      run as a non-root user and removed on exit;
#   4. else stop with a message saying how to get one.
# Exports DATABASE_URL. CC_SKIP_LOCAL_PG=1 skips step 2 (to exercise step 3).

cc_pg_note() { printf 'postgres: %s\n' "$*" >&2; }

cc_port_open() { # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

cc_find_pg_bin() { # name
  local found
  found=$(command -v "$1" 2>/dev/null) && { echo "$found"; return 0; }
  found=$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1)
  [ -n "$found" ] && { echo "$found"; return 0; }
  return 1
}

cc_start_throwaway_pg() {
  local initdb pg_ctl dir port runas=()
  initdb=$(cc_find_pg_bin initdb) || return 1
  pg_ctl=$(cc_find_pg_bin pg_ctl) || return 1
  dir=$(mktemp -d "${TMPDIR:-/tmp}/career-circle-pg.XXXXXX")
  if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root: hand the folder to the postgres user (or nobody) and run as it.
    local user=postgres
    id "$user" >/dev/null 2>&1 || user=nobody
    chown -R "$user" "$dir"
    chmod 700 "$dir"
    if command -v runuser >/dev/null 2>&1; then runas=(runuser -u "$user" --); else runas=(su "$user" -s /bin/sh -c); fi
  fi
  for port in $(seq 55432 55532); do cc_port_open 127.0.0.1 "$port" || break; done
  cc_pg_note "starting a throwaway cluster in $dir on port $port"
  if [ ${#runas[@]} -gt 0 ] && [ "${runas[0]}" = su ]; then
    su "${runas[1]}" -s /bin/sh -c "'$initdb' -D '$dir/data' -A trust -U postgres >'$dir/initdb.log' 2>&1" || { cat "$dir/initdb.log" >&2; return 1; }
    su "${runas[1]}" -s /bin/sh -c "'$pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -h 127.0.0.1 -k '$dir' -c max_connections=300 -c fsync=off\" start" >/dev/null || { cat "$dir/server.log" >&2; return 1; }
  else
    "${runas[@]}" "$initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
    "${runas[@]}" "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -h 127.0.0.1 -k $dir -c max_connections=300 -c fsync=off" start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
  fi
  CC_PG_DIR=$dir
  CC_PG_STOP=("${runas[@]}" "$pg_ctl" -D "$dir/data" -m fast -w stop)
  trap cc_stop_throwaway_pg EXIT
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

cc_stop_throwaway_pg() {
  [ -n "${CC_PG_DIR:-}" ] || return 0
  if [ "${CC_PG_STOP[0]:-}" = su ]; then
    su "${CC_PG_STOP[1]}" -s /bin/sh -c "'${CC_PG_STOP[2]}' -D '$CC_PG_DIR/data' -m fast -w stop" >/dev/null 2>&1 || true
  else
    "${CC_PG_STOP[@]}" >/dev/null 2>&1 || true
  fi
  rm -rf "$CC_PG_DIR"
  CC_PG_DIR=
}

cc_find_or_start_pg() {
  if [ -n "${DATABASE_URL:-}" ]; then
    cc_pg_note "using DATABASE_URL"
    return 0
  fi
  if [ "${CC_SKIP_LOCAL_PG:-}" != 1 ] && cc_port_open 127.0.0.1 5432; then
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
    cc_pg_note "using the server on 127.0.0.1:5432"
    return 0
  fi
  if cc_start_throwaway_pg; then
    return 0
  fi
  cat >&2 <<'MSG'
No PostgreSQL found: DATABASE_URL is not set, nothing listens on 127.0.0.1:5432, and no initdb/pg_ctl binaries
were found to start a throwaway one. Either
  - install PostgreSQL (Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql@16), or
  - run one in Docker: docker compose up -d db, or
  - point DATABASE_URL at a server you can create databases on: DATABASE_URL=postgres://user:pass@host:5432/postgres
MSG
  return 1
}
