# Finds a PostgreSQL server for the tests, the demo and CI, or starts one. Sourced, not run.
#
#   cc_find_or_start_pg [test|run]
#
#   1. DATABASE_URL, when set;
#   2. else a server on 127.0.0.1:5432 (user postgres, trust auth), as on the project's machines;
#   3. else a throwaway cluster from the system's PostgreSQL binaries (initdb, pg_ctl: on PATH, or in
#      CC_PG_BIN_DIRS, by default Debian's and Homebrew's folders) in a temporary folder, run as a non-root user
#      and removed on exit;
#   4. else, when a Docker daemon answers, PostgreSQL in Docker (the official image, CC_PG_IMAGE, default
#      postgres:16) on a free port: with CC_PG_DOCKER=1, or when you say yes at the prompt. For `test` the
#      container is removed on exit; for `run` it is the container career-circle-pg with its data in the named
#      volume career-circle-pg-data, kept between runs (docker stop career-circle-pg stops it);
#   5. else stop with a message saying how to get one on this system.
# Exports DATABASE_URL. CC_SKIP_LOCAL_PG=1 skips step 2 (to exercise the others).

CC_PG_IMAGE=${CC_PG_IMAGE:-postgres:16}
CC_PG_RUN_CONTAINER=career-circle-pg
CC_PG_RUN_VOLUME=career-circle-pg-data

cc_pg_note() { printf 'postgres: %s\n' "$*" >&2; }

cc_port_open() { # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

cc_free_port() { # first port from 55432 on which nothing listens
  local port
  for port in $(seq 55432 55532); do
    cc_port_open 127.0.0.1 "$port" || { echo "$port"; return 0; }
  done
  return 1
}

cc_find_pg_bin() { # name
  local found dir matches=()
  found=$(command -v "$1" 2>/dev/null) && { echo "$found"; return 0; }
  # Each folder pattern, split on ":", then globbed.
  local IFS=:
  for dir in ${CC_PG_BIN_DIRS:-/usr/lib/postgresql/*/bin:/usr/pgsql-*/bin:/opt/homebrew/opt/postgresql*/bin:/usr/local/opt/postgresql*/bin}; do
    [ -x "$dir/$1" ] && matches+=("$dir/$1")
  done
  unset IFS
  [ ${#matches[@]} -gt 0 ] || return 1
  printf '%s\n' "${matches[@]}" | sort -V | tail -n 1
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
  port=$(cc_free_port) || { cc_pg_note "no free port in 55432-55532"; return 1; }
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
  CC_PG_CTL=$pg_ctl
  CC_PG_RUNAS=("${runas[@]}")
  trap cc_stop_throwaway_pg EXIT
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# Stops what cc_find_or_start_pg started for this run: the throwaway cluster, or the tests' Docker container.
cc_stop_throwaway_pg() {
  if [ -n "${CC_PG_CONTAINER:-}" ]; then
    docker stop "$CC_PG_CONTAINER" >/dev/null 2>&1 || true
    CC_PG_CONTAINER=
  fi
  [ -n "${CC_PG_DIR:-}" ] || return 0
  if [ "${CC_PG_RUNAS[0]:-}" = su ]; then
    su "${CC_PG_RUNAS[1]}" -s /bin/sh -c "'$CC_PG_CTL' -D '$CC_PG_DIR/data' -m fast -w stop" >/dev/null 2>&1 || true
  else
    "${CC_PG_RUNAS[@]}" "$CC_PG_CTL" -D "$CC_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$CC_PG_DIR"
  CC_PG_DIR=
}

cc_docker_answers() {
  command -v docker >/dev/null 2>&1 || return 1
  if command -v timeout >/dev/null 2>&1; then
    timeout 10 docker info >/dev/null 2>&1
  else
    docker info >/dev/null 2>&1
  fi
}

cc_wait_pg_in_docker() { # container
  local i
  # Over TCP inside the container: during its first start the image runs a socket-only server to initialise.
  for i in $(seq 1 90); do
    docker exec "$1" pg_isready -q -h 127.0.0.1 -U postgres >/dev/null 2>&1 && return 0
    sleep 1
  done
  cc_pg_note "PostgreSQL in container $1 did not become ready in 90 s; docker logs $1 says why"
  return 1
}

cc_start_docker_pg() { # test|run
  local port name
  if [ "$1" = run ]; then
    name=$CC_PG_RUN_CONTAINER
    if docker container inspect "$name" >/dev/null 2>&1; then
      cc_pg_note "starting the Docker container $name again (data in volume $CC_PG_RUN_VOLUME)"
      docker start "$name" >/dev/null || return 1
    else
      port=$(cc_free_port) || { cc_pg_note "no free port in 55432-55532"; return 1; }
      cc_pg_note "starting $CC_PG_IMAGE in Docker as $name on 127.0.0.1:$port (data in volume $CC_PG_RUN_VOLUME)"
      docker run -d --name "$name" --restart unless-stopped -e POSTGRES_HOST_AUTH_METHOD=trust \
        -v "$CC_PG_RUN_VOLUME:/var/lib/postgresql/data" -p "127.0.0.1:$port:5432" "$CC_PG_IMAGE" >/dev/null || return 1
    fi
    port=$(docker port "$name" 5432/tcp | head -n 1 | sed 's/.*://')
    [ -n "$port" ] || { cc_pg_note "cannot tell which port $name listens on"; return 1; }
    cc_wait_pg_in_docker "$name" || return 1
    cc_pg_note "it keeps running after this; stop it with: docker stop $name (the volume keeps the data)"
  else
    port=$(cc_free_port) || { cc_pg_note "no free port in 55432-55532"; return 1; }
    name="career-circle-test-pg-$$"
    cc_pg_note "starting $CC_PG_IMAGE in Docker as $name on 127.0.0.1:$port (removed on exit)"
    docker run -d --rm --name "$name" -e POSTGRES_HOST_AUTH_METHOD=trust \
      -p "127.0.0.1:$port:5432" "$CC_PG_IMAGE" -c max_connections=300 -c fsync=off >/dev/null || return 1
    CC_PG_CONTAINER=$name
    trap cc_stop_throwaway_pg EXIT
    cc_wait_pg_in_docker "$name" || return 1
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

cc_system_name() { # the system, as the instructions below name it
  case "$(uname -s 2>/dev/null)" in
    Darwin) echo macos; return ;;
  esac
  local id=""
  [ -r /etc/os-release ] && id=$(. /etc/os-release && echo "${ID:-} ${ID_LIKE:-}")
  case " $id " in
    *" debian "* | *" ubuntu "*) echo debian ;;
    *" fedora "* | *" rhel "* | *" centos "*) echo fedora ;;
    *) echo other ;;
  esac
}

cc_how_to_get_pg() { # docker_state: answers | none
  local system here
  system=$(cc_system_name)
  case "$system" in
    debian) here="Debian/Ubuntu" ;;
    fedora) here="Fedora" ;;
    macos) here="macOS" ;;
    *) here="" ;;
  esac
  {
    echo "No PostgreSQL found: DATABASE_URL is not set, nothing listens on 127.0.0.1:5432, and no initdb/pg_ctl"
    echo "binaries were found to start a throwaway one. Get one of these, then run this again:"
    echo
    [ -n "$here" ] && echo "  This looks like $here, so the first one is yours."
    local order
    case "$system" in
      fedora) order="fedora debian macos" ;;
      macos) order="macos debian fedora" ;;
      *) order="debian fedora macos" ;;
    esac
    for s in $order; do
      case "$s" in
        debian)
          echo "  Debian/Ubuntu:  sudo apt-get install postgresql"
          echo "                  sudo -u postgres psql -c \"ALTER USER postgres PASSWORD 'postgres'\""
          echo "                  export DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres"
          ;;
        fedora)
          echo "  Fedora:         sudo dnf install postgresql-server"
          echo "                  (nothing else: the scripts start a throwaway cluster from its initdb and pg_ctl)"
          ;;
        macos)
          echo "  macOS:          brew install postgresql@16"
          echo "                  (nothing else: the scripts find its initdb and pg_ctl and start a throwaway cluster)"
          ;;
      esac
    done
    echo "  Docker:         docker run -d --name career-circle-pg -e POSTGRES_HOST_AUTH_METHOD=trust \\"
    echo "                    -v career-circle-pg-data:/var/lib/postgresql/data -p 127.0.0.1:5432:5432 $CC_PG_IMAGE"
    if [ "$1" = answers ]; then
      echo "                  A Docker daemon answers here: CC_PG_DOCKER=1 before scripts/test or scripts/run starts"
      echo "                  one for you (removed after the tests; kept, with its data, for scripts/run)."
    else
      echo "                  (no Docker daemon answers here right now)"
    fi
    echo "  Any server:     DATABASE_URL=postgres://user:pass@host:5432/postgres (a user that may create databases)"
  } >&2
}

