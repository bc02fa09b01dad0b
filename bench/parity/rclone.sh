#!/usr/bin/env bash
# Side-by-side check of haul against rclone on the same trees (issue 20's "done when"): times from S3,
# emptied folders, dry-run counts, symlinked trees with and without -L, a single file as the source.
# Each case runs both tools on copies of one input and compares what lands. Prints one row per case:
#   case | haul | rclone | agree
# Usage: bench/parity/rclone.sh [HAUL_BINARY]   (default: ./haul's Release build)
# Needs rclone and s3rver (./test.sh installs both into PATH / .build/tools).
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -z "${1:-}" ]]; then "$repo/haul" --help >/dev/null; set -- "$repo/.build/haul/haul"; fi
H=$1
w=$(mktemp -d /tmp/haul-parity.XXXX)
s3bin="$repo/.build/tools/node_modules/.bin/s3rver"
[[ -x $s3bin ]] || npm install --prefix "$repo/.build/tools" --no-audit --no-fund --silent s3rver@3.7.1 >/dev/null
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
mkdir -p "$w/s3"
NODE_OPTIONS=--openssl-legacy-provider "$s3bin" --directory "$w/s3" --address 127.0.0.1 --port "$port" \
  --configure-bucket parity --silent & s3pid=$!
trap 'kill $s3pid 2>/dev/null; rm -rf "$w"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/parity?max-keys=1" >/dev/null && break; sleep 0.2; done
unset AWS_CA_BUNDLE  # rclone refuses a custom CA bundle with an http endpoint
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
export RCLONE_CONFIG_S3_TYPE=s3 RCLONE_CONFIG_S3_PROVIDER=Other RCLONE_CONFIG_S3_ENDPOINT=http://127.0.0.1:$port \
  RCLONE_CONFIG_S3_ACCESS_KEY_ID=S3RVER RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=S3RVER RCLONE_CONFIG_S3_FORCE_PATH_STYLE=true
ep=(--endpoint "http://127.0.0.1:$port")
h() { "$H" --home "$w/home" "$@"; }
"$H" --home "$w/home" init --name parity >/dev/null 2>&1
rows=()
row() { local agree=no; [[ "$2" == "$3" ]] && agree=yes; rows+=("$1|$2|$3|$agree"); }
mtimes() { (cd "$1" && find . -type f -printf '%P %T@\n' | sort); }
files() { (cd "$1" 2>/dev/null && find . -mindepth 1 \( -type f -o -type d -o -type l \) -printf '%y %P\n' | sort) | md5sum | cut -c1-8; }

# 1. Times from S3: upload with each tool, download with each tool, compare with the source to the ns.
mkdir -p "$w/t/src/d"; for i in 1 2 3; do echo "file $i" > "$w/t/src/d/f$i"; done
touch -d '2021-05-05 10:11:12.615491562' "$w/t/src/d/f1"; touch -d '2019-01-02 03:04:05.123456789' "$w/t/src/d/f2"
h copy "$w/t/src" s3://parity/by-haul "${ep[@]}" -q >/dev/null 2>&1
rclone copy "$w/t/src" s3:parity/by-rclone 2>/dev/null
for up in haul rclone; do
  h copy s3://parity/by-$up "$w/t/haul-from-$up" "${ep[@]}" -q >/dev/null 2>&1
  rclone copy s3:parity/by-$up "$w/t/rclone-from-$up" 2>/dev/null
  a=$(diff <(mtimes "$w/t/src") <(mtimes "$w/t/haul-from-$up") >/dev/null && echo exact || echo differ)
  b=$(diff <(mtimes "$w/t/src") <(mtimes "$w/t/rclone-from-$up") >/dev/null && echo exact || echo differ)
  row "mtime via S3, uploaded by $up" "$a" "$b"
done
n=$(h sync "$w/t/src" "$w/t/haul-from-haul" -n -v 2>&1 | grep -ciE '^(would )?(touch|set time)')
r=$(rclone sync "$w/t/src" "$w/t/rclone-from-rclone" -n 2>&1 | grep -c 'modification time')
row "sync -n after S3 round trip (times to set)" "$n" "$r"

