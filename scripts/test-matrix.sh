#!/usr/bin/env bash
# Runs the integration tests that matter per server against Redis 6.0.16, the system's Redis
# 7.0 and Valkey 8.0.1 (scripts/servers.sh fetches the other two), and prints one table:
# a row per test, a column per server (PASS, FAIL, SKIP with the reason in the log).
#
# Usage: scripts/test-matrix.sh [-short]   (-short: the smoke set make test runs on 6.0 and Valkey,
#                                          seconds per server)
# Logs: test-matrix/<server>.log
# REDLINE_MATRIX=1 tells the tests they run in a matrix column: a test whose feature the
# column's server lacks (availability zones on Redis) skips there, saying why; outside the
# matrix it runs on the server it needs (TestReadLocalZone: the Valkey servers.sh fetched).
set -uo pipefail
cd "$(dirname "$0")/.."

full='TestSeedScenario|TestLiveSlotMigration|TestFailover$|TestDoBasics|TestMultiKeySplit|TestDoMulti$|TestFanout|TestReplicaReads|TestSubscribe|TestShardedSubscriptionFollowsSlot|TestScanEveryKeyOnce|TestTransactions|TestScriptFallsBackAfterFlush|TestBlockingCommandsHonorDeadline|TestReliabilitySecurity|TestManagedService|TestMatrixProtocols|TestReadLocalZone|TestClusterSlotStats|TestClusterSlotStatsOnRedis|TestShapesSameProgram|TestStandaloneDB|TestSentinelReal|TestSentinelKillPrimary|TestCacheHitMissAndInvalidationByAnotherClient|TestCacheSlotMoveAndFailover|TestPipelinedTyped|TestTxPipelinedTyped'
short='TestSeedScenario|TestDoBasics|TestMatrixProtocols'
tests="$full"; mode=full
if [ "${1:-}" = "-short" ]; then tests="$short"; mode=short; fi

./scripts/servers.sh >/dev/null || exit 1
declare -A path=(
  [redis-6.0]="$(./scripts/servers.sh --path redis-6.0 2>/dev/null)"
  [redis-7.0]="$(command -v redis-server)"
  [valkey-8.0]="$(./scripts/servers.sh --path valkey-8.0 2>/dev/null)"
)
order=(redis-6.0 redis-7.0 valkey-8.0)
[ "$mode" = short ] && order=(redis-6.0 valkey-8.0) # make test runs the whole suite on 7.0
mkdir -p test-matrix
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
status=0
for s in "${order[@]}"; do
  echo "test-matrix ($mode): $s ($("${path[$s]}" --version | cut -d' ' -f1-3))" >&2
  REDLINE_MATRIX=1 REDLINE_REDIS_SERVER="${path[$s]}" go test -count=1 -timeout 15m -v -run "^($tests)\$" . ./systest/ >"test-matrix/$s.log" 2>&1 || status=1
done

# The table: every top-level test that ran anywhere, its result per server.
names=$(grep -hoE '^--- (PASS|FAIL|SKIP): Test[A-Za-z0-9_]+' test-matrix/*.log | awk '{print $3}' | sort -u)
printf '%-40s' test; for s in "${order[@]}"; do printf ' %-11s' "$s"; done; echo
for n in $names; do
  printf '%-40s' "$n"
  for s in "${order[@]}"; do
    r=$(grep -oE "^--- (PASS|FAIL|SKIP): $n \([0-9.]+s\)" "test-matrix/$s.log" | head -1 | awk '{print $2, $4}' | tr -d ':()')
    printf ' %-11s' "${r:-none}"
  done
  echo
done
for s in "${order[@]}"; do
  if grep -qE '^(FAIL|panic:)' "test-matrix/$s.log"; then
    echo "test-matrix: $s failed; see test-matrix/$s.log" >&2; status=1
  fi
done
exit $status
