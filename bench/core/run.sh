#!/usr/bin/env bash
# Core benchmark (issue #2): loopback, one 4 GiB file and 20,000 files of 10 KiB, page cache warm,
# side by side in one run: cp (ceiling), scp and rsync over ssh (sshd on loopback), haul.
# Source and destination live on tmpfs (/dev/shm) so the figures measure the tools, not this VM's
# disk write-back; set BENCH_DIR to measure elsewhere. Prints a markdown table (also written to
# bench/out/core.md). Usage: bench/core/run.sh [--big-gib N] [--small-files N] [--runs N] [--binary PATH]
# (--binary: the haul to run, e.g. the Native AOT one from packaging/publish.sh; default the ./haul build.)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
big_gib=4 small_files=20000 runs=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --big-gib) big_gib=$2; shift 2 ;;
    --small-files) small_files=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --binary) binary=$(realpath "$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

need=()
command -v rsync >/dev/null || need+=(rsync)
[[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
command -v scp >/dev/null || need+=(openssh-client)
[[ -x /usr/bin/time ]] || need+=(time)
if ((${#need[@]})); then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi

if [[ -n "${binary:-}" ]]; then haul=$binary; else "$repo/haul" --help >/dev/null; haul="$repo/.build/haul/haul"; fi  # builds the Release binary once
work="${BENCH_DIR:-/dev/shm}/haul-bench-$$"
mkdir -p "$work" "$repo/bench/out"
cleanup() {
  [[ -f "$work/ssh/sshd.pid" ]] && kill "$(cat "$work/ssh/sshd.pid")" 2>/dev/null || true
  [[ -n "${serve_pid:-}" ]] && kill "$serve_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "preparing data in $work ..." >&2
mkdir -p "$work/src/big" "$work/src/small"
head -c $((big_gib * 1024 * 1024 * 1024)) /dev/urandom > "$work/src/big/model.bin"
python3 - "$work/src/small" "$small_files" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"shard-{i // 1000:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"img-{i:06d}.jpg"), "wb") as f:
        f.write(os.urandom(10240))
PY
cat "$work/src/big/model.bin" > /dev/null; find "$work/src/small" -type f -exec cat {} + > /dev/null

# sshd on loopback with a throwaway key.
mkdir -p "$work/ssh" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/host" && ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/id"
cp "$work/ssh/id.pub" "$work/ssh/authorized_keys"
/usr/sbin/sshd -f /dev/null -o Port=2299 -o ListenAddress=127.0.0.1 -o HostKey="$work/ssh/host" \
  -o AuthorizedKeysFile="$work/ssh/authorized_keys" -o PermitRootLogin=yes -o PasswordAuthentication=no \
  -o StrictModes=no -o PidFile="$work/ssh/sshd.pid" -o "Subsystem=sftp /usr/lib/openssh/sftp-server"
sshopt=(-i "$work/ssh/id" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR)
ssh -p 2299 "${sshopt[@]}" root@127.0.0.1 true
cipher=$(ssh -p 2299 "${sshopt[@]}" -v root@127.0.0.1 true 2>&1 | grep -o 'cipher: [^ ]*' | head -1 | cut -d' ' -f2)

# Two haul nodes.
export HAUL_HOME_A="$work/haul-a" HAUL_HOME_B="$work/haul-b"
"$haul" --home "$work/haul-a" init --name bench-a >/dev/null 2>&1
"$haul" --home "$work/haul-b" init --name bench-b >/dev/null 2>&1
start_serve() {
  "$haul" --home "$work/haul-b" serve --listen 127.0.0.1:7499 --inbox "$work/dst-haul" >"$work/serve.log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 100); do grep -q "serving on" "$work/serve.log" 2>/dev/null && break; sleep 0.05; done
}
start_serve
token=$("$haul" --home "$work/haul-b" invite --address 127.0.0.1:7499 2>/dev/null)
"$haul" --home "$work/haul-a" join "$token" >/dev/null

cpu_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
hz=$(getconf CLK_TCK)

# measure NAME SIZE_BYTES FILES CMD...: prints "seconds cpu_seconds client_peak_kb"
measure() {
  local c0 c1 out
  c0=$(cpu_jiffies)
  /usr/bin/time -o "$work/time.out" -f "%e %M" "$@" >/dev/null 2>"$work/cmd.err" || true
  c1=$(cpu_jiffies)
  out=$(tail -1 "$work/time.out")
  if ! grep -qE '^[0-9.]+ [0-9]+$' <<<"$out"; then echo "command failed: $* : $(tail -3 "$work/cmd.err")" >&2; exit 1; fi
  echo "$out $(( c1 - c0 ))"
}

results=()
run_case() {  # label, dataset (big|small), tool
  local label=$1 set=$2 tool=$3 best="" src="$work/src/$2"
  for r in $(seq "$runs"); do
    rm -rf "$work/dst-$tool"; mkdir -p "$work/dst-$tool"
    local peak_b=0 line
    case $tool in
      cp)    line=$(measure cp -r "$src" "$work/dst-cp/") ;;
      scp)   line=$(measure scp -q -r -P 2299 "${sshopt[@]}" "$src" "root@127.0.0.1:$work/dst-scp/") ;;
      rsync) line=$(measure rsync -a -e "ssh -p 2299 ${sshopt[*]}" "$src" "root@127.0.0.1:$work/dst-rsync/") ;;
      haul)
        rm -rf "$work/dst-haul"; kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; start_serve
        line=$(measure "$haul" --home "$work/haul-a" send "$src" bench-b)
        peak_b=$(awk '/VmHWM/{print $2}' "/proc/$serve_pid/status")
        ;;
    esac
    # verify
    local dst="$work/dst-$tool/$set"; [[ $tool == haul ]] && dst="$work/dst-haul/bench-a/$set"
    if ! diff -rq "$src" "$dst" >/dev/null; then echo "$tool produced a different tree: $(tail -3 "$work/cmd.err")" >&2; exit 1; fi
    rm -rf "$work/dst-$tool"   # tmpfs is RAM: keep one copy at a time
    read -r secs peak_a jif <<<"$line"
    if [[ -z "$best" ]] || awk -v a="$secs" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then best="$secs $peak_a $peak_b $jif"; fi
  done
  results+=("$label|$set|$tool|$best")
}

for set in big small; do
  for tool in cp scp rsync haul; do
    echo "running $tool on $set ..." >&2
    run_case "$tool" "$set" "$tool"
  done
done

bytes_big=$(stat -c %s "$work/src/big/model.bin")
bytes_small=$(du -sb "$work/src/small" | cut -f1)
{
  echo "Run: \`bench/core/run.sh --big-gib $big_gib --small-files $small_files --runs $runs\` on $(nproc) cores, $(date -u +%Y-%m-%d), source and destination on $(df --output=fstype "${BENCH_DIR:-/dev/shm}" | tail -1), ssh cipher $cipher, best of $runs."
  echo
  echo "| data | tool | seconds | MB/s | files/s | CPU s (whole machine) | peak RSS sender | peak RSS receiver | time vs haul |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  for set in big small; do
    haul_secs=$(printf '%s\n' "${results[@]}" | awk -F'|' -v s="$set" '$2==s && $3=="haul"{split($4,a," "); print a[1]}')
    for r in "${results[@]}"; do
      IFS='|' read -r label s tool vals <<<"$r"; [[ $s == "$set" ]] || continue
      read -r secs peak_a peak_b jif <<<"$vals"
      if [[ $set == big ]]; then b=$bytes_big; n=1; name="1 × ${big_gib} GiB"; else b=$bytes_small; n=$small_files; name="$small_files × 10 KiB"; fi
      awk -v name="$name" -v tool="$tool" -v secs="$secs" -v b="$b" -v n="$n" -v jif="$jif" -v hz="$hz" -v pa="$peak_a" -v pb="$peak_b" -v hs="$haul_secs" 'BEGIN{
        rb = (tool=="haul") ? sprintf("%.0f MB", pb/1000) : "(sshd side not measured)";
        if (tool=="cp") rb="-";
        printf "| %s | %s | %.2f | %.0f | %.0f | %.1f | %.0f MB | %s | %.2f× |\n", name, tool, secs, b/secs/1e6, n/secs, jif/hz, pa/1000, rb, secs/hs }'
    done
  done
} | tee "$repo/bench/out/core.md"
