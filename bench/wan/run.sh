#!/usr/bin/env bash
# WAN benchmark (issue #3): every tool crosses the same emulated link between two network
# namespaces (haul-netem on TUN devices; this kernel has no tc netem). For each point of the
# matrix, one file is sent with haul, scp, rsync over ssh, rclone (sftp) and measured against an
# iperf3 TCP run. Tools that cannot finish within --seconds are stopped and credited with the
# bytes that landed. Prints a markdown table (also bench/out/wan.md) and, when matplotlib is
# available, draws bench/out/wan.png.
# Usage: bench/wan/run.sh [--size-mib 1024] [--seconds 60] [--haul-seconds 300] [--points "RATE:RTT:LOSS ..."]
# (haul gets its own cap so it can finish the file; TCP tools at long RTT would need hours.)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
size_mib=1024 seconds=60 haul_seconds=300
points="100:1:0 100:1:0.01 100:1:0.05 100:50:0 100:50:0.01 100:50:0.05 100:200:0 100:200:0.01 100:200:0.05 100:600:0 100:600:0.01 100:600:0.05 1000:50:0"
tools="haul scp rsync rclone iperf3"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-mib) size_mib=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --haul-seconds) haul_seconds=$2; shift 2 ;;
    --points) points=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

need=()
for c in iperf3 rsync rclone ping; do command -v $c >/dev/null || need+=("$c"); done
[[ " ${need[*]} " == *" ping "* ]] && need=("${need[@]/ping/iputils-ping}")
[[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || need+=(python3-matplotlib)
if ((${#need[@]})); then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi

"$repo/haul" --help >/dev/null
haul="$repo/.build/haul/haul"
dotnet build "$here/NetEm/NetEm.csproj" -c Release -o "$repo/.build/netem" --nologo -v quiet >&2
work="/dev/shm/haul-wan-$$"
mkdir -p "$work" "$repo/bench/out"
A=hwan-a B=hwan-b
cleanup() {
  set +e
  [[ -n "${netem_pid:-}" ]] && kill "$netem_pid"
  ip netns pids $A 2>/dev/null | xargs -r kill; ip netns pids $B 2>/dev/null | xargs -r kill
  ip netns del $A; ip netns del $B
  rm -rf "$work"
}
trap cleanup EXIT

# Two hosts joined only through the emulator: 10.77.0.1 (sender) and 10.77.0.2 (receiver).
ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true
ip netns add $A; ip netns add $B
setp() { echo "$(awk -v r="$1" 'BEGIN{print r*1e6}') $(awk -v d="$2" 'BEGIN{print d/2}') $3 $(awk -v r="$1" -v d="$2" 'BEGIN{q=r*1e6/8*d/1000; if(q<256000)q=256000; print q}')" > "$work/params"; sleep 0.5; }
setp 100 50 0
"$repo/.build/netem/haul-netem" hwtun-a hwtun-b "$work/params" 2>"$work/netem.log" &
netem_pid=$!
for _ in $(seq 50); do grep -q ready "$work/netem.log" 2>/dev/null && break; sleep 0.1; done
ip link set hwtun-a netns $A; ip link set hwtun-b netns $B
ip -n $A addr add 10.77.0.1/24 dev hwtun-a; ip -n $B addr add 10.77.0.2/24 dev hwtun-b
for ns in $A $B; do ip -n $ns link set lo up; done
ip -n $A link set hwtun-a up mtu 1500; ip -n $B link set hwtun-b up mtu 1500
ip netns exec $A ping -c 2 -i 0.2 -q 10.77.0.2 >/dev/null

# Receiver side: sshd (scp, rsync, rclone), iperf3, a haul node.
mkdir -p "$work/ssh" /run/sshd "$work/dst"
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/host"; ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/id"
cp "$work/ssh/id.pub" "$work/ssh/authorized_keys"
ip netns exec $B /usr/sbin/sshd -f /dev/null -o Port=22 -o ListenAddress=10.77.0.2 -o HostKey="$work/ssh/host" \
  -o AuthorizedKeysFile="$work/ssh/authorized_keys" -o PermitRootLogin=yes -o PasswordAuthentication=no -o StrictModes=no \
  -o PidFile="$work/ssh/sshd.pid" -o "Subsystem=sftp /usr/lib/openssh/sftp-server"
sshopt=(-i "$work/ssh/id" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR)
ip netns exec $B iperf3 -s -D -B 10.77.0.2 >/dev/null
"$haul" --home "$work/ha" init --name edge >/dev/null 2>&1; "$haul" --home "$work/hb" init --name hub >/dev/null 2>&1
"$haul" --home "$work/ha" peer add "$("$haul" --home "$work/hb" id)" 10.77.0.2:7400 --name hub >/dev/null
"$haul" --home "$work/hb" peer add "$("$haul" --home "$work/ha" id)" --name edge >/dev/null
ip netns exec $B "$haul" --home "$work/hb" serve --listen 10.77.0.2:7400 --inbox "$work/dst/haul" >"$work/serve.log" 2>&1 &
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/model.bin"
size=$(stat -c %s "$work/model.bin")

# run TOOL: prints "seconds bytes"
run() {
  local tool=$1 t0 t1 bytes
  rm -rf "$work/dst/$tool"; mkdir -p "$work/dst/$tool"
  t0=$(date +%s.%N)
  case $tool in
    haul) ip netns exec $A timeout -s KILL "$haul_seconds" "$haul" --home "$work/ha" send "$work/model.bin" hub --json >"$work/haul.out" 2>&1 || true ;;
    scp) ip netns exec $A timeout -s KILL "$seconds" scp -q "${sshopt[@]}" "$work/model.bin" "root@10.77.0.2:$work/dst/scp/" || true ;;
    rsync) ip netns exec $A timeout -s KILL "$seconds" rsync -a --inplace -e "ssh ${sshopt[*]}" "$work/model.bin" "root@10.77.0.2:$work/dst/rsync/" || true ;;
    rclone) ip netns exec $A timeout -s KILL "$seconds" rclone copy --sftp-host 10.77.0.2 --sftp-user root --sftp-key-file "$work/ssh/id" \
              --sftp-set-modtime=false "$work/model.bin" ":sftp:$work/dst/rclone/" 2>/dev/null || true ;;
    iperf3) ip netns exec $A iperf3 -c 10.77.0.2 -t "$((seconds < 30 ? seconds : 30))" -J >"$work/iperf.json" 2>/dev/null || true ;;
  esac
  t1=$(date +%s.%N)
  case $tool in
    haul)
      if grep -q '"type":"result"' "$work/haul.out"; then bytes=$size
      else bytes=$(grep '"type":"progress"' "$work/haul.out" | tail -1 | sed -E 's/.*"bytes":([0-9]+).*/\1/'); bytes=${bytes:-0}; fi ;;
    iperf3)
      python3 - "$work/iperf.json" <<'PY'
import json,sys
d=json.load(open(sys.argv[1])); s=d["end"]["sum_received"]; print(s["seconds"], int(s["bytes"]))
PY
      return ;;
    *) bytes=$(du -sb "$work/dst/$tool" | cut -f1) ;;
  esac
  rm -rf "$work/dst/$tool" "$work/dst/haul"
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}') $bytes"
}

results="$repo/bench/out/wan.csv"
echo "point,tool,seconds,bytes,mbps" > "$results"
for p in $points; do
  IFS=: read -r rate rtt loss <<<"$p"
  setp "$rate" "$rtt" "$loss"
  for tool in $tools; do
    echo "rate ${rate} Mbit/s, RTT ${rtt} ms, loss ${loss}: $tool ..." >&2
    read -r secs bytes <<<"$(run "$tool")"
    echo "$p,$tool,$secs,$bytes,$(awk -v b="$bytes" -v s="$secs" 'BEGIN{printf "%.1f", b*8/s/1e6}')" >> "$results"
  done
done
/usr/bin/python3 "$here/report.py" "$results" "$repo/bench/out" "$size_mib" "$seconds" "$haul_seconds"
