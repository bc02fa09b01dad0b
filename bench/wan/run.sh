#!/usr/bin/env bash
# WAN benchmark (issue #3): every tool crosses the same emulated link between two network
# namespaces (haul-netem on TUN devices; this kernel has no tc netem). For each point of the
# matrix, one file is sent with haul, scp, rsync over ssh, rclone (sftp) and measured against an
# iperf3 TCP run. Tools that cannot finish within --seconds are stopped and credited with the
# bytes that landed. Prints a markdown table (also bench/out/wan.md) and, when matplotlib is
# available, draws bench/out/wan.png.
# Usage: bench/wan/run.sh [--size-mib 1024] [--seconds 60] [--haul-seconds 300] [--points "RATE:RTT:LOSS ..."]
#                         [--tools "haul scp ..."] [--extras "RATE:RTT:LOSS ..." | --extras none] [--binary PATH]
#                         [--fastopen on|off]
# (--binary: the haul to run, e.g. the Native AOT one from packaging/publish.sh; default the ./haul build.)
# (haul gets its own cap so it can finish the file; TCP tools at long RTT would need hours.)
# Every haul run also reports its cold start (seconds until one second of goodput reaches 90% of
# (1 - loss) x rate) and retransmitted packets as a share of packets sent. At each --extras point:
# two haul flows (the second 5 s later) and their shares; a fair and a background haul flow each
# beside an iperf3 TCP flow, against that TCP flow's solo throughput (bench/out/wan-extras.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
size_mib=1024 seconds=60 haul_seconds=300 fastopen=on
points="100:1:0 100:1:0.01 100:1:0.05 100:50:0 100:50:0.01 100:50:0.05 100:200:0 100:200:0.01 100:200:0.05 100:600:0 100:600:0.01 100:600:0.05 1000:50:0"
tools="haul scp rsync rclone iperf3"
extras="100:50:0 100:200:0"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-mib) size_mib=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --haul-seconds) haul_seconds=$2; shift 2 ;;
    --points) points=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    --extras) extras=$2; [[ $extras == none ]] && extras=""; shift 2 ;;
    --binary) binary=$(realpath "$2"); shift 2 ;;
    --fastopen) fastopen=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

# A point is RATE(Mbit/s):RTT(ms):LOSS, the loss a fraction (0.01 is 1%): "100:600:1" would drop
# every packet and every tool would time out, so it is refused here.
for p in $points $extras; do
  if ! [[ $p =~ ^[0-9]+:[0-9]+:(0|0?\.[0-9]+)$ ]]; then
    echo "bad point '$p': expected RATE:RTT:LOSS with LOSS a fraction below 1 (100:600:0.01 is 100 Mbit/s, 600 ms, 1%)" >&2
    exit 2
  fi
done
[[ $fastopen == on || $fastopen == off ]] || { echo "bad --fastopen '$fastopen': expected on or off" >&2; exit 2; }

