#!/usr/bin/env bash
# Installs the Debian packages that Mailroom's tests need, on a fresh Debian machine, as root.
# Idempotent: runs `apt-get update` (once) and `apt-get install` only when something is missing.
#
#   dovecot-imapd dovecot-lmtpd  a real IMAP server + LMTP delivery; tests start private instances
#                                (test/harness/dovecot.ts), never the system service
#   dovecot-sieve                Sieve (vacation: real auto-replies for sequences and ingest tests)
#   swaks                        a real command-line SMTP client
#   radicale                     a real CalDAV server (meetings); tests start private instances
#   chromium                     headless browser for the web tests (driven by playwright-core)
#   notmuch                      the mail indexer the ingest bench compares import speed and threading with
#                                (bench/ingest-threading.ts)
#
# After installing, the system's own Dovecot service is stopped and disabled, so that nothing
# listens on the standard ports 143/993/24 (the tests use private instances on free ports), and the
# system user `mailroom-test` that test Dovecots store mail as exists.
set -euo pipefail

PACKAGES=(dovecot-imapd dovecot-lmtpd dovecot-sieve swaks chromium radicale notmuch)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: must run as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive

is_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
}

missing=()
for p in "${PACKAGES[@]}"; do
  if ! is_installed "$p"; then missing+=("$p"); fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-test-deps: installing ${missing[*]}"
  # Keep package scripts from starting services while we install (no systemd here, and we do not
  # want a system Dovecot at all). Only if no policy is in place already; removed afterwards.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
  fi
  cleanup_policy() { if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi; }
  trap cleanup_policy EXIT

  apt-get update -qq
  apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}"

  cleanup_policy
  trap - EXIT
else
  echo "install-test-deps: all present (${PACKAGES[*]})"
fi

# The system Dovecot must not run: stop it if it does (only the system instance, found through its
# own pid file under /run/dovecot; private test instances keep their pid files in temp dirs).
if [ -f /run/dovecot/master.pid ]; then
  pid="$(cat /run/dovecot/master.pid 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    echo "install-test-deps: stopping the system Dovecot (pid $pid)"
    doveadm -c /etc/dovecot/dovecot.conf stop 2>/dev/null || kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
fi
# ... and must not start at the next boot.
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable dovecot.service dovecot.socket >/dev/null 2>&1 || true
  systemctl mask dovecot.service >/dev/null 2>&1 || true
fi
if [ -x /etc/init.d/dovecot ] && command -v update-rc.d >/dev/null 2>&1; then
  update-rc.d dovecot disable >/dev/null 2>&1 || true
fi

# The unprivileged system user that test Dovecots store mail as (test/harness/dovecot.ts also creates it
# when missing; doing it here keeps parallel test processes from racing on useradd).
if ! id -u mailroom-test >/dev/null 2>&1; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin mailroom-test \
    || id -u mailroom-test >/dev/null 2>&1
fi

for p in "${PACKAGES[@]}"; do
  if ! is_installed "$p"; then
    echo "install-test-deps: $p is still missing" >&2
    exit 1
  fi
done
echo "install-test-deps: ok ($(dovecot --version 2>/dev/null | head -1 || echo '?'), swaks $(swaks --version 2>/dev/null | head -1 | awk '{print $NF}' || echo '?'))"
