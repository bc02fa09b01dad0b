# Sourced by the WAN benchmarks: two network namespaces joined only through haul-netem.
# link_up NS_A NS_B TUN_PREFIX NET PARAMS_FILE LOG: starts the emulator (sets $netem_pid), moves one TUN
# device into each namespace and addresses them NET.1 (A, the sender) and NET.2 (B); returns once A
# reaches B. ssh_up NS_B ADDR DIR: an sshd in NS_B on ADDR:22 with a fresh host key and client key
# (DIR/id) for scp, rsync and rclone (sftp).
link_up() {
  local a=$1 b=$2 tun=$3 net=$4 params=$5 log=$6
  ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true
  ip netns add "$a"; ip netns add "$b"
  "$repo/.build/netem/haul-netem" "$tun-a" "$tun-b" "$params" 2>"$log" &
  netem_pid=$!
  for _ in $(seq 50); do grep -q ready "$log" 2>/dev/null && break; sleep 0.1; done
  ip link set "$tun-a" netns "$a"; ip link set "$tun-b" netns "$b"
  ip -n "$a" addr add "$net.1/24" dev "$tun-a"; ip -n "$b" addr add "$net.2/24" dev "$tun-b"
  ip -n "$a" link set lo up; ip -n "$b" link set lo up
  ip -n "$a" link set "$tun-a" up mtu 1500; ip -n "$b" link set "$tun-b" up mtu 1500
  ip netns exec "$a" ping -c 2 -i 0.2 -q "$net.2" >/dev/null
}

ssh_up() {
  local b=$1 addr=$2 dir=$3
  mkdir -p "$dir" /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$dir/host"; ssh-keygen -q -t ed25519 -N '' -f "$dir/id"
  cp "$dir/id.pub" "$dir/authorized_keys"
  ip netns exec "$b" /usr/sbin/sshd -f /dev/null -o Port=22 -o ListenAddress="$addr" -o HostKey="$dir/host" \
    -o AuthorizedKeysFile="$dir/authorized_keys" -o PermitRootLogin=yes -o PasswordAuthentication=no -o StrictModes=no \
    -o PidFile="$dir/sshd.pid" -o "Subsystem=sftp /usr/lib/openssh/sftp-server"
}

# link_down NS_A NS_B: stops the emulator and everything in both namespaces, and removes them.
link_down() {
  [[ -n "${netem_pid:-}" ]] && kill "$netem_pid"
  ip netns pids "$1" 2>/dev/null | xargs -r kill; ip netns pids "$2" 2>/dev/null | xargs -r kill
  ip netns del "$1"; ip netns del "$2"
}