cc_find_or_start_pg() { # [test|run]
  local mode=${1:-test}
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
  if cc_docker_answers; then
    local answer=""
    if [ "${CC_PG_DOCKER:-}" = 1 ]; then
      answer=y
    elif [ -t 0 ] && [ -t 2 ]; then
      printf 'postgres: none found, but Docker answers. Start %s in Docker now? [Y/n] ' "$CC_PG_IMAGE" >&2
      read -r answer || answer=n
      answer=${answer:-y}
    fi
    case "$answer" in
      [yY]*) cc_start_docker_pg "$mode" && return 0 ;;
    esac
    cc_how_to_get_pg answers
    return 1
  fi
  cc_how_to_get_pg none
  return 1
}

# sqlx::test names each test's database after the test alone, so two test runs on one server (two checkouts, or a
# developer and CI) drop each other's databases mid-test. scripts/test holds this server-wide advisory lock while
# its tests run: a second run waits for the first. It needs psql; without it runs are not serialised. The lock is
# released when the shell exits (psql sees its input close). CC_PG_TEST_LOCK_KEY picks another lock (tests).
cc_lock_server_for_tests() {
  command -v psql >/dev/null 2>&1 || {
    cc_pg_note "no psql on PATH: not guarding against another test run on this server"
    return 0
  }
  local key=${CC_PG_TEST_LOCK_KEY:-7161122544235123827} line status waited=0
  coproc CC_PG_LOCK { exec psql "$DATABASE_URL" -X -q -t -A -v ON_ERROR_STOP=1 2>&1; }
  printf "select pg_advisory_lock(%s);\nselect 'locked';\n" "$key" >&"${CC_PG_LOCK[1]}"
  while :; do
    status=0
    read -r -t 5 line <&"${CC_PG_LOCK[0]}" || status=$?
    if [ "$status" = 0 ]; then
      case "$line" in
        locked) return 0 ;;
        "") continue ;;
        *) cc_pg_note "cannot take the test lock: $line"; return 1 ;;
      esac
    fi
    if [ "$status" -le 128 ]; then
      cc_pg_note "psql ended before it could take the test lock"
      return 1
    fi
    if [ "$waited" = 0 ]; then
      cc_pg_note "another test run holds this PostgreSQL server; waiting for it to finish"
      waited=1
    fi
  done
}
