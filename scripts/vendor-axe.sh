#!/usr/bin/env bash
# Refresh the vendored axe-core (Deque's accessibility engine, MPL-2.0) that
# paperfeed/tests/test_accessibility.py injects into Chromium, from the npm registry:
#   scripts/vendor-axe.sh [VERSION]     (default: the version vendored now)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=paperfeed/tests/vendor/axe-core
version="${1:-$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$dest/package.json")}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
npm install --prefix "$tmp" --no-audit --no-fund --no-save "axe-core@$version" >/dev/null
cp "$tmp/node_modules/axe-core/"{axe.min.js,LICENSE,package.json} "$dest/"
echo "axe-core $version -> $dest ($(sha256sum "$dest/axe.min.js" | cut -c1-16)…)"
