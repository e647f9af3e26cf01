"""Plot bench/relay-bench-hops.ts's JSON (HOPS_JSON): per rate and variant, the mean of each hop stacked, and
the p50 / p99 of each hop beside it. Usage: notebooks/.venv/bin/python bench/relay-bench-hops-plot.py IN.json OUT.png
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HOPS = [
    ("parse", "collector parse"),
    ("write", "collector write"),
    ("relayRead", "relay read"),
    ("relayWork", "relay ingest+journal"),
    ("fanout", "relay fan-out (earlier consumers)"),
    ("consumerRead", "consumer read"),
]


def main(src: str, out: str) -> None:
    data = json.load(open(src))
    meds = data["medians"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    labels = [f"{m['rate'] // 1000}k/s\n{m['variant']}" for m in meds]
    bottom = [0.0] * len(meds)
    for key, name in HOPS:
        vals = [m["hops"][key]["mean"] for m in meds]
        axes[0].bar(labels, vals, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    axes[0].set_ylabel("µs (mean per frame delivery)")
    axes[0].set_title("Where the time goes: mean of each hop, stacked")
    axes[0].legend(fontsize=8)
    width = 0.8 / max(1, len(meds))
    for i, m in enumerate(meds):
        xs = [j + i * width for j in range(len(HOPS))]
        axes[1].bar(xs, [m["hops"][k]["p50"] for k, _ in HOPS], width, label=f"{labels[i]} p50".replace("\n", " "))
        axes[1].scatter(xs, [m["hops"][k]["p99"] for k, _ in HOPS], marker="_", s=200, color="black")
    axes[1].set_yscale("log")
    axes[1].set_xticks([j + width * (len(meds) - 1) / 2 for j in range(len(HOPS))])
    axes[1].set_xticklabels([n for _, n in HOPS], rotation=25, ha="right", fontsize=8)
    axes[1].set_ylabel("µs (bars p50, black ticks p99)")
    axes[1].set_title("Each hop's p50 and p99")
    axes[1].legend(fontsize=7)
    load = data["loadavg"]
    fig.suptitle(f"tapewire relay, hop by hop (3 consumers, journal on; load {load[0]:.1f}→{load[1]:.1f} on 2 vCPUs)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
