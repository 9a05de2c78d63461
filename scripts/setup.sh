#!/usr/bin/env bash
# Installs what a fresh machine lacks: Bun (pinned, from the npm registry) and the locked
# dependencies; with --tests also redis-server (Debian package), which only the tests need.
set -euo pipefail
cd "$(dirname "$0")/.."
BUN_VERSION=1.4.5
if ! command -v bun >/dev/null 2>&1 || [[ "$(bun --version)" != "$BUN_VERSION" ]]; then
  npm install -g "bun@$BUN_VERSION" >/dev/null
fi
bun install --frozen-lockfile >/dev/null
if [[ "${1:-}" == "--tests" ]] && ! command -v redis-server >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then
    (apt-get update >/dev/null && apt-get install -y redis-server >/dev/null) || echo "setup: could not install redis-server (the tests need it)" >&2
  else
    echo "setup: redis-server is missing; install it (apt-get install redis-server) to run the tests" >&2
  fi
fi
