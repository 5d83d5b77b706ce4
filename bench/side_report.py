#!/usr/bin/env python3
"""Renders bench/side.sh's results: the "Side by side" section of
BENCHMARKS.md (markdown on stdout, or spliced into a file with --into) and
two PNG plots (worker CPU per workflow; p50/p99 latency) per arm and
in-flight level.

  python3 bench/side_report.py bench/side/results.jsonl --plots bench/side \\
      [--into BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import datetime, timezone

NATIVE = "native Rust (Rust SDK)"
PYTHON = "Python SDK"
TS = "TypeScript SDK"
SECTION = "## Side by side"


def load(path: str) -> tuple[list[str], dict[str, dict], dict[tuple[str, int], dict]]:
    """(arms in run order, idle row per arm, level row per (arm, in_flight))."""
    arms: list[str] = []
    idle: dict[str, dict] = {}
    levels: dict[tuple[str, int], dict] = {}
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            if row["arm"] not in arms:
                arms.append(row["arm"])
            if row["in_flight"] == 0:
                idle[row["arm"]] = row
            else:
                levels[(row["arm"], row["in_flight"])] = row
    return arms, idle, levels


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else ""


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def plots(arms, flights, levels, out_dir: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    width = 0.8 / len(arms)
    xs = range(len(flights))
    names = []

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, arm in enumerate(arms):
        ys = [levels.get((arm, n), {}).get("cpu_ms", 0) for n in flights]
        ax.bar([x + i * width for x in xs], ys, width, label=arm)
    ax.set_xticks([x + width * (len(arms) - 1) / 2 for x in xs], [f"{n} in flight" for n in flights])
    ax.set_ylabel("worker CPU per workflow (ms, utime+stime)")
    ax.set_title("OrderWorkflow: worker CPU per workflow")
    ax.legend(fontsize="small")
    fig.tight_layout()
    names.append("side-cpu.png")
    fig.savefig(os.path.join(out_dir, names[-1]), dpi=100)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for ax, key, title in ((axes[0], "p50_ms", "p50"), (axes[1], "p99_ms", "p99")):
        for i, arm in enumerate(arms):
            ys = [levels.get((arm, n), {}).get(key, 0) for n in flights]
            ax.bar([x + i * width for x in xs], ys, width, label=arm)
        ax.set_xticks([x + width * (len(arms) - 1) / 2 for x in xs], [str(n) for n in flights])
        ax.set_xlabel("workflows in flight")
        ax.set_yscale("log")
        ax.set_title(f"{title} start-to-result latency")
    axes[0].set_ylabel("ms (log scale)")
    axes[1].legend(fontsize="small")
    fig.tight_layout()
    names.append("side-latency.png")
    fig.savefig(os.path.join(out_dir, names[-1]), dpi=100)
    plt.close(fig)
    return names


def section(arms, idle, levels, pngs: list[str], png_dir: str, note: str = "") -> str:
    flights = sorted({n for _, n in levels})
    lines = [
        SECTION,
        "",
        f"Measured on {datetime.now(timezone.utc):%Y-%m-%d} by `bench/side.sh` (`SIDE=1 scripts/bench.sh`"
        " runs it), release builds, one arm after the other on this"
        f" {os.cpu_count()}-core machine, each arm on its own fresh in-memory dev server.",
        "Every arm runs the OrderWorkflow of guest-examples/ORDER.md with `grace_ms` = 1 and",
        "its two activities (which write and read the order file in a directory) in its own",
        "language, in one worker process: a workflow worker and an activity worker, 100",
        "workflow-task slots, 100 activity slots, 1,000 cached runs, the SDK's default pollers.",
        "`bench/side.py` (the Python SDK client) keeps N workflows open at a time, each from",
        "start to result. Worker CPU is utime+stime of the worker process (and any children)",
        "from /proc over the level, divided by its workflows; the server's is apart (last",
        "column, for scale). RSS is the worker's after the level. Latency and throughput",
        "depend on the dev server and the machine's load; CPU per workflow much less so.",
        "",
        *([note, ""] if note else []),
        "| arm | in flight | workflows | workflows/s | worker CPU ms per workflow | p50 ms | p99 ms | RSS | server CPU ms per workflow |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for arm in arms:
        for n in flights:
            r = levels.get((arm, n))
            if r:
                lines.append(
                    f"| {arm} | {n:,} | {r['workflows']:,} | {r['per_second']} | {r['cpu_ms']:.2f} "
                    f"| {r['p50_ms']:.0f} | {r['p99_ms']:.0f} | {mib(r['rss_kib'])} "
                    f"| {r.get('server_cpu_ms', 0):.2f} |"
                )
    lines += [
        "",
        "Ratios of worker CPU per workflow and of RSS to the native Rust worker's and to the",
        "official SDK workers' at the same level (below 1 is less):",
        "",
        "| arm | in flight | CPU vs native | CPU vs Python SDK | CPU vs TS SDK | RSS vs native | RSS vs Python SDK | RSS vs TS SDK |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for arm in arms:
        for n in flights:
            r = levels.get((arm, n))
            if not r:
                continue
            ref = {k: levels.get((k, n), {}) for k in (NATIVE, PYTHON, TS)}
            lines.append(
                f"| {arm} | {n:,} | "
                + " | ".join(ratio(r["cpu_ms"], ref[k].get("cpu_ms")) for k in (NATIVE, PYTHON, TS))
                + " | "
                + " | ".join(ratio(r["rss_kib"], ref[k].get("rss_kib")) for k in (NATIVE, PYTHON, TS))
                + " |"
            )
    lines += [
        "",
        "After a warm-up of 50 workflows, each worker idled 10 s: its CPU then, and its RSS:",
        "",
        "| arm | idle CPU | RSS after warm-up |",
        "|---|---|---|",
    ]
    for arm in arms:
        if arm in idle:
            lines.append(f"| {arm} | {idle[arm]['idle_cpu_pct']:.2f}% of a core | {mib(idle[arm]['rss_kib'])} |")
    loads = [r.get("loadavg") for r in levels.values() if r.get("loadavg") is not None]
    if loads:
        lines += [
            "",
            f"The machine's 1-minute load average at the end of the levels ranged from"
            f" {min(loads):.1f} to {max(loads):.1f} (the dev server, the driver and the worker"
            " take about 2 of it; the rest was other work on the machine).",
        ]
    lines.append("")
    for name in pngs:
        lines.append(f"![{name}]({os.path.join(png_dir, name)})")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("results")
    p.add_argument("--plots", help="directory for the PNGs (relative to the repository)")
    p.add_argument("--into", help="replace (or append) the section in this markdown file")
    p.add_argument("--note", default="", help="a paragraph on this run's circumstances")
    args = p.parse_args()
    arms, idle, levels = load(args.results)
    flights = sorted({n for _, n in levels})
    pngs = plots(arms, flights, levels, args.plots) if args.plots else []
    text = section(arms, idle, levels, pngs, args.plots or ".", args.note)
    if not args.into:
        sys.stdout.write(text)
        return
    with open(args.into) as f:
        doc = f.read()
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    doc = pattern.sub(lambda _: text + "\n", doc) if pattern.search(doc) else doc.rstrip() + "\n\n" + text
    with open(args.into, "w") as f:
        f.write(doc)


if __name__ == "__main__":
    main()
