#!/usr/bin/env bash
# Runs every check of the project and ends with the plain line "N passed, N failed".
# The static checks (layout, format, lint, type check, documentation lint, documentation
# examples) count as one test each; the rest of the count comes from the summary line of
# `deno test`, so the closing line reflects the real results.
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

# The layout rules of docs/architecture.md (file length, layers, coding modules import only the
# SDK): one line per violation, naming the file and the rule.
step "layout check" "$DENO" run --allow-read scripts/layout_check.ts
step "deno fmt --check" "$DENO" fmt --check
step "deno lint" "$DENO" lint
# Every TypeScript root that exists (coding/ holds the coding modules once there are any).
check_roots=()
for root in main.ts src tests bench coding scripts; do [ -e "$root" ] && check_roots+=("$root"); done
step "deno check" "$DENO" check "${check_roots[@]}"

# The documentation of the code (tests/ aside: its helpers document themselves for the tests).
doc_roots=()
for root in main.ts src coding bench scripts; do [ -e "$root" ] && doc_roots+=("$root"); done
# Every file is an entry point here, so every exported symbol must have JSDoc and no public
# signature may name a type that is not exported (the reader could not look it up). -q drops
# the warnings about @types/node, which do not concern this project.
mapfile -t doc_files < <(find "${doc_roots[@]}" -name '*.ts' -not -path 'bench/out/*' | sort)
step "deno doc --lint" "$DENO" doc -q --lint "${doc_files[@]}"
# Every `ts` block of the JSDoc (and of the Markdown) under these roots is type-checked and run
# as a test of its own; a `ts ignore` block (it needs a cluster, root, or a benchmark's minutes)
# says why in its prose. Each block is a module with its own worker, hence --parallel and the
# dot reporter (one line per block). The examples make temporary files: a private TMPDIR,
# removed afterwards, keeps them out of /tmp.
doc_tmp=$(mktemp -d)
step "deno test --doc" env TMPDIR="$doc_tmp" "$DENO" test -A -q --doc --parallel --reporter=dot \
  "${doc_roots[@]}"
rm -rf "$doc_tmp"

mkdir -p .test-results
log=.test-results/deno-test.log
echo "== deno test"
"$DENO" test -A --junit-path=.test-results/junit.xml "$@" 2>&1 | tee "$log"
test_status=${PIPESTATUS[0]}
# deno test closes with "ok | 12 passed (3 steps) | 0 failed | 1 ignored (5s)" (or FAILED | ...);
# the counts are of tests, the steps in parentheses are parts of them.
summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -n 1)
skipped=0
if [ -n "$summary" ]; then
  passed=$((passed + $(sed -E 's/^[A-Z a-z]+\| ([0-9]+) passed.*/\1/' <<<"$summary")))
  failed=$((failed + $(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")))
  if grep -q ' ignored' <<<"$summary"; then
    skipped=$(sed -E 's/.*\| ([0-9]+) ignored.*/\1/' <<<"$summary")
  fi
fi
if [ "$test_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # deno test failed before or outside any test (e.g. a module that does not load).
  failed=$((failed + 1))
fi
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
