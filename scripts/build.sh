#!/usr/bin/env bash
# Builds dist/cdfs, one self-contained binary with the coding modules inside.
# `deno compile` needs its `denort` runtime: it downloads it, unless DENORT_BIN names a local
# copy. Where neither works, this says so in one line instead of Deno's stack of causes.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${DENO:=.tools/node_modules/@deno/linux-x64-glibc/deno}"
export NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 RUST_BACKTRACE=0
mkdir -p dist
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if "$DENO" compile -A --include coding --output dist/cdfs main.ts >"$log" 2>&1; then
  echo "built dist/cdfs ($(du -h dist/cdfs | cut -f1)); try: dist/cdfs --help"
  exit 0
fi
if grep -q -e denort -e 'Setting up base binary' "$log"; then
  if [ -n "${DENORT_BIN:-}" ]; then
    echo "error: deno compile could not use DENORT_BIN=$DENORT_BIN (is it the denort of Deno $("$DENO" --version | head -n1 | cut -d' ' -f2)?)" >&2
  else
    echo "error: deno compile needs its 'denort' runtime, which it downloads from the internet, and the download failed here; set DENORT_BIN=/path/to/denort (the denort of the same Deno version) and run 'make build' again" >&2
  fi
  exit 1
fi
cat "$log" >&2
exit 1
