#!/usr/bin/env bash
# Runs the whole suite N times (default 10), each time from a fresh clone of the committed HEAD
# in a new mode-0700 directory (as CI does: `mktemp -d` is private to its owner), and prints
# each run's closing line. A flaky test shows up here; the fix belongs at its cause.
# Usage: scripts/test_repeat.sh [N]    (make test-repeat RUNS=N)
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "test-repeat: the number of runs must be a positive integer, got '$runs'" >&2
  exit 2
fi
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "test-repeat: note: uncommitted changes are not tested (each run clones HEAD $(git rev-parse --short HEAD))" >&2
fi
logs=.test-results/repeat
mkdir -p "$logs"
source_repo=$(pwd)
green=0
for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d) # mode 0700: the clone's path is not enterable by other users
  log="$logs/run-$i.log"
  started=$(date +%s)
  git clone -q "$source_repo" "$dir/p"
  make -C "$dir/p" test >"$log" 2>&1
  status=$?
  closing=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  echo "run $i/$runs: ${closing:-no closing line} (exit $status, $(($(date +%s) - started)) s)"
  if [ "$status" -eq 0 ]; then
    green=$((green + 1))
    rm -f "$log"
  else
    grep -E 'FAILED|=> .*:[0-9]+:[0-9]+' "$log" | head -n 20 | sed 's/^/  /'
    echo "  full log: $log"
  fi
  rm -rf "$dir"
done
echo "$green of $runs runs green"
[ "$green" -eq "$runs" ]
