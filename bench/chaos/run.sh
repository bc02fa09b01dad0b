#!/usr/bin/env bash
# Fault injection against two real nodes on loopback: kill -9 at random moments, the link cut, a full
# disk, a read-only target, a source that changes mid-send. After every fault the invariants are
# checked; at the end each scenario must finish byte-identical with nothing left behind.
#
#   bench/chaos/run.sh [--rounds 50] [--size-mib 400] [--files 5000] [--cuts "10 60"] [--binary PATH]
#                      [--only kill,sync,cut,diskfull,readonly,changing] [--seed N]
#
# Invariants (each a FAIL line when broken; exit 1 if any broke):
#   - a file present at its final path is byte-identical to the source (placement is atomic);
#   - a send that exited 0 holds a receipt and the whole tree is on disk, identical, at that moment;
#   - after the last run: trees identical, no .haul-partial / .haul-tmp-* left, every receipt's tree present.
# Needs root for the nftables link cut and the tmpfs mounts (those scenarios are skipped otherwise).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
rounds=50 size_mib=400 files=5000 cuts="10 60" only="kill,sync,cut,diskfull,readonly,changing" seed=$RANDOM haul=""
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --size-mib) size_mib=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --cuts) cuts=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --binary) haul=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--size-mib N] [--files N] [--cuts \"10 60 600\"] [--only LIST] [--seed N] [--binary PATH]" >&2; exit 2 ;;
  esac
done
RANDOM=$seed
if [[ -z $haul ]]; then "$repo/haul" --version >/dev/null || exit 1; haul="$repo/.build/haul/haul"; fi
work=$(mktemp -d /tmp/haul-chaos.XXXXXX)
results=()
say() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
fail() { say "FAIL: $*"; echo "$*" >>"$work/FAILS"; }  # a file: also counted from subshells
on() { [[ ",$only," == *",$1,"* ]]; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rand_ms() { echo $(( $1 + RANDOM % ($2 - $1 + 1) )); }
serve_pid=""

cleanup() {
  [[ -n $serve_pid ]] && kill -9 "$serve_pid" 2>/dev/null
  nft delete table inet haulchaos 2>/dev/null
  for m in "$work"/mnt-*; do mountpoint -q "$m" 2>/dev/null && umount -l "$m"; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# pair HOME_A HOME_B PORT: two nodes, a sends to b at 127.0.0.1:PORT, b shares folder "incoming" rw with a.
pair() {
  "$haul" --home "$1" init --name lab-a >/dev/null 2>&1; "$haul" --home "$2" init --name lab-b >/dev/null 2>&1
  "$haul" --home "$1" peer add "$("$haul" --home "$2" id)" "127.0.0.1:$3" --name lab-b >/dev/null
  "$haul" --home "$2" peer add "$("$haul" --home "$1" id)" --name lab-a >/dev/null
}

# serve HOME PORT [extra args]: starts the receiver, waits until it serves.
serve() {
  local home=$1 p=$2; shift 2
  [[ -f $home/serve.log ]] && cat "$home/serve.log" >>"$home/serve.log.old"
  "$haul" --home "$home" serve --listen "127.0.0.1:$p" --api off "$@" >"$home/serve.log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 100); do
    grep -q "serving on" "$home/serve.log" 2>/dev/null && return 0
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.05
  done
  say "serve did not start: $(tail -2 "$home/serve.log")"; return 1
}

# placed_ok SRC DST: every regular file under DST's tree that also exists in SRC is identical
# (a file at its final path is either absent or whole); prints the count checked.
placed_ok() {
  local src=$1 dst=$2 n=0 bad=0 rel
  [[ -d $dst ]] || { echo 0; return 0; }
  while IFS= read -r -d '' f; do
    rel=${f#"$dst"/}
    [[ $rel == .haul-partial/* || $rel == */.haul-partial/* ]] && continue
    if [[ -f "$src/$rel" ]]; then
      n=$((n + 1))
      cmp -s "$src/$rel" "$f" || { fail "torn or wrong file at its final path: $f"; bad=1; }
    fi
  done < <(find "$dst" -type f -print0)
  echo $n
  return $bad
}

differs() {  # SRC DST: the first lines of diff -rq, empty when the trees are identical
  diff -rq "$1" "$2" 2>&1 | head -3 | tr '\n' ' '
}

leftovers() {  # DST...: temporary files or partial folders still present
  find "$@" \( -name '.haul-partial' -o -name '.haul-tmp-*' \) -print 2>/dev/null | head -5
}

receipts() { "$haul" --home "$1" receipts --json 2>/dev/null | grep -c '"manifest' || true; }

make_big() {  # DIR MiB: a few large random files plus a small folder
  mkdir -p "$1/meta"
  head -c $(( $2 * 1024 * 1024 * 3 / 4 )) /dev/urandom >"$1/weights.bin"
  head -c $(( $2 * 1024 * 1024 / 4 )) /dev/urandom >"$1/frames.bin"
  for i in $(seq 20); do head -c 4096 /dev/urandom >"$1/meta/l$i.json"; done
}

make_small() {  # DIR N: N files of 10 KiB, 500 to a folder
  python3 - "$1" "$2" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = f"{root}/d{i // 500:03}"
    if i % 500 == 0: os.makedirs(d, exist_ok=True)
    with open(f"{d}/f{i % 500:04}.bin", "wb") as f: f.write(os.urandom(10240))
PY
}

# kill_loop NAME HOME_A HOME_B PORT SRC DST CMD...: ROUNDS rounds of start, wait a random moment,
# kill -9 the sender, the receiver or both; invariants after each; then one clean run to the end.
kill_loop() {
  local name=$1 ha=$2 hb=$3 p=$4 src=$5 dst=$6; shift 6
  local t0=$SECONDS kills_s=0 kills_r=0 kills_b=0 finished=0 checked=0 code victim wait_ms pid
  serve "$hb" "$p" || return 1
  for r in $(seq "$rounds"); do
    "$@" >"$work/$name.out" 2>"$work/$name.err" &
    pid=$!
    wait_ms=$(rand_ms 200 2500)
    sleep "$(awk -v m="$wait_ms" 'BEGIN{print m/1000}')"
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid"; code=$?
      if [[ $code == 0 ]]; then
        finished=$((finished + 1))
        [[ -z $(differs "$src" "$dst") ]] || fail "$name round $r: exit 0 but the trees differ: $(differs "$src" "$dst")"
        # Start over so the next round has something to interrupt.
        kill -9 "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null
        rm -rf "$dst"; [[ $name == sync ]] && mkdir -p "$dst"
        serve "$hb" "$p" || return 1
      fi
      continue
    fi
    case $((RANDOM % 3)) in
      0) victim=sender; kill -9 "$pid"; kills_s=$((kills_s + 1)) ;;
      1) victim=receiver; kill -9 "$serve_pid"; kills_r=$((kills_r + 1)) ;;
      2) victim=both; kill -9 "$pid" "$serve_pid"; kills_b=$((kills_b + 1)) ;;
    esac
    # The sender of a killed receiver notices and exits 15; give it a moment, then make sure.
    if [[ $victim == receiver ]]; then
      for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      kill -9 "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null; code=$?
    if [[ $victim != sender ]]; then
      wait "$serve_pid" 2>/dev/null
      serve "$hb" "$p" || return 1
    fi
    if [[ $code == 0 ]]; then
      finished=$((finished + 1))
      [[ -z $(differs "$src" "$dst") ]] || fail "$name round $r: exit 0 but the trees differ: $(differs "$src" "$dst")"
    fi
    checked=$((checked + $(placed_ok "$src" "$dst")))
  done
  "$@" >"$work/$name.out" 2>"$work/$name.err"; code=$?
  [[ $code == 0 ]] || fail "$name: the final run exited $code: $(tail -1 "$work/$name.err")"
  [[ -z $(differs "$src" "$dst") ]] || fail "$name: trees differ after the final run: $(differs "$src" "$dst")"
  local left; left=$(leftovers "$dst" "$hb/inbox")
  [[ -z $left ]] || fail "$name: left behind: $left"
  local rc; rc=$(receipts "$ha")
  kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null; serve_pid=""
  results+=("| $name | $rounds kills (sender $kills_s, receiver $kills_r, both $kills_b); $finished rounds ended before the kill | $checked files checked at their final paths mid-run | identical: $(diff -rq "$src" "$dst" >/dev/null && echo yes || echo NO); leftovers: ${left:-none}; receipts $rc | $((SECONDS - t0)) s |")
}

if on kill; then
  say "kill: $rounds x kill -9 during a ${size_mib} MiB send"
  d=$work/kill; mkdir -p "$d"; p=$(port); pair "$d/a" "$d/b" "$p"; make_big "$d/src/run" "$size_mib"
  kill_loop kill "$d/a" "$d/b" "$p" "$d/src/run" "$d/b/inbox/lab-a/run" \
    "$haul" --home "$d/a" send "$d/src/run" lab-b --json --max-rate 120M
fi

if on sync; then
  say "sync: $rounds x kill -9 during a sync of $files x 10 KiB into a peer's folder"
  d=$work/sync; mkdir -p "$d/dst"; p=$(port); pair "$d/a" "$d/b" "$p"; make_small "$d/src" "$files"
  "$haul" --home "$d/b" folder add incoming "$d/dst" --share lab-a:rw >/dev/null
  kill_loop sync "$d/a" "$d/b" "$p" "$d/src" "$d/dst" \
    "$haul" --home "$d/a" sync "$d/src" lab-b:incoming --bwlimit 20M -q
fi

if on cut && [[ $(id -u) == 0 ]] && command -v nft >/dev/null; then
  for secs in $cuts; do
    say "cut: the link dropped for ${secs} s mid-send"
    d=$work/cut$secs; mkdir -p "$d"; p=$(port); pair "$d/a" "$d/b" "$p"; make_big "$d/src/run" 120
    serve "$d/b" "$p" || continue
    t0=$SECONDS
    "$haul" --home "$d/a" send "$d/src/run" lab-b --json --max-rate 30M >"$work/cut.out" 2>"$work/cut.err" &
    pid=$!
    sleep 1.5
    nft add table inet haulchaos
    nft add chain inet haulchaos in '{ type filter hook input priority -10; }'
    nft add rule inet haulchaos in iif lo tcp dport "$p" drop
    nft add rule inet haulchaos in iif lo tcp sport "$p" drop
    nft add rule inet haulchaos in iif lo udp dport "$p" drop
    nft add rule inet haulchaos in iif lo udp sport "$p" drop
    sleep "$secs"
    nft delete table inet haulchaos
    wait "$pid"; code=$?
    how="survived the cut (exit 0)"
    if [[ $code != 0 ]]; then
      how="first run exit $code ($(tail -1 "$work/cut.err" | cut -c1-80)), re-run"
      "$haul" --home "$d/a" send "$d/src/run" lab-b --json >"$work/cut.out" 2>"$work/cut.err" || fail "cut $secs: the re-run exited $?: $(tail -1 "$work/cut.err")"
    fi
    placed_ok "$d/src/run" "$d/b/inbox/lab-a/run" >/dev/null
    same=$(diff -rq "$d/src/run" "$d/b/inbox/lab-a/run" >/dev/null && echo yes || echo NO)
    [[ $same == yes ]] || fail "cut $secs: trees differ"
    left=$(leftovers "$d/b/inbox")
    results+=("| cut ${secs} s | link dropped (nftables, TCP and UDP of the node's port) 1.5 s into a 120 MiB send at 30 MB/s | $how | identical: $same; leftovers: ${left:-none} | $((SECONDS - t0)) s |")
    kill "$serve_pid"; wait "$serve_pid" 2>/dev/null; serve_pid=""
  done
fi

# A small tmpfs as the receiver's inbox: full, then read-only.
if { on diskfull || on readonly; } && [[ $(id -u) == 0 ]]; then
  d=$work/disk; mkdir -p "$d" "$work/mnt-inbox"; p=$(port); pair "$d/a" "$d/b" "$p"; make_big "$d/src/run" 96
  mount -t tmpfs -o size=64m tmpfs "$work/mnt-inbox"
  serve "$d/b" "$p" --inbox "$work/mnt-inbox" || true
  if on diskfull; then
    say "diskfull: a 96 MiB send into a 64 MiB inbox, then room made and the same send again"
    t0=$SECONDS
    "$haul" --home "$d/a" send "$d/src/run" lab-b >"$work/df.out" 2>"$work/df.err"; code=$?
    msg=$(tail -1 "$work/df.err")
    [[ $code == 14 ]] || fail "diskfull: exit $code, expected 14: $msg"
    [[ ! -e $work/mnt-inbox/lab-a/run/weights.bin ]] || fail "diskfull: a file at its final path after a full disk"
    used=$(df --output=used -B1M "$work/mnt-inbox" | tail -1 | tr -d ' ')
    mount -o remount,size=256m "$work/mnt-inbox"
    "$haul" --home "$d/a" send "$d/src/run" lab-b --json >"$work/df2.out" 2>"$work/df2.err" || fail "diskfull: the re-run exited $?: $(tail -1 "$work/df2.err")"
    same=$(diff -rq "$d/src/run" "$work/mnt-inbox/lab-a/run" >/dev/null && echo yes || echo NO)
    [[ $same == yes ]] || fail "diskfull: trees differ after the re-run"
    results+=("| disk full | 96 MiB into a 64 MiB tmpfs inbox | exit $code: \`${msg:0:110}\`; ${used} MiB left in use; re-run after growing the disk | identical: $same; leftovers: $(leftovers "$work/mnt-inbox" | head -1 || true) | $((SECONDS - t0)) s |")
  fi
  if on readonly; then
    say "readonly: a send into a read-only inbox"
    t0=$SECONDS
    mkdir -p "$d/src2/other"; head -c 1000000 /dev/urandom >"$d/src2/other/x.bin"
    mount -o remount,ro "$work/mnt-inbox"
    "$haul" --home "$d/a" send "$d/src2/other" lab-b >"$work/ro.out" 2>"$work/ro.err"; code=$?
    msg=$(tail -1 "$work/ro.err")
    [[ $code == 13 ]] || fail "readonly: exit $code, expected 13: $msg"
    mount -o remount,rw "$work/mnt-inbox"
    "$haul" --home "$d/a" send "$d/src2/other" lab-b >/dev/null 2>"$work/ro2.err" || fail "readonly: the re-run exited $?"
    same=$(diff -rq "$d/src2/other" "$work/mnt-inbox/lab-a/other" >/dev/null && echo yes || echo NO)
    results+=("| read-only target | 1 MB into an inbox remounted read-only | exit $code: \`${msg:0:110}\`; re-run once writable | identical: $same | $((SECONDS - t0)) s |")
  fi
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null; serve_pid=""
  umount -l "$work/mnt-inbox"
fi

if on changing; then
  say "changing: the source file rewritten while it is sent"
  d=$work/chg; mkdir -p "$d"; p=$(port); pair "$d/a" "$d/b" "$p"; make_big "$d/src/run" 64
  serve "$d/b" "$p" || true
  t0=$SECONDS
  "$haul" --home "$d/a" send "$d/src/run" lab-b --max-rate 16M >"$work/chg.out" 2>"$work/chg.err" &
  pid=$!
  sleep 1.5
  # Rewrite the middle of the large file in place (same size, new bytes), as a writer would.
  dd if=/dev/urandom of="$d/src/run/weights.bin" bs=1M seek=40 count=4 conv=notrunc status=none
  wait "$pid"; code=$?
  msg=$(tail -1 "$work/chg.err")
  [[ $code == 16 ]] || fail "changing: exit $code, expected 16 (changed while sent): $msg"
  final=$d/b/inbox/lab-a/run/weights.bin
  if [[ -e $final ]] && ! cmp -s "$final" "$d/src/run/weights.bin"; then fail "changing: a mixed file at its final path"; fi
  "$haul" --home "$d/a" send "$d/src/run" lab-b >/dev/null 2>"$work/chg2.err" || fail "changing: the re-run exited $?"
  same=$(diff -rq "$d/src/run" "$d/b/inbox/lab-a/run" >/dev/null && echo yes || echo NO)
  results+=("| source changed | 4 MiB of a 48 MiB file rewritten 1.5 s into the send | exit $code: \`${msg:0:110}\`; re-run sends the new version | identical: $same | $((SECONDS - t0)) s |")
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null; serve_pid=""
fi

echo
echo "bench/chaos/run.sh --rounds $rounds --size-mib $size_mib --files $files --cuts \"$cuts\" --seed $seed ($(date -u +%F), $(nproc) cores)"
echo
echo "| scenario | fault | outcome | end state | time |"
echo "|---|---|---|---|---:|"
printf '%s\n' "${results[@]}"
echo
fails=$(cat "$work/FAILS" 2>/dev/null | wc -l)
echo "failures: $fails"
[[ -s $work/FAILS ]] && sed 's/^/  /' "$work/FAILS"
((fails == 0))
