#!/usr/bin/env bash
# Scan benchmark: how long a send of one big new file spends reading, cutting and hashing it before
# the first packet can leave (the part a dial does not hide on a short path), side by side with
# sha256sum and b2sum reading the same file, page cache warm, on tmpfs. Haul's figure is the end of
# the "scan" phase in `haul send --json` to a node on loopback; the chunk index is cleared before each
# run so every run reads the file. Prints a markdown table (also bench/out/scan.md).
# Usage: bench/core/scan.sh [--gib N] [--runs N] [--binary PATH]
# (--binary: the haul to run, e.g. the Native AOT one from packaging/publish.sh; default the ./haul build.)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
gib=1 runs=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --gib) gib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --binary) binary=$(realpath "$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ -n "${binary:-}" ]]; then haul=$binary; else "$repo/haul" --help >/dev/null; haul="$repo/.build/haul/haul"; fi
work="/dev/shm/haul-scan-$$"
mkdir -p "$work" "$repo/bench/out"
cleanup() { [[ -n "${serve_pid:-}" ]] && kill "$serve_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
head -c $((gib * 1024 * 1024 * 1024)) /dev/urandom > "$work/model.bin"
cat "$work/model.bin" > /dev/null
"$haul" --home "$work/a" init --name a >/dev/null 2>&1; "$haul" --home "$work/b" init --name b >/dev/null 2>&1
port=$((20000 + RANDOM % 20000))
"$haul" --home "$work/a" peer add "$("$haul" --home "$work/b" id)" "127.0.0.1:$port" --name b >/dev/null
"$haul" --home "$work/b" peer add "$("$haul" --home "$work/a" id)" --name a >/dev/null
"$haul" --home "$work/b" serve --listen "127.0.0.1:$port" --inbox "$work/in" >"$work/serve.log" 2>&1 &
serve_pid=$!
sleep 1
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}'; }
declare -A best=()
for ((r = 1; r <= runs; r++)); do
  for tool in haul sha256sum b2sum; do
    case $tool in
      haul) rm -rf "$work/in" "$work/a/chunks.db"*
            s=$("$haul" --home "$work/a" send "$work/model.bin" b --json | grep '"phase":"scan"' | tail -1 | sed -E 's/.*"elapsedSeconds":([0-9.]+).*/\1/') ;;
      *) s=$(secs "$tool" "$work/model.bin") ;;
    esac
    echo "run $r: $tool $s s" >&2
    [[ -z "${best[$tool]:-}" ]] || awk -v a="$s" -v b="${best[$tool]}" 'BEGIN{exit !(a<b)}' && best[$tool]=$s
  done
done
{
  echo "| ${gib} GiB file, best of $runs | seconds | GB/s | ÷ sha256sum |"
  echo "|---|---:|---:|---:|"
  for tool in haul sha256sum b2sum; do
    awk -v t="$tool" -v s="${best[$tool]}" -v g="$gib" -v ref="${best[sha256sum]}" \
      'BEGIN{printf "| %s | %.2f | %.2f | %.2f |\n", (t=="haul" ? "haul send: scan (cut + SHA-256 per chunk)" : t), s, g*1.073741824/s, s/ref}'
  done
} | tee "$repo/bench/out/scan.md"
