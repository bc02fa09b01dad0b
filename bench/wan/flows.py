"""Reads `haul send --json` output: progress lines carry elapsedSeconds and bytes, the result line
packets and retransmitted. Used by run.sh for cold-start time, retransmit share and flow shares."""
import json, sys


def progress(path):
    pts, result = [(0.0, 0)], None
    for line in open(path, errors="replace"):
        try:
            j = json.loads(line)
        except ValueError:
            continue
        if j.get("type") == "progress" and j.get("phase") == "transfer" and "elapsedSeconds" in j:
            pts.append((j["elapsedSeconds"], j["bytes"]))
        elif j.get("type") == "result":
            result = j
    return pts, result


def bytes_at(pts, t):
    """Bytes done at time t (linear between progress lines)."""
    for (t0, b0), (t1, b1) in zip(pts, pts[1:]):
        if t0 <= t <= t1:
            return b0 + (b1 - b0) * (t - t0) / max(t1 - t0, 1e-9)
    return pts[-1][1] if t > pts[-1][0] else 0


def mbps(pts, t0, t1):
    return (bytes_at(pts, t1) - bytes_at(pts, t0)) * 8 / max(t1 - t0, 1e-9) / 1e6


def cold_start(pts, target_mbps, window=1.0):
    """First time the goodput over the preceding `window` seconds reaches target_mbps."""
    t = window
    while t <= pts[-1][0]:
        if mbps(pts, t - window, t) >= target_mbps:
            return t
        t += 0.25
    return float("nan")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "solo":  # FILE RATE_MBIT LOSS -> "coldstart_s retx_pct"
        pts, res = progress(sys.argv[2])
        rate, loss = float(sys.argv[3]), float(sys.argv[4])
        cs = cold_start(pts, 0.9 * (1 - loss) * rate)
        retx = 100 * res["retransmitted"] / max(res["packets"], 1) if res else float("nan")
        print(f"{cs:.2f} {retx:.2f}")
    elif cmd == "iperf":  # FILE -> receiver-side Mbit/s of an iperf3 -J run
        print(f"{json.load(open(sys.argv[2]))['end']['sum_received']['bits_per_second'] / 1e6:.1f}")
    elif cmd == "window":  # FILE OFFSET_S T0 T1 -> Mbit/s of that flow over [T0, T1] on the shared clock
        pts, _ = progress(sys.argv[2])
        off, t0, t1 = map(float, sys.argv[3:6])
        print(f"{mbps(pts, t0 - off, t1 - off):.1f}")
