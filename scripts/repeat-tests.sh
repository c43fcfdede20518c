#!/usr/bin/env bash
# repeat-tests.sh: run chosen test classes many times in a row, optionally while other
# processes keep every core busy, to check a suspicion of flakiness.
#
# Each round runs the tests in a fresh JVM with surefire's random class and method order (a new
# seed per round, printed), so an order-dependent failure shows up too: on a fresh clone the
# order is the file system's, which differs from clone to clone. A failed round keeps its log
# and names the seed that reproduces it:
#   ./mvnw -pl MODULE surefire:test -Dtest=... -Dsurefire.runOrder=random \
#       -Dsurefire.runOrder.random.seed=SEED
#
# Usage: scripts/repeat-tests.sh [--rounds N] [--load] [--modules LIST] [--tests PATTERN]
#   --rounds N        rounds (default 20)
#   --load            keep every core busy with spinning processes during the rounds
#   --modules LIST    Maven modules whose tests run (default: the three adapter modules)
#   --tests PATTERN   surefire -Dtest pattern (default: the adapter contract of every adapter)
#   --out DIR         where logs go (default target/repeat)
# Exit: 0 when every round passed, 1 otherwise. Every round is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=20
load=false
modules="httpclient5-adapter,okhttp-adapter,reactor-netty-adapter"
tests='*AdapterContractTest'
out=target/repeat
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --load) load=true; shift ;;
    --modules) modules=$2; shift 2 ;;
    --tests) tests=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "--rounds must be > 0, but was $rounds" >&2; exit 2; }
mkdir -p "$out"

hogs=()
child=""
cleanup() {
  for p in "${hogs[@]:-}" "$child"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null || true; done
}
# Ctrl-C or TERM ends the script (before, the trap cleaned up and the next round began), and
# reaches it at once: each round's Maven runs in the background, waited for, since bash runs a
# trap only between foreground commands (a round's foreground Maven held it up to 20 minutes).
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "building once (tests skipped) ..."
./mvnw -B -q -pl "$modules" -am install -DskipTests >"$out/build.log" 2>&1 \
  || { echo "build failed: $out/build.log" >&2; exit 1; }

if $load; then
  for _ in $(seq 1 "$(nproc)"); do (while :; do :; done) & hogs+=($!); done
  echo "load: ${#hogs[@]} spinning processes"
fi

failed=0
for round in $(seq 1 "$rounds"); do
  seed=$RANDOM$RANDOM
  log="$out/round-$round.log"
  start=$(date +%s)
  timeout -k 30 1200 ./mvnw -B -pl "$modules" surefire:test -Dtest="$tests" \
    -Dsurefire.failIfNoSpecifiedTests=false -Dsurefire.runOrder=random \
    -Dsurefire.runOrder.random.seed="$seed" >"$log" 2>&1 &
  child=$!
  rc=0
  wait "$child" || rc=$?
  child=""
  if [[ $rc -eq 0 ]]; then
    echo "round $round/$rounds: passed in $(( $(date +%s) - start )) s (seed $seed)"
    rm -f "$log"
  else
    failed=$((failed + 1))
    echo "round $round/$rounds: FAILED (seed $seed), log $log:"
    # A log with no such line (a timed-out round, a build error) must not end the script: errexit.
    { grep -E '^\[ERROR\] +(Tests run|[a-zA-Z].*(Test|Contract)\.)|: FAILED |server TIME_WAIT|Expecting|to be' "$log" \
      | head -12 | sed 's/^/    /'; } || true
  fi
done
echo "$((rounds - failed)) passed, $failed failed"
[[ $failed -eq 0 ]]
