#!/usr/bin/env bash
# Runs every check of the project and ends with the plain line "N passed, N failed".
# The static checks (format, lint, type check) count as one test each; the rest of the count
# comes from the JUnit report of `deno test`, so the closing line reflects the real results.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${DENO:=.tools/node_modules/@deno/linux-x64-glibc/deno}"
export NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 RUST_BACKTRACE=0

passed=0
failed=0
step() {
  local name=$1
  shift
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $name"
  fi
}

step "deno fmt --check" "$DENO" fmt --check
step "deno lint" "$DENO" lint
# Every TypeScript root that exists (coding/ holds the coding modules once there are any).
check_roots=()
for root in main.ts src tests bench coding scripts; do [ -e "$root" ] && check_roots+=("$root"); done
step "deno check" "$DENO" check "${check_roots[@]}"

mkdir -p .test-results
report=.test-results/junit.xml
rm -f "$report"
echo "== deno test"
"$DENO" test -A --junit-path="$report" "$@"
test_status=$?
if [ -f "$report" ]; then
  # The <testsuites> element carries the totals of the whole run.
  totals=$(grep -m1 -o '<testsuites [^>]*>' "$report")
  tests=$(sed -n 's/.* tests="\([0-9]*\)".*/\1/p' <<<"$totals")
  failures=$(sed -n 's/.* failures="\([0-9]*\)".*/\1/p' <<<"$totals")
  errors=$(sed -n 's/.* errors="\([0-9]*\)".*/\1/p' <<<"$totals")
  tests=${tests:-0} failures=${failures:-0} errors=${errors:-0}
  passed=$((passed + tests - failures - errors))
  failed=$((failed + failures + errors))
fi
if [ "$test_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # deno test failed before or outside any test (e.g. a module that does not load).
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
