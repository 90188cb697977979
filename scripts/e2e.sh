#!/usr/bin/env bash
# npm run test:e2e — the extension in a real VS Code (code-server 4.139.1 + Chromium), offline:
#   1. scripts/e2e-setup.sh    code-server on Node 24 and chromium, cached (~2 min once, < 1 s after)
#   2. scripts/package.mjs     minified bundles + the linux-x64 .vsix (~10 s)
#   3. test/e2e/suite.e2e.ts   the extension-host mocha suite (test/suite), from the repository (~30 s)
#   4. test/e2e/ui.e2e.ts      the .vsix installed into code-server, driven in the browser (~30 s)
# Output, screenshots and logs: .test-output/. PTP_E2E_UPDATE_MEDIA=1 refreshes media/*.png.
set -uo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
PTP_E2E_HOME="$(bash scripts/e2e-setup.sh)" || exit 1
export PTP_E2E_HOME
node scripts/package.mjs || exit 1
node scripts/build-suite.mjs || exit 1

failed=()
node --import tsx test/e2e/suite.e2e.ts || failed+=("extension-host suite")
node --import tsx test/e2e/ui.e2e.ts || failed+=("UI test")

if [ ${#failed[@]} -gt 0 ]; then
  echo "e2e: FAILED: ${failed[*]} ($(( $(date +%s) - started )) s)"
  exit 1
fi
echo "e2e: all passed in $(( $(date +%s) - started )) s"
