#!/usr/bin/env bash
# Sync over an emulated WAN (issue #4): a local folder synced into a peer's shared folder across the
# IP-level link emulator of bench/wan (haul-netem on TUN devices between two network namespaces), side
# by side with rsync -a over ssh and rclone sync over sftp, all crossing the same link:
#   1. FILES small files (default 20,000 of 10 KiB): first sync, files per second;
#   2. 1% of those files rewritten: bytes on the wire against the bytes changed;
#   3. one byte inserted at the start of a BIG_MIB file (default 1024): bytes re-sent.
# Prints a markdown table (also bench/out/sync-wan.md).
# Usage: bench/sync/wan.sh [--rate-mbit 1000] [--rtt-ms 50] [--files 20000] [--file-kib 10] [--big-mib 1024] [--seconds 120] [--binary PATH]
#                          [--fastopen on|off]
# (--binary: the haul to run, e.g. the Native AOT one from packaging/publish.sh; default the ./haul build.)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
rate=1000 rtt=50 files=20000 kib=10 big_mib=1024 seconds=120 fastopen=on
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rate-mbit) rate=$2; shift 2 ;;
    --rtt-ms) rtt=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --file-kib) kib=$2; shift 2 ;;
    --big-mib) big_mib=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --binary) binary=$(realpath "$2"); shift 2 ;;
    --fastopen) fastopen=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $fastopen == on || $fastopen == off ]] || { echo "bad --fastopen '$fastopen': expected on or off" >&2; exit 2; }
