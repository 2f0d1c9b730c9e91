#!/usr/bin/env bash
# Make Debian's PostgreSQL server binaries (initdb, pg_ctl) available for the postgres
# backend tests, which start their own throwaway cluster (tests/postgres_server.py).
# Idempotent: does nothing when /usr/lib/postgresql/*/bin/initdb is already there.
# Installs no running service the tests rely on; needs root (or password-less sudo).
set -euo pipefail

found() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null
}

if found; then
  echo "postgres.sh: PostgreSQL server binaries present: $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tr '\n' ' ')"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "postgres.sh: no apt-get here: install a PostgreSQL server (initdb, pg_ctl) by hand" >&2
  exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "postgres.sh: installing Debian's postgresql package needs root (or sudo -n)" >&2
    exit 1
  fi
fi

echo "postgres.sh: installing Debian's postgresql package"
export DEBIAN_FRONTEND=noninteractive
${as_root[@]+"${as_root[@]}"} apt-get update -qq
${as_root[@]+"${as_root[@]}"} apt-get install -y -qq --no-install-recommends postgresql >/dev/null

if ! found; then
  echo "postgres.sh: postgresql installed, but no initdb under /usr/lib/postgresql/*/bin" >&2
  exit 1
fi
echo "postgres.sh: installed: $(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' ')"
