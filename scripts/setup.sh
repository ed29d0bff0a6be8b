#!/usr/bin/env bash
# Set up everything paperfeed needs on a fresh machine, idempotently:
#   scripts/setup.sh          the site (virtualenv at .venv with paperfeed installed)
#   scripts/setup.sh --test   also test tools, Debian's chromium (browser tests), pdflatex (BibTeX
#                             tests) and nginx (reverse-proxy tests)
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

# Debian packages the tests drive for real: chromium (browser tests), wrk (the load bench's
# request mix: paperfeed/deploy/tests/test_bench.py), nginx (the tests run
# their own, never the system service: paperfeed/tests/test_behind_nginx.py), and pdflatex
# with bibtex (the BibTeX export is compiled: api/tests/test_exports.py; without TeX Live's
# recommends, which are gigabytes).
if [[ $want_test == 1 ]]; then
  missing=() tex=()
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
  command -v wrk >/dev/null || missing+=(wrk)  # the load bench, and its Lua mix's test
  [[ -x /usr/bin/pdflatex ]] || tex+=(texlive-latex-base texlive-binaries)
  if (( ${#missing[@]} + ${#tex[@]} )); then
    echo "==> installing Debian's ${missing[*]} ${tex[*]} for the tests"
    if [[ $(id -u) == 0 ]]; then SUDO=""; else SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    if (( ${#missing[@]} )); then $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null; fi
    if (( ${#tex[@]} )); then
      $SUDO apt-get install -y -qq --no-install-recommends "${tex[@]}" >/dev/null
    fi
  fi
fi
