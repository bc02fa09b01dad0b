#!/usr/bin/env bash
# Node resource goals (issue #5) for the self-contained single-file binary: its size, start-up to
# serving the API, idle RSS, and peak RSS of both nodes during a large transfer between two local
# nodes. Prints a markdown table (also bench/out/node.md).
# Usage: bench/node/run.sh [--gib 10] [--binary PATH]   (default binary: packaging/publish.sh linux-x64)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
gib=10 bin=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --gib) gib=$2; shift 2 ;;
    --binary) bin=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x /usr/bin/time ]] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
if [[ -z $bin ]]; then "$repo/packaging/publish.sh" linux-x64 >/dev/null; bin="$repo/.build/dist/linux-x64/haul"; fi
w=$(mktemp -d /var/tmp/haul-nodebench-XXXXXX)
src=/dev/shm/haul-nodebench-src-$$
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$w" "$src" "$src-node"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$bin" --home "$w/a" init --name edge >/dev/null 2>&1
"$bin" --home "$w/b" init --name hub >/dev/null 2>&1
pb=$(port); pa=$(port)
"$bin" --home "$w/a" peer add "$("$bin" --home "$w/b" id)" "127.0.0.1:$pb" --name hub >/dev/null
"$bin" --home "$w/b" peer add "$("$bin" --home "$w/a" id)" --name edge >/dev/null
token=$(cat "$w/a/api.token")

# Start-up to serving: from exec to the first 200 from GET /api/v1/node; five runs, the median.
starts=()
for i in 1 2 3 4 5; do
  t0=$(date +%s%N)
  "$bin" --home "$w/a" serve --listen "127.0.0.1:$pa" --api "127.0.0.1:$((pa + 1))" >"$w/serve-a.log" 2>&1 &
  sp=$!
  until curl -sf -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$((pa + 1))/api/v1/node"; do sleep 0.005; done
  starts+=($(( ($(date +%s%N) - t0) / 1000000 )))
  if [[ $i -lt 5 ]]; then kill "$sp"; wait "$sp" 2>/dev/null || true; fi
done
pids+=("$sp")
start_ms=$(printf '%s\n' "${starts[@]}" | sort -n | sed -n 3p)
sleep 10
idle_kb=$(ps -o rss= -p "$sp" | tr -d ' ')

# A large transfer: the hub serves, the edge sends with the CLI.
"$bin" --home "$w/b" serve --listen "127.0.0.1:$pb" >"$w/serve-b.log" 2>&1 &
sb=$!; pids+=("$sb")
mkdir -p "$src"
head -c "$((gib * 1024))M" /dev/zero | openssl enc -aes-128-ctr -pass pass:haul -nosalt -pbkdf2 2>/dev/null > "$src/model.bin"
sleep 1
t0=$(date +%s%N)
/usr/bin/time -f "%M" -o "$w/send.rss" "$bin" --home "$w/a" send "$src" hub --json >/dev/null
secs=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN{printf "%.1f", (b-a)/1e9}')
send_kb=$(cat "$w/send.rss")
recv_kb=$(awk '/VmHWM/{print $2}' "/proc/$sb/status")
cmp -s "$src/model.bin" "$w/b/inbox/edge/$(basename "$src")/model.bin" || { echo "received file differs" >&2; exit 1; }
rm -rf "$src"

# The same size again, sent by the idle node itself through its API (what a pipeline does): the
# sending node's peak RSS.
src2=$src-node
mkdir -p "$src2"
head -c "$((gib * 1024))M" /dev/zero | openssl enc -aes-128-ctr -pass pass:haul-node -nosalt -pbkdf2 2>/dev/null > "$src2/weights.bin"
id=$(curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "{\"peer\":\"hub\",\"path\":\"$src2\"}" "http://127.0.0.1:$((pa + 1))/api/v1/transfers" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
while true; do
  state=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$((pa + 1))/api/v1/transfers/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
  [[ $state == done ]] && break
  [[ $state == running || $state == queued ]] || { echo "node send ended $state" >&2; exit 1; }
  sleep 0.5
done
nodesend_kb=$(awk '/VmHWM/{print $2}' "/proc/$sp/status")
cmp -s "$src2/weights.bin" "$w/b/inbox/edge/$(basename "$src2")/weights.bin" || { echo "received file differs (node send)" >&2; exit 1; }
rm -rf "$src2"
size=$(stat -c %s "$bin")

mkdir -p "$repo/bench/out"
{
  echo "| measure | goal | haul |"
  echo "|---|---:|---:|"
  printf '| single-file binary (%s) | ≤ 80 MB | %.1f MB |\n' "$(basename "$(dirname "$bin")")" "$(awk -v s="$size" 'BEGIN{print s/1e6}')"
  printf '| start-up to serving the API (median of 5) | ≤ 1 s | %d ms |\n' "$start_ms"
  printf '| idle node RSS (10 s after start, API up) | ≤ 60 MB | %.1f MB |\n' "$(awk -v k="$idle_kb" 'BEGIN{print k/1024}')"
  printf '| %d GiB transfer, receiving node peak RSS | ≤ 150 MB | %.1f MB |\n' "$gib" "$(awk -v k="$recv_kb" 'BEGIN{print k/1024}')"
  printf '| %d GiB transfer, sending CLI peak RSS | ≤ 150 MB | %.1f MB |\n' "$gib" "$(awk -v k="$send_kb" 'BEGIN{print k/1024}')"
  printf '| %d GiB transfer started through the API, sending node peak RSS | ≤ 150 MB | %.1f MB |\n' "$gib" "$(awk -v k="$nodesend_kb" 'BEGIN{print k/1024}')"
  printf '| %d GiB over loopback | | %s s |\n' "$gib" "$secs"
} | tee "$repo/bench/out/node.md"
