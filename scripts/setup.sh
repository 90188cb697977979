#!/usr/bin/env bash
# What `npm test` needs beyond `npm ci`, installed before the first test (the first step of
# `npm test`; scripts/e2e-setup.sh does the same for the real-VS-Code tests):
#   - python3-torch, python3-numpy, python3-pytest: the training tests (test:training);
#   - libopenblas0-pthread: PyTorch's BLAS (reference BLAS makes training 10x slower);
#   - xz-utils: the compressed corpus; iproute2 + util-linux: the privacy test's empty network
#     namespace (`unshare --net`, `ip link`; root only).
# As root, missing Debian packages are installed (apt-get, quietly). Otherwise it stops with one
# line naming the command to run. Checking takes well under a second, so a second run is quick.
#
# Run: bash scripts/setup.sh          (PTP_SETUP_CHECK_ONLY=1: report, never install)
set -euo pipefail

PACKAGES=(python3 python3-torch python3-numpy python3-pytest libopenblas0-pthread xz-utils iproute2 util-linux)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$pkg")
  done
else
  # Not Debian: check what the tests use rather than package names.
  /usr/bin/python3 -c 'import torch, numpy, pytest' >/dev/null 2>&1 || missing+=(python3-torch python3-numpy python3-pytest)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

why="(training tests: PyTorch, pytest; OpenBLAS makes PyTorch 10x faster; xz, ip and unshare for the corpus and the privacy test)"
if [ "$(id -u)" -ne 0 ] || [ -n "${PTP_SETUP_CHECK_ONLY:-}" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ptp-complete: npm test needs the Debian packages ${missing[*]} $why: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "[setup] apt-get install ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true  # a stale list may still hold them; install says if not
log=$(mktemp)
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
/usr/bin/python3 -c 'import torch, numpy, pytest' >/dev/null
echo "[setup] ready" >&2
