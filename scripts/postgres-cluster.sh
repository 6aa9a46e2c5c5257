#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, from the Debian binaries.
#
#   scripts/postgres-cluster.sh start DIR   # creates DIR, starts a cluster in it; last line: its DATABASE_URL
#   scripts/postgres-cluster.sh stop DIR    # stops that cluster and removes DIR
#
# The cluster listens on 127.0.0.1 (and ::1 where the host has IPv6) on a free port (its unix
# socket stays inside DIR), accepts only SCRAM-SHA-256 (role `gateway`, a generated password, database `gateway`), offers TLS with a
# throwaway self-signed certificate (DIR/server.crt, for localhost and 127.0.0.1; clients choose
# with sslmode) and keeps fsync on:
# durability is what the store tests check. PostgreSQL refuses to run as root, so under root the
# cluster runs as `postgres` (the account Debian's package creates) or else `nobody`, and DIR is
# handed to that account.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR | stop DIR" >&2
  exit 2
}
[[ $# -eq 2 ]] || usage
command=$1
directory=$2

# The newest installed major version; `postgresql` from apt when none is.
find_binaries() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -z "$found" ]]; then
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    echo "installing postgresql from apt" >&2
    "${sudo[@]}" apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql >&2
    found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$found"
}

# Runs a command as the cluster's owner: ourselves, or an unprivileged account when we are root.
owner=""
as_owner() {
  if [[ -n "$owner" ]]; then runuser -u "$owner" -- "$@"; else "$@"; fi
}
choose_owner() {
  [[ $(id -u) -eq 0 ]] || return 0
  if getent passwd postgres >/dev/null; then owner=postgres; else owner=nobody; fi
}

start() {
  if [[ -e "$directory" && -n "$(ls -A "$directory" 2>/dev/null)" ]]; then
    echo "$directory exists and is not empty; give a new directory" >&2
    exit 1
  fi
  local bin
  bin=$(find_binaries)
  choose_owner
  mkdir -p "$directory"
  directory=$(cd "$directory" && pwd)
  if [[ -n "$owner" ]]; then
    chown "$owner": "$directory"
    chmod 700 "$directory"
    as_owner test -w "$directory" || {
      echo "$owner cannot reach $directory: every parent directory must be searchable (chmod o+x)" >&2
      exit 1
    }
  fi

  # URL-safe characters only, so the password goes into the URL without percent-encoding.
  local password
  password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  (umask 077 && printf '%s\n' "$password" >"$directory/pwfile")
  [[ -z "$owner" ]] || chown "$owner": "$directory/pwfile"

  # --no-sync only skips flushing initdb's own files (a crash loses a throwaway cluster anyway);
  # the server below runs with fsync on.
  as_owner "$bin/initdb" --pgdata="$directory/data" --username=gateway --pwfile="$directory/pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --no-locale --no-sync >"$directory/initdb.log" 2>&1 || {
    cat "$directory/initdb.log" >&2
    exit 1
  }
  rm -f "$directory/pwfile"

  # A throwaway certificate, valid for two days: the TLS tests trust exactly this file.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$directory/server.key" -out "$directory/server.crt" >/dev/null 2>&1 || {
    echo "openssl could not make the test certificate" >&2
    exit 1
  }
  chmod 600 "$directory/server.key"
  chmod 644 "$directory/server.crt"
  [[ -z "$owner" ]] || chown "$owner": "$directory/server.key" "$directory/server.crt"

  # A port chosen at random and kept only if PostgreSQL could bind it: no window in which another
  # process can take a port we found free.
  # Below the kernel's ephemeral range, which the test process's own client sockets draw from.
  local port attempt ephemeral_low
  ephemeral_low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((10000 + RANDOM % (ephemeral_low - 10000)))
    cat >"$directory/data/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1,::1'
port = $port
unix_socket_directories = '$directory'
fsync = on
synchronous_commit = on
shared_buffers = 16MB
max_connections = 300
log_min_messages = warning
ssl = on
ssl_cert_file = '$directory/server.crt'
ssl_key_file = '$directory/server.key'
EOF
    [[ -z "$owner" ]] || chown "$owner": "$directory/data/postgresql.auto.conf"
    rm -f "$directory/postgres.log"
    if as_owner "$bin/pg_ctl" --pgdata="$directory/data" --log="$directory/postgres.log" --wait --timeout=30 \
      --silent start >/dev/null 2>&1; then
      # PostgreSQL starts when any one listen address binds: a port taken on 127.0.0.1 but free on
      # ::1 would leave the URL below pointing at nothing (or at someone else).
      if grep -q 'could not bind' "$directory/postgres.log" 2>/dev/null; then
        as_owner "$bin/pg_ctl" --pgdata="$directory/data" --wait --silent --mode=immediate stop >/dev/null 2>&1 || true
        continue
      fi
      PGPASSWORD=$password "$bin/psql" --no-psqlrc --quiet --host="$directory" --port="$port" --username=gateway \
        --dbname=postgres --command='CREATE DATABASE gateway' >&2
      echo "postgres://gateway:$password@127.0.0.1:$port/gateway"
      return 0
    fi
    grep -q 'could not bind\|Address already in use' "$directory/postgres.log" 2>/dev/null || break
  done
  echo "PostgreSQL did not start (attempt $attempt):" >&2
  cat "$directory/postgres.log" >&2 || true
  exit 1
}

stop() {
  [[ -d "$directory" ]] || return 0
  if [[ -f "$directory/data/postmaster.pid" ]]; then
    local bin
    bin=$(find_binaries)
    choose_owner
    as_owner "$bin/pg_ctl" --pgdata="$directory/data" --mode=fast --wait --silent stop >/dev/null 2>&1 || true
  fi
  rm -rf "$directory"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
