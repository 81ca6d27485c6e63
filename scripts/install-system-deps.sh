#!/usr/bin/env bash
# Installs the Debian packages carebridge runs and tests against: Redis (queue), OpenSSH server
# (SFTP integration tests), PostgreSQL (multi-instance store), Chromium (console browser tests), python3-hl7 (mllp_send as a real
# MLLP peer in tests), build tools for better-sqlite3. Idempotent: skips apt when all are present.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v mllp_send >/dev/null 2>&1 || need+=(python3-hl7)
command -v make >/dev/null 2>&1 || need+=(make)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# The web console's browser tests drive Debian's Chromium through playwright-core (no browser download).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != "0" ]; then
    echo "carebridge: missing system packages: ${need[*]} (run as root or: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "carebridge: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian starts services from postinst; carebridge and its tests start their own private instances.
exit 0
