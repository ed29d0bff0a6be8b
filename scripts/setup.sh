#!/usr/bin/env bash
# Set up everything paperfeed needs on a fresh machine, idempotently:
#   scripts/setup.sh          the site (virtualenv at .venv with paperfeed installed)
#   scripts/setup.sh --test   also test tools, Debian's chromium for browser tests and nginx
#                             for the reverse-proxy tests
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "paperfeed needs Python 3.11 or newer as \$PYTHON (found: $("$PYTHON" --version 2>&1))." >&2
  exit 1
fi
if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi

extras=""
[[ $want_test == 1 ]] && extras="[test]"
stamp=".venv/.installed${extras:+-test}"
# Reinstall only when the project's dependency list changed.
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
  echo "==> installing paperfeed${extras} into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
  touch "$stamp"
fi

if [[ $want_test == 1 && ! -x /usr/bin/chromium ]]; then
  echo "==> installing Debian's chromium for browser tests"
  if [[ $(id -u) == 0 ]]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if [[ $want_test == 1 ]] && ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
  # paperfeed/tests/test_behind_nginx.py runs its own nginx (never the system service).
  echo "==> installing Debian's nginx for the reverse-proxy tests"
  if [[ $(id -u) == 0 ]]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx >/dev/null
fi
