# Sourced by bench/sync/wan.sh and bench/sync/ab.sh (after bench/wan/link.sh, with $repo set).
# sync_link NS_A NS_B TUN NET RATE_MBIT RTT_MS WORK: the emulated link of the sync benchmarks: RATE
#   Mbit/s, RTT ms, no loss, a queue of one bandwidth-delay product (at least 256 kB).
# make_tree ROOT FILES KIB: FILES random files of KIB KiB, a thousand to a directory.
# haul_hub HAUL WORK ADDR DST NS_B: two nodes, WORK/ha (the edge, sender) and WORK/hb (the hub), paired,
#   the hub sharing DST as folder "incoming" with the edge read-write and serving on ADDR:7400 in NS_B
#   (log WORK/serve.log; $hub_pid); returns once it serves.
sync_link() {
  local a=$1 b=$2 tun=$3 net=$4 rate=$5 rtt=$6 work=$7
  awk -v r="$rate" -v d="$rtt" 'BEGIN{q=r*1e6/8*d/1000; if(q<256000)q=256000; print r*1e6, d/2, 0, q}' > "$work/params"
  link_up "$a" "$b" "$tun" "$net" "$work/params" "$work/netem.log"
}

make_tree() {
  python3 - "$1" "$2" "$3" <<'PY'
import os, sys
root, n, kib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    d = f"{root}/d{i // 1000:03}"
    if i % 1000 == 0: os.makedirs(d, exist_ok=True)
    with open(f"{d}/f{i % 1000:04}.bin", "wb") as f: f.write(os.urandom(kib * 1024))
PY
}

haul_hub() {
  local haul=$1 work=$2 addr=$3 dst=$4 b=$5
  mkdir -p "$dst"
  "$haul" --home "$work/ha" init --name edge >/dev/null 2>&1; "$haul" --home "$work/hb" init --name hub >/dev/null 2>&1
  "$haul" --home "$work/ha" peer add "$("$haul" --home "$work/hb" id)" "$addr:7400" --name hub >/dev/null
  "$haul" --home "$work/hb" peer add "$("$haul" --home "$work/ha" id)" --name edge >/dev/null
  "$haul" --home "$work/hb" folder add incoming "$dst" --share edge:rw >/dev/null
  ip netns exec "$b" "$haul" --home "$work/hb" serve --listen "$addr:7400" >"$work/serve.log" 2>&1 &
  hub_pid=$!
  for _ in $(seq 50); do grep -q serving "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
}