need=()
for c in iperf3 rsync rclone ping; do command -v $c >/dev/null || need+=("$c"); done
[[ " ${need[*]} " == *" ping "* ]] && need=("${need[@]/ping/iputils-ping}")
[[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || need+=(python3-matplotlib)
if ((${#need[@]})); then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi

if [[ -n "${binary:-}" ]]; then haul=$binary; else "$repo/haul" --help >/dev/null; haul="$repo/.build/haul/haul"; fi
dotnet build "$here/NetEm/NetEm.csproj" -c Release -o "$repo/.build/netem" --nologo -v quiet >&2
work="/dev/shm/haul-wan-$$"
mkdir -p "$work" "$repo/bench/out"
A=hwan-a B=hwan-b
. "$here/link.sh"
cleanup() {
  set +e
  link_down $A $B
  rm -rf "$work"
}
trap cleanup EXIT

# Two hosts joined only through the emulator: 10.77.0.1 (sender) and 10.77.0.2 (receiver).
setp() { echo "$(awk -v r="$1" 'BEGIN{print r*1e6}') $(awk -v d="$2" 'BEGIN{print d/2}') $3 $(awk -v r="$1" -v d="$2" 'BEGIN{q=r*1e6/8*d/1000; if(q<256000)q=256000; print q}')" > "$work/params"; sleep 0.5; }
setp 100 50 0
link_up $A $B hwtun 10.77.0 "$work/params" "$work/netem.log"
# TCP Fast Open on the receiving host, as packaging/60-haul.conf sets for a node that serves (the
# sender's kernel allows it by default): haul's TLS handshake then ends one round trip after the dial. ssh
# does not use Fast Open, so the TCP tools are unaffected. --fastopen off measures without it.
ip netns exec $B sysctl -qw net.ipv4.tcp_fastopen=$([[ $fastopen == on ]] && echo 3 || echo 1)

# Receiver side: sshd (scp, rsync, rclone), iperf3, a haul node.
mkdir -p "$work/dst"
ssh_up $B 10.77.0.2 "$work/ssh"
sshopt=(-i "$work/ssh/id" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR)
ip netns exec $B iperf3 -s -D -B 10.77.0.2 >/dev/null
"$haul" --home "$work/ha" init --name edge >/dev/null 2>&1; "$haul" --home "$work/hb" init --name hub >/dev/null 2>&1
"$haul" --home "$work/ha" peer add "$("$haul" --home "$work/hb" id)" 10.77.0.2:7400 --name hub >/dev/null
"$haul" --home "$work/hb" peer add "$("$haul" --home "$work/ha" id)" --name edge >/dev/null
# A second sending node for the two-flow runs.
"$haul" --home "$work/ha2" init --name edge2 >/dev/null 2>&1
"$haul" --home "$work/ha2" peer add "$("$haul" --home "$work/hb" id)" 10.77.0.2:7400 --name hub >/dev/null
"$haul" --home "$work/hb" peer add "$("$haul" --home "$work/ha2" id)" --name edge2 >/dev/null
ip netns exec $B "$haul" --home "$work/hb" serve --listen 10.77.0.2:7400 --inbox "$work/dst/haul" >"$work/serve.log" 2>&1 &
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/model.bin"
[[ -n "$extras" ]] && head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/model2.bin"
mkdir -p "$work/runs"
# One small send first (1 ms RTT), so the sender holds the server's Fast Open cookie, as any sender that
# has connected to that server before does; with --fastopen off it is just a small send.
setp 100 1 0; head -c 4096 /dev/urandom > "$work/warm.bin"
ip netns exec $A "$haul" --home "$work/ha" send "$work/warm.bin" hub >/dev/null 2>&1 || true
ip netns exec $A "$haul" --home "$work/ha2" send "$work/warm.bin" hub >/dev/null 2>&1 || true
rm -rf "$work/dst/haul"
size=$(stat -c %s "$work/model.bin")

# run TOOL: prints "seconds bytes"
run() {
  local tool=$1 t0 t1 bytes
  rm -rf "$work/dst/$tool"; mkdir -p "$work/dst/$tool"
  t0=$(date +%s.%N)
  case $tool in
    haul) ip netns exec $A timeout -s KILL "$haul_seconds" "$haul" --home "$work/ha" send "$work/model.bin" hub --json >"$work/haul.out" 2>&1 || true
          cp "$work/haul.out" "$work/runs/haul-$cur.out"
          if [[ -n "${HAUL_KEEP:-}" ]]; then cp "$work/haul.out" "$HAUL_KEEP-$cur.out"; tail -n 5 "$work/serve.log" > "$HAUL_KEEP-$cur.serve.log"; fi ;;
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

results="$repo/bench/out/wan.csv" haulstats="$repo/bench/out/wan-haul.csv"
echo "point,tool,seconds,bytes,mbps" > "$results"
echo "point,coldstart_s,retx_pct" > "$haulstats"
for p in $points; do
  IFS=: read -r rate rtt loss <<<"$p"
  setp "$rate" "$rtt" "$loss"
  cur="$rate-$rtt-$loss"
  for tool in $tools; do
    echo "rate ${rate} Mbit/s, RTT ${rtt} ms, loss ${loss}: $tool ..." >&2
    read -r secs bytes <<<"$(run "$tool")"
    echo "$p,$tool,$secs,$bytes,$(awk -v b="$bytes" -v s="$secs" 'BEGIN{printf "%.1f", b*8/s/1e6}')" >> "$results"
    if [[ $tool == haul ]]; then
      read -r cs rx <<<"$(python3 "$here/flows.py" solo "$work/runs/haul-$cur.out" "$rate" "$loss")"
      echo "$p,$cs,$rx" >> "$haulstats"
    fi
  done
done
[[ -n "$points" ]] && /usr/bin/python3 "$here/report.py" "$results" "$repo/bench/out" "$size_mib" "$seconds" "$haul_seconds" "$haulstats"

# Extras: competing flows. now_s: seconds on a shared clock.
now_s() { date +%s.%N; }
iperf_mbps() { python3 "$here/flows.py" iperf "$1" 2>/dev/null || echo 0; }
haul_bg() { # HOME FILE MODE SECONDS OUT: a haul send in the background, stopped after SECONDS
  ip netns exec $A timeout -s KILL "$4" "$haul" --home "$1" send "$2" hub --json --mode "$3" >"$5" 2>&1 &
}
if [[ -n "$extras" ]]; then
  cc=$(ip netns exec $A sysctl -n net.ipv4.tcp_congestion_control)
  ext="$repo/bench/out/wan-extras.md"
  { echo "Competing flows (iperf3 TCP uses the kernel's $cc). Two-flow shares are measured from 25 s after the second flow starts to 90 s (convergence at 200 ms RTT takes tens of rounds), the TCP runs over the 20 s of iperf3."
    echo
    echo "| link | RTT | loss | two haul flows: A / B Mbit/s | A share | TCP solo | TCP + haul fair (haul) | TCP kept | TCP + haul background (haul) | TCP kept |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"; } > "$ext"
  for p in $extras; do
    IFS=: read -r rate rtt loss <<<"$p"
    setp "$rate" "$rtt" "$loss"
    echo "extras at $p: two haul flows ..." >&2
    t0=$(now_s); haul_bg "$work/ha" "$work/model.bin" fair 95 "$work/two-a.out"; pa=$!
    sleep 5; t1=$(now_s); haul_bg "$work/ha2" "$work/model2.bin" fair 90 "$work/two-b.out"; pb=$!
    wait $pa $pb || true
    [[ -n "${HAUL_KEEP:-}" ]] && cp "$work/two-a.out" "$HAUL_KEEP-two-a-$p.out" && cp "$work/two-b.out" "$HAUL_KEEP-two-b-$p.out"
    w0=$(awk -v a="$t1" -v b="$t0" 'BEGIN{print a-b+25}'); w1=90
    fa=$(python3 "$here/flows.py" window "$work/two-a.out" 0 "$w0" "$w1")
    fb=$(python3 "$here/flows.py" window "$work/two-b.out" "$(awk -v a="$t1" -v b="$t0" 'BEGIN{print a-b}')" "$w0" "$w1")
    rm -rf "$work/dst/haul"
    echo "extras at $p: iperf3 solo, then beside haul fair and background ..." >&2
    ip netns exec $A iperf3 -c 10.77.0.2 -t 20 -J >"$work/ip-solo.json" 2>/dev/null || true
    solo=$(iperf_mbps "$work/ip-solo.json")
    declare -A beside=() hrate=()
    for mode in fair background; do
      t0=$(now_s); haul_bg "$work/ha" "$work/model.bin" "$mode" 40 "$work/with-$mode.out"; ph=$!
      sleep 10; t1=$(now_s)
      ip netns exec $A iperf3 -c 10.77.0.2 -t 20 -J >"$work/ip-$mode.json" 2>/dev/null || true
      t2=$(now_s); wait $ph || true
      beside[$mode]=$(iperf_mbps "$work/ip-$mode.json")
      hrate[$mode]=$(python3 "$here/flows.py" window "$work/with-$mode.out" 0 "$(awk -v a="$t1" -v b="$t0" 'BEGIN{print a-b}')" "$(awk -v a="$t2" -v b="$t0" 'BEGIN{print a-b}')")
      rm -rf "$work/dst/haul"
    done
    awk -v r="$rate" -v d="$rtt" -v l="$loss" -v a="$fa" -v b="$fb" -v s="$solo" -v tf="${beside[fair]}" -v hf="${hrate[fair]}" -v tb="${beside[background]}" -v hb="${hrate[background]}" \
      'BEGIN{printf "| %s Mbit/s | %s ms | %g%% | %.1f / %.1f | %.0f%% | %.1f | %.1f (%.1f) | %.0f%% | %.1f (%.1f) | %.0f%% |\n", r, d, l*100, a, b, 100*a/(a+b+1e-9), s, tf, hf, 100*tf/(s+1e-9), tb, hb, 100*tb/(s+1e-9)}' >> "$ext"
  done
  cat "$ext"
fi
