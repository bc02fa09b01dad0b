#!/usr/bin/env bash
# Many small files between two local nodes on 127.0.0.1 (no emulator): the per-file cost of a peer
# sync on its own. Prints the seconds and files/s; HAUL_DEBUG=1 adds stage timestamps.
# Usage: bench/sync/loopback.sh [--files 20000] [--file-kib 10] [--binary PATH]
# (--binary: the haul to run, e.g. the Native AOT one from packaging/publish.sh; default the ./haul build.)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
files=20000 kib=10
while [[ $# -gt 0 ]]; do
  case "$1" in
    --files) files=$2; shift 2 ;;
    --file-kib) kib=$2; shift 2 ;;
    --binary) binary=$(realpath "$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ -n "${binary:-}" ]]; then haul=$binary; else "$repo/haul" --help >/dev/null; haul="$repo/.build/haul/haul"; fi
w=$(mktemp -d /dev/shm/haul-loopback-XXXXXX)
sp=""
trap '[[ -n $sp ]] && kill $sp 2>/dev/null; rm -rf "$w"' EXIT
python3 - "$w/src" "$files" "$kib" <<'PY'
import os, sys
root, n, kib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
blob = os.urandom(kib * 1024 + 4096)
for i in range(n):
    d = f"{root}/d{i // 1000:04}"
    if i % 1000 == 0: os.makedirs(d, exist_ok=True)
    with open(f"{d}/f{i:06}.bin", "wb") as f: f.write(i.to_bytes(8, "little") + blob[i % 4096:i % 4096 + kib * 1024 - 8])
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$haul" --home "$w/ha" init --name edge >/dev/null 2>&1; "$haul" --home "$w/hb" init --name hub >/dev/null 2>&1
"$haul" --home "$w/ha" peer add "$("$haul" --home "$w/hb" id)" "127.0.0.1:$port" --name hub >/dev/null
"$haul" --home "$w/hb" peer add "$("$haul" --home "$w/ha" id)" --name edge >/dev/null
mkdir -p "$w/dst"
"$haul" --home "$w/hb" folder add incoming "$w/dst" --share edge:rw >/dev/null
"$haul" --home "$w/hb" serve --listen "127.0.0.1:$port" >"$w/serve.log" 2>&1 &
sp=$!
for _ in $(seq 50); do grep -q serving "$w/serve.log" 2>/dev/null && break; sleep 0.1; done
t0=$(date +%s.%N)
"$haul" --home "$w/ha" sync "$w/src" hub:incoming/src -q
t1=$(date +%s.%N)
got=$(find "$w/dst/src" -type f | wc -l)
awk -v a="$t0" -v b="$t1" -v n="$got" 'BEGIN{printf "%d files in %.2f s: %.0f files/s\n", n, b-a, n/(b-a)}'
