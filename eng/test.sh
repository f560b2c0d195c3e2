#!/usr/bin/env bash
# Runs every test of the repository on a fresh machine.
# Installs what the tests need and is missing (PostgreSQL server binaries, Chromium, yamllint, Node.js for Mistral's
# TypeScript SDK), then runs `dotnet test`
# on the solution. kubectl (client only) is expected on the machine, as on CI.
# Tests start their own throw-away servers on 127.0.0.1 and stop them; nothing has to be started by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || packages+=(postgresql)   # throw-away PostgreSQL servers
[ -x /usr/bin/chromium ] || packages+=(chromium)                                      # the browser tests (Playwright drives it)
command -v yamllint >/dev/null || packages+=(yamllint)                                # the deployment manifests' lint
command -v npm >/dev/null || packages+=(nodejs npm)                                   # Mistral's TypeScript SDK (compatibility test)

if ((${#packages[@]})); then
  echo "Installing test dependencies: ${packages[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

# Mistral's own TypeScript SDK, pinned in package-lock.json, read our streams in a compatibility test.
npm ci --prefix tests/compat/mistral-ts --no-audit --no-fund --loglevel=error

# A hang fails the run (with a dump of what hung) instead of blocking CI. dotnet test runs the test projects side by
# side; the latency tests (Category=Latency: the cross-process cancel's p99 bound) run after them, alone, so that they
# measure the system rather than two cores shared with the other suites (p99 103–169 ms measured under that load,
# 35–87 ms alone).
status=0
dotnet test StreamingEvents.sln --blame-hang-timeout 10m --filter "Category!=Latency" "$@" || status=$?
dotnet test tests/StreamingEvents.Cluster.Tests --no-build --blame-hang-timeout 10m --filter "Category=Latency" "$@" || status=$?
exit "$status"
