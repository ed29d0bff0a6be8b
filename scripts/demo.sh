#!/usr/bin/env bash
# Set everything up and run the site on the demo corpus at http://127.0.0.1:8000
# (SQLite in ./var unless PAPERFEED_DATA_DIR or DATABASE_URL say otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/paperfeed serve "$@"
