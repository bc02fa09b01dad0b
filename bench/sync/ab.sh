#!/usr/bin/env bash
# A/B of haul builds on the first sync of FILES (default 20,000) 10 KiB files into a peer's folder
# across the emulated 1 Gbit/s / 50 ms link of bench/sync/wan.sh: fresh nodes and destination for every
# run, binaries alternating, so the VM's drift falls on both alike. Prints files/s per run.
# Usage: [RUNS=2] [FILES=20000] [KEEP=/tmp/prefix] [PERF="perf record ... --"] bench/sync/ab.sh LABEL=BINARY [LABEL=BINARY ...]
# (KEEP keeps each run's sender output and receiver log, HAUL_DEBUG=1 adds stage stamps to both.)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ $# -gt 0 ]] || { echo "usage: bench/sync/ab.sh LABEL=BINARY [LABEL=BINARY ...]" >&2; exit 2; }
dotnet build "$repo/bench/wan/NetEm/NetEm.csproj" -c Release -o "$repo/.build/netem" --nologo -v quiet >&2
files=${FILES:-20000}; kib=10; rate=1000; rtt=50
work="/dev/shm/haul-ab-$$"; mkdir -p "$work"
A=hab-a B=hab-b
. "$repo/bench/wan/link.sh"
. "$repo/bench/sync/lib.sh"
cleanup() { set +e; pkill -f "haul --home $work" ; link_down $A $B; rm -rf "$work"; }
trap cleanup EXIT
sync_link $A $B habtun 10.79.0 "$rate" "$rtt" "$work"
make_tree "$work/src" "$files" "$kib"
run() { # $1 label $2 binary $3 n
  local haul=$2 h="$work/run$3"
  haul_hub "$haul" "$h" 10.79.0.2 "$h/dst" $B
  local sp=$hub_pid
  local t0=$(date +%s.%N)
  ${PERF:-} ip netns exec $A timeout -s KILL 120 "$haul" --home "$h/ha" sync "$work/src" hub:incoming/src -q > "$h/out.log" 2>&1 || true
  local t1=$(date +%s.%N)
  local got=$(find "$h/dst/src" -type f | wc -l)
  kill $sp; wait $sp 2>/dev/null || true
  [[ -n "${KEEP:-}" ]] && cp "$h/out.log" "$KEEP-$1-$3.out" && cp "$h/serve.log" "$KEEP-$1-$3.serve"
  awk -v l="$1" -v a="$t0" -v b="$t1" -v n="$got" 'BEGIN{printf "%s: %d files in %.2f s: %.0f files/s\n", l, n, b-a, n/(b-a)}'
  rm -rf "$h"
}
i=0
for r in $(seq ${RUNS:-2}); do
  for spec in "$@"; do i=$((i+1)); run "${spec%%=*}" "${spec#*=}" $i; done
done
