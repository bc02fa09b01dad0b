"""Turns bench/out/wan.csv into the markdown table and the goodput chart."""
import csv, sys, collections
rows = list(csv.DictReader(open(sys.argv[1])))
out, size, secs, hsecs = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
stats = {r["point"]: r for r in csv.DictReader(open(sys.argv[6]))} if len(sys.argv) > 6 else {}
tools = []
for r in rows:
    if r["tool"] not in tools: tools.append(r["tool"])
by = collections.OrderedDict()
for r in rows: by.setdefault(r["point"], {})[r["tool"]] = float(r["mbps"])
lines = [f"Run: `bench/wan/run.sh --size-mib {size} --seconds {secs} --haul-seconds {hsecs}`; goodput in Mbit/s (bytes that landed ÷ wall time, start-up included); goal = 0.9 × (1 − loss) × rate.", "",
         "| link | RTT | loss | " + " | ".join(tools) + " | goal | haul ÷ goal | haul ÷ rsync | haul cold start to 90% | haul retransmitted |",
         "|---|---:|---:|" + "---:|" * len(tools) + "---:|---:|---:|---:|---:|"]
for p, v in by.items():
    rate, rtt, loss = p.split(":")
    goal = 0.9 * (1 - float(loss)) * float(rate)
    h = v.get("haul", 0); rs = v.get("rsync", 0)
    lines.append(f"| {rate} Mbit/s | {rtt} ms | {float(loss)*100:g}% | " + " | ".join(f"{v.get(t,0):.1f}" for t in tools)
                 + f" | {goal:.1f} | {h/goal:.3f} | {(h/rs if rs else float('inf')):.1f}× | "
                 + (f"{stats[p]['coldstart_s']} s | {stats[p]['retx_pct']}% |" if p in stats else "– | – |"))
open(f"{out}/wan.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
try:
    import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), sharey=True)
    for ax, loss in zip(axes, ["0", "0.01", "0.05"]):
        for t in tools:
            pts = sorted((float(p.split(":")[1]), v[t]) for p, v in by.items() if p.split(":")[2] == loss and p.split(":")[0] == "100" and t in v)
            if pts: ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=t)
        if ax.lines: ax.legend(fontsize=8)
        ax.set_xscale("log"); ax.set_title(f"100 Mbit/s, loss {float(loss)*100:g}%"); ax.set_xlabel("RTT (ms)"); ax.grid(True, alpha=.3)
    axes[0].set_ylabel("goodput (Mbit/s)")
    fig.tight_layout(); fig.savefig(f"{out}/wan.png", dpi=110)
except Exception as e:
    print(f"(no chart: {e})", file=sys.stderr)