need=()
for c in rsync rclone ping nft; do command -v $c >/dev/null || need+=("$c"); done
[[ " ${need[*]} " == *" nft "* ]] && need=("${need[@]/nft/nftables}")
[[ " ${need[*]} " == *" ping "* ]] && need=("${need[@]/ping/iputils-ping}")
[[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
if ((${#need[@]})); then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi
if [[ -n "${binary:-}" ]]; then haul=$binary; else "$repo/haul" --help >/dev/null; haul="$repo/.build/haul/haul"; fi
dotnet build "$repo/bench/wan/NetEm/NetEm.csproj" -c Release -o "$repo/.build/netem" --nologo -v quiet >&2
work="/dev/shm/haul-syncwan-$$"
mkdir -p "$work" "$repo/bench/out"
A=hsync-a B=hsync-b
export RCLONE_CONFIG=/dev/null
. "$repo/bench/wan/link.sh"
. "$repo/bench/sync/lib.sh"
cleanup() {
  set +e
  link_down $A $B
  rm -rf "$work"
}
trap cleanup EXIT

sync_link $A $B hstun 10.78.0 "$rate" "$rtt" "$work"
# TCP Fast Open on the hub, as packaging/60-haul.conf sets for a node that serves (as in bench/wan/run.sh):
# haul's TLS handshakes end one round trip after the dial once the edge holds the hub's cookie. ssh does
# not use it, so rsync and rclone are unaffected. --fastopen off measures without it.
ip netns exec $B sysctl -qw net.ipv4.tcp_fastopen=$([[ $fastopen == on ]] && echo 3 || echo 1)
mkdir -p "$work/dst"
ssh_up $B 10.78.0.2 "$work/ssh"
ssh_e="ssh -i $work/ssh/id -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"
rcl=(--sftp-host 10.78.0.2 --sftp-user root --sftp-key-file "$work/ssh/id")

# Two haul nodes: the edge (sender) and the hub, which shares a folder with it read-write.
haul_hub "$haul" "$work" 10.78.0.2 "$work/dst/haul" $B
# One small send into the hub's inbox first, so the edge holds the hub's Fast Open cookie, as an edge
# that synced before does (a nightly job); with --fastopen off it is just a small send.
head -c 4096 /dev/urandom > "$work/warm.bin"
ip netns exec $A "$haul" --home "$work/ha" send "$work/warm.bin" hub >/dev/null 2>&1 || true

make_tree "$work/src" "$files" "$kib"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }
count() { find "$1" -type f 2>/dev/null | wc -l; }
# Bytes that left the sender's namespace (IP level, both the payload and every protocol's overhead).
txbytes() { ip netns exec $A cat /sys/class/net/hstun-a/statistics/tx_bytes; }
# The same bytes split by protocol, as they arrive at the hub's interface (one count per IP packet, after
# the sender's GSO batches were cut into packets; the link loses nothing): haul's data channel is UDP, its
# control channel (TLS: listing, manifest, plan) TCP.
ip netns exec $B nft -f - <<NFT
table netdev haulcount {
  chain in {
    type filter hook ingress device "hstun-b" priority 0; policy accept;
    ip protocol udp counter comment "udp"
    ip protocol tcp counter comment "tcp"
  }
}
NFT
protobytes() { ip netns exec $B nft list chain netdev haulcount in | sed -nE "s/.*bytes ([0-9]+) comment \"$1\".*/\1/p"; }

declare -A secs got
echo "first sync of $files files ..." >&2
t0=$(now); ip netns exec $A timeout -s KILL "$seconds" "$haul" --home "$work/ha" sync "$work/src" hub:incoming/src -q || true; secs[haul]=$(elapsed "$t0"); got[haul]=$(count "$work/dst/haul/src")
t0=$(now); ip netns exec $A timeout -s KILL "$seconds" rsync -a -e "$ssh_e" "$work/src/" root@10.78.0.2:"$work/dst/rsync/" || true; secs[rsync]=$(elapsed "$t0"); got[rsync]=$(count "$work/dst/rsync")
t0=$(now); ip netns exec $A timeout -s KILL "$seconds" rclone sync "${rcl[@]}" "$work/src" ":sftp:$work/dst/rclone" 2>/dev/null || true; secs[rclone]=$(elapsed "$t0"); got[rclone]=$(count "$work/dst/rclone")

echo "1% of the files changed ..." >&2
python3 - "$work/src" "$files" "$kib" <<'PY'
import os, sys
root, n, kib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(0, n, 100):
    with open(f"{root}/d{i // 1000:03}/f{i % 1000:04}.bin", "wb") as f: f.write(os.urandom(kib * 1024))
PY
changed=$(( files / 100 * kib * 1024 ))
declare -A wire
b0=$(txbytes); u0=$(protobytes udp); c0=$(protobytes tcp)
ip netns exec $A "$haul" --home "$work/ha" sync "$work/src" hub:incoming/src --json -q > "$work/haul-1pct.json"; wire[haul]=$(( $(txbytes) - b0 ))
haul_udp=$(( $(protobytes udp) - u0 )) haul_tcp=$(( $(protobytes tcp) - c0 ))
haul_sent=$(sed -nE 's/.*"sentBytes":([0-9]+).*/\1/p' "$work/haul-1pct.json")
b0=$(txbytes); ip netns exec $A rsync -a -e "$ssh_e" "$work/src/" root@10.78.0.2:"$work/dst/rsync/"; wire[rsync]=$(( $(txbytes) - b0 ))
if [[ ${got[rclone]} -eq $files ]]; then b0=$(txbytes); ip netns exec $A timeout -s KILL "$seconds" rclone sync "${rcl[@]}" "$work/src" ":sftp:$work/dst/rclone" 2>/dev/null || true; wire[rclone]=$(( $(txbytes) - b0 )); else wire[rclone]=-1; fi

echo "one byte inserted into a $big_mib MiB file ..." >&2
rm -rf "$work/src"; mkdir -p "$work/big"
head -c $((big_mib * 1024 * 1024)) /dev/urandom > "$work/big/model.bin"
ip netns exec $A "$haul" --home "$work/ha" sync "$work/big" hub:incoming/big -q
ip netns exec $A rsync -a -e "$ssh_e" "$work/big/" root@10.78.0.2:"$work/dst/rsync-big/"
ip netns exec $A timeout -s KILL "$((seconds * 3))" rclone sync "${rcl[@]}" "$work/big" ":sftp:$work/dst/rclone-big" 2>/dev/null || true
{ printf 'X'; cat "$work/big/model.bin"; } > "$work/big/model.new" && mv "$work/big/model.new" "$work/big/model.bin"
declare -A ins inssecs
b0=$(txbytes); t0=$(now); ip netns exec $A "$haul" --home "$work/ha" sync "$work/big" hub:incoming/big --json -q > "$work/haul-insert.json"; inssecs[haul]=$(elapsed "$t0"); ins[haul]=$(( $(txbytes) - b0 ))
haul_ins=$(sed -nE 's/.*"sentBytes":([0-9]+).*/\1/p' "$work/haul-insert.json")
b0=$(txbytes); t0=$(now); ip netns exec $A rsync -a -e "$ssh_e" "$work/big/" root@10.78.0.2:"$work/dst/rsync-big/"; inssecs[rsync]=$(elapsed "$t0"); ins[rsync]=$(( $(txbytes) - b0 ))
b0=$(txbytes); t0=$(now); ip netns exec $A timeout -s KILL "$((seconds * 3))" rclone sync "${rcl[@]}" "$work/big" ":sftp:$work/dst/rclone-big" 2>/dev/null || true; inssecs[rclone]=$(elapsed "$t0"); ins[rclone]=$(( $(txbytes) - b0 ))
cmp -s "$work/big/model.bin" "$work/dst/haul/big/model.bin" || { echo "haul's copy of the big file differs" >&2; exit 1; }

out="$repo/bench/out/sync-wan.md"
mib() { awk -v b="$1" 'BEGIN{ if (b < 0) print "n/a"; else printf "%.2f", b/1048576 }'; }
{
  echo "Run: \`bench/sync/wan.sh --rate-mbit $rate --rtt-ms $rtt --files $files --file-kib $kib --big-mib $big_mib --seconds $seconds --fastopen $fastopen\` (emulated ${rate} Mbit/s, ${rtt} ms RTT, no loss; bytes counted at the sender's interface, so every protocol's overhead is included)."
  echo
  echo "| measure | haul (peer folder) | rsync -a over ssh | rclone sync (sftp) |"
  echo "|---|---:|---:|---:|"
  printf '| first sync of %d files of %d KiB: files landed in s (files/s) | %d in %s (%s) | %d in %s (%s) | %d in %s (%s) |\n' "$files" "$kib" \
    "${got[haul]}" "${secs[haul]}" "$(awk -v n="${got[haul]}" -v s="${secs[haul]}" 'BEGIN{printf "%.0f", n/s}')" \
    "${got[rsync]}" "${secs[rsync]}" "$(awk -v n="${got[rsync]}" -v s="${secs[rsync]}" 'BEGIN{printf "%.0f", n/s}')" \
    "${got[rclone]}" "${secs[rclone]}" "$(awk -v n="${got[rclone]}" -v s="${secs[rclone]}" 'BEGIN{printf "%.0f", n/s}')"
  printf '| 1%% changed (%s MiB): MiB on the wire (÷ changed) | %s (%s) | %s (%s) | %s |\n' "$(mib $changed)" \
    "$(mib "${wire[haul]}")" "$(awk -v a="${wire[haul]}" -v b="$changed" 'BEGIN{printf "%.3f", a/b}')" \
    "$(mib "${wire[rsync]}")" "$(awk -v a="${wire[rsync]}" -v b="$changed" 'BEGIN{printf "%.3f", a/b}')" "$(mib "${wire[rclone]}")"
  printf '| 1%% changed: haul chunk bytes sent ÷ changed | %s | | |\n' "$(awk -v a="${haul_sent:-0}" -v b="$changed" 'BEGIN{printf "%.3f", a/b}')"
  printf '| 1%% changed: haul data channel (UDP, IP level) ÷ changed; control channel (TCP, IP level) | %s; %s KiB | | |\n' \
    "$(awk -v a="$haul_udp" -v b="$changed" 'BEGIN{printf "%.3f", a/b}')" "$(awk -v a="$haul_tcp" 'BEGIN{printf "%.1f", a/1024}')"
  printf '| 1 byte inserted at the start of %d MiB: MiB on the wire (seconds) | %s (%s) | %s (%s) | %s (%s) |\n' "$big_mib" \
    "$(mib "${ins[haul]}")" "${inssecs[haul]}" "$(mib "${ins[rsync]}")" "${inssecs[rsync]}" "$(mib "${ins[rclone]}")" "${inssecs[rclone]}"
  printf '| 1 byte inserted: haul chunk bytes re-sent | %s MiB | | |\n' "$(mib "${haul_ins:-0}")"
} > "$out"
cat "$out"