# 2. Emptied folders: dest has a folder whose files were deleted at the source.
mkdir -p "$w/e/src/keep" "$w/e/base/keep" "$w/e/base/gone/deeper"; echo k > "$w/e/src/keep/k"
cp -a "$w/e/src/keep/k" "$w/e/base/keep/k"; echo g > "$w/e/base/gone/deeper/g"
cp -a "$w/e/base" "$w/e/haul"; cp -a "$w/e/base" "$w/e/rclone"
h sync "$w/e/src" "$w/e/haul" -q >/dev/null 2>&1; rclone sync "$w/e/src" "$w/e/rclone" 2>/dev/null
row "sync removes emptied folders (tree hash)" "$(files "$w/e/haul")" "$(files "$w/e/rclone")"

# 3. Dry-run counts: one changed file, two extra files at the destination, one time-only difference.
mkdir -p "$w/n/src"; for f in a b c; do echo "$f" > "$w/n/src/$f"; done; touch -d '2020-01-01' "$w/n/src/"*
cp -a "$w/n/src" "$w/n/dst"; echo changed > "$w/n/src/a"; echo x > "$w/n/dst/x"; echo y > "$w/n/dst/y"
touch -d '2022-02-02' "$w/n/src/b"
hn=$(h sync "$w/n/src" "$w/n/dst" -n -v 2>&1 | grep -ciE '^(would )?(copy|update|delete|touch|set time)')
rn=$(rclone sync "$w/n/src" "$w/n/dst" -n 2>&1 | grep -c 'Skipped')
row "sync -n planned actions" "$hn" "$rn"
hs=$(h sync "$w/n/src" "$w/n/dst" -n 2>&1 | tail -1); rows+=("  haul's dry-run summary: $hs|||")

# 4. A Hugging Face cache snapshot: every file a relative symlink into blobs/.
hf="$w/hf/models--x/"; mkdir -p "$hf/blobs" "$hf/snapshots/rev/sub"
echo weights > "$hf/blobs/aaa"; echo config > "$hf/blobs/bbb"
ln -s ../../blobs/aaa "$hf/snapshots/rev/model.bin"; ln -s ../../../blobs/bbb "$hf/snapshots/rev/sub/config.json"
h copy "$hf/snapshots/rev" "$w/hf/haul-nol" -q >/dev/null 2>&1; rclone copy "$hf/snapshots/rev" "$w/hf/rclone-nol" 2>/dev/null
row "symlinked tree without -L (tree hash)" "$(files "$w/hf/haul-nol")" "$(files "$w/hf/rclone-nol")"
hn=$(h copy "$hf/snapshots/rev" "$w/hf/haul-nol2" 2>&1 | grep -ci 'symlink'); rn=$(rclone copy "$hf/snapshots/rev" "$w/hf/rclone-nol2" 2>&1 | grep -ci 'symlink')
row "notices for skipped links without -L" "$hn" "$rn"
h copy -L "$hf/snapshots/rev" "$w/hf/haul-L" -q >/dev/null 2>&1; rclone copy -L "$hf/snapshots/rev" "$w/hf/rclone-L" 2>/dev/null
row "symlinked tree with -L (tree hash)" "$(files "$w/hf/haul-L")" "$(files "$w/hf/rclone-L")"

# 5. A single file as the source.
mkdir -p "$w/f/dir"; echo one > "$w/f/dir/f1.txt"
h copy "$w/f/dir/f1.txt" "$w/f/haul/" -q >/dev/null 2>&1; rclone copy "$w/f/dir/f1.txt" "$w/f/rclone/" 2>/dev/null
row "copy dir/f1.txt OUT/ (tree hash)" "$(files "$w/f/haul")" "$(files "$w/f/rclone")"
h check "$w/f/dir/f1.txt" "$w/f/haul/f1.txt" >/dev/null 2>&1; a=$?; rclone check "$w/f/dir/f1.txt" "$w/f/rclone/" >/dev/null 2>&1; b=$?  # rclone wants a folder as the second
row "check FILE FILE (exit code)" "$a" "$b"

printf '%-48s | %-10s | %-10s | %s\n' case haul rclone agree
for r in "${rows[@]}"; do IFS='|' read -r c a b g <<<"$r"; printf '%-48s | %-10s | %-10s | %s\n' "$c" "$a" "$b" "$g"; done
