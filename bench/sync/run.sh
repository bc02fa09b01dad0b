#!/usr/bin/env bash
# Sync benchmark (issue #4), local folder to local folder on tmpfs, side by side with rsync -a and
# rclone sync in one run: first sync and no-op re-sync of a tree of small files, 1% of the files
# changed, and peak memory for a no-op sync of a 1,000,000-entry tree. Prints a markdown table
# (also bench/out/sync.md).
# Usage: bench/sync/run.sh [--files 100000] [--file-kib 10] [--million 1000000] [--runs 3]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
files=100000 kib=10 million=1000000 runs=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --files) files=$2; shift 2 ;;
    --file-kib) kib=$2; shift 2 ;;
    --million) million=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
need=()
command -v rsync >/dev/null || need+=(rsync)
command -v rclone >/dev/null || need+=(rclone)
[[ -x /usr/bin/time ]] || need+=(time)
if ((${#need[@]})); then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi
"$repo/haul" --help >/dev/null
haul="$repo/.build/haul/haul"
work=/dev/shm/haul-syncbench-$$
mkdir -p "$work" "$repo/bench/out"
trap 'rm -rf "$work"' EXIT
export RCLONE_CONFIG=/dev/null

# tree ROOT COUNT KIB: COUNT files of KIB KiB in folders of 1,000.
tree() {
  python3 - "$1" "$2" "$3" <<'PY'
import os, sys
root, n, kib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
blob = os.urandom(kib * 1024 + 4096)
for i in range(n):
    d = f"{root}/d{i // 1000:04}"
    if i % 1000 == 0: os.makedirs(d, exist_ok=True)
    with open(f"{d}/f{i % 1000:04}.bin", "wb") as f:
        off = (i * 7919) % 4096
        f.write(i.to_bytes(8, "little") + blob[off:off + max(0, kib * 1024 - 8)])
PY
}
# best TOOL CMD...: the best wall time of $runs runs, in seconds
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}'; }
run_tool() { # TOOL SRC DST
  case $1 in
    haul) "$haul" --home "$work/home" sync "$2" "$3" -q ;;
    rsync) rsync -a --delete "$2/" "$3/" ;;
    rclone) rclone sync "$2" "$3" ;;
  esac
}

echo "building a tree of $files files of $kib KiB ..." >&2
tree "$work/src" "$files" "$kib"
declare -A first noop changed
for t in haul rsync rclone; do
  first[$t]=$(secs run_tool $t "$work/src" "$work/dst-$t")
  best=999
  for _ in $(seq "$runs"); do s=$(secs run_tool $t "$work/src" "$work/dst-$t"); best=$(awk -v a="$best" -v b="$s" 'BEGIN{print (b<a)?b:a}'); done
  noop[$t]=$best
done
# 1% of the files rewritten (same size, new content and time).
python3 - "$work/src" "$files" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(0, n, 100):
    p = f"{root}/d{i // 1000:04}/f{i % 1000:04}.bin"
    size = os.path.getsize(p)
    with open(p, "r+b") as f: f.write(os.urandom(min(size, 64)))
PY
changed_bytes=$(( files / 100 * kib * 1024 ))
for t in rsync rclone; do changed[$t]=$(secs run_tool $t "$work/src" "$work/dst-$t"); done
t0=$(date +%s.%N)
haul_bytes=$("$haul" --home "$work/home" sync "$work/src" "$work/dst-haul" --json -q 2>/dev/null | sed -nE 's/.*"copiedBytes":([0-9]+).*/\1/p')
changed[haul]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.3f", b-a}')
rm -rf "$work/dst-"* "$work/src"

declare -A rss=([haul]=0 [rsync]=0 [rclone]=0)
((million > 0)) && echo "building a tree of $million empty files for the memory run ..." >&2 && tree "$work/big" "$million" 0
for t in haul rsync rclone; do
  ((million > 0)) || break
  run_tool $t "$work/big" "$work/big-$t" >/dev/null 2>&1
  case $t in
    haul) cmd=("$haul" --home "$work/home" sync "$work/big" "$work/big-$t" -q) ;;
    rsync) cmd=(rsync -a --delete "$work/big/" "$work/big-$t/") ;;
    rclone) cmd=(rclone sync "$work/big" "$work/big-$t") ;;
  esac
  /usr/bin/time -o "$work/rss" -f "%M" "${cmd[@]}" >/dev/null 2>&1
  rss[$t]=$(tail -1 "$work/rss")
  rm -rf "$work/big-$t"
done

out="$repo/bench/out/sync.md"
{
  echo "Run: \`bench/sync/run.sh --files $files --file-kib $kib --million $million --runs $runs\` (tmpfs, local folder to local folder; best of $runs for the no-op)."
  echo
  echo "| measure | haul | rsync -a | rclone sync | haul vs best other |"
  echo "|---|---:|---:|---:|---:|"
  awk -v h="${first[haul]}" -v r="${first[rsync]}" -v c="${first[rclone]}" -v n="$files" 'BEGIN{b=(r<c)?r:c; printf "| first sync of %d files: seconds (files/s) | %.2f (%.0f) | %.2f (%.0f) | %.2f (%.0f) | %.2f× |\n", n, h, n/h, r, n/r, c, n/c, b/h}'
  awk -v h="${noop[haul]}" -v r="${noop[rsync]}" -v c="${noop[rclone]}" 'BEGIN{b=(r<c)?r:c; printf "| no-op re-sync: seconds | %.2f | %.2f | %.2f | %.2f× |\n", h, r, c, b/h}'
  awk -v h="${changed[haul]}" -v r="${changed[rsync]}" -v c="${changed[rclone]}" 'BEGIN{b=(r<c)?r:c; printf "| 1%% of files changed: seconds | %.2f | %.2f | %.2f | %.2f× |\n", h, r, c, b/h}'
  echo "| 1% changed: bytes copied ÷ changed bytes | $(awk -v a="${haul_bytes:-0}" -v b="$changed_bytes" 'BEGIN{printf "%.2f", a/b}') | | | |"
  echo "| no-op sync of $million entries: peak RSS (MB) | $(( ${rss[haul]} / 1024 )) | $(( ${rss[rsync]} / 1024 )) | $(( ${rss[rclone]} / 1024 )) | |"
} > "$out"
cat "$out"
