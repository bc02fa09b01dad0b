#!/usr/bin/env bash
# One byte inserted at the start of a 1 GiB file, re-synced into a peer's folder on loopback (two local
# nodes), twice; prints the wall time of each re-sync. Usage: bench/sync/insert.sh [HAUL_BINARY]
# (default: ./haul's Release build). Used for A/B runs of two builds.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -z "${1:-}" ]]; then "$repo/haul" --help >/dev/null; set -- "$repo/.build/haul/haul"; fi
H=$1; w=/dev/shm/haul-insert-$$; rm -rf $w; mkdir -p $w/src $w/dst
$H --home $w/a init --name a >/dev/null 2>&1; $H --home $w/b init --name b >/dev/null 2>&1
$H --home $w/a peer add $($H --home $w/b id) 127.0.0.1:7655 --name b >/dev/null; $H --home $w/b peer add $($H --home $w/a id) --name a >/dev/null
$H --home $w/b folder add f $w/dst --share a:rw >/dev/null
$H --home $w/b serve --listen 127.0.0.1:7655 > $w/serve.log 2>&1 & sp=$!
sleep 1; head -c 1073741824 /dev/urandom > $w/src/model.bin
$H --home $w/a sync $w/src b:f/x -q
for i in 1 2; do { printf 'X'; cat $w/src/model.bin; } > $w/src/m.new && mv $w/src/m.new $w/src/model.bin
t0=$(date +%s.%N); $H --home $w/a sync $w/src b:f/x -q; echo "insert $i: $(awk -v a=$t0 -v b=$(date +%s.%N) 'BEGIN{printf "%.2f", b-a}') s"; done
kill $sp; rm -rf $w
