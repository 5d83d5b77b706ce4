#!/usr/bin/env python3
"""Parked runs: memory and kernel mappings a worker holds per run that waits.

Starts OrderWorkflows (guest-examples/ORDER.md) with a day-long grace
timer, so each run executes CreateOrder and then parks on its timer, and
measures the worker process (VmRSS and the number of lines in
/proc/PID/maps) before and after each step of runs. A run counts as
parked once the worker has completed its second workflow task: the
Temporal server's visibility is not needed, the worker's own Prometheus
counter of completed activations is read.

  python3 bench/parked.py --address 127.0.0.1:7233 --queue Q --pid PID \\
      --metrics http://127.0.0.1:9464/metrics --steps 1000,10000

Prints one JSON object per step: runs, rss_kib, maps, and per-run figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
import urllib.request

from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

DAY_MS = 86_400_000
TRANSIENT = {
    RPCStatusCode.NOT_FOUND,
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
}


def proc(pid: int) -> tuple[int, int]:
    """(VmRSS in KiB, mapping count) of process `pid`."""
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    with open(f"/proc/{pid}/maps") as f:
        maps = sum(1 for _ in f)
    return rss, maps


def cpu_seconds(pid: int) -> float:
    """utime + stime of process `pid`, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def activations(url: str, metric: str) -> float:
    """Sum of a Prometheus counter over its labels."""
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    pattern = re.compile(rf"^{metric}(?:{{[^}}]*}})? ([0-9.e+]+)$", re.M)
    return sum(float(v) for v in pattern.findall(text))


async def wait_for(what: str, check, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while not check():
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--address", required=True)
    p.add_argument("--namespace", default="default")
    p.add_argument("--queue", required=True, help="the workflow task queue")
    p.add_argument("--activity-queue", default="ORDER_ACTIVITY_Q")
    p.add_argument("--pid", type=int, required=True, help="the worker process")
    p.add_argument("--metrics", required=True, help="the worker's /metrics URL")
    p.add_argument(
        "--counter",
        default="weft_activations",
        help="a counter of the worker's completed workflow activations",
    )
    p.add_argument("--per-run", type=int, default=2, help="activations until a run parks")
    p.add_argument("--steps", default="1000", help="comma-separated cumulative run counts")
    p.add_argument("--in-flight", type=int, default=200)
    p.add_argument("--markdown", metavar="LABEL", help="print table rows labelled LABEL")
    p.add_argument("--idle-seconds", type=float, default=20, help="idle CPU sampled first")
    args = p.parse_args()

    client = await Client.connect(args.address, namespace=args.namespace)
    base_rss, base_maps = proc(args.pid)
    base_acts = activations(args.metrics, args.counter)
    # An idle host: its workers poll Temporal and nothing else happens.
    cpu0 = cpu_seconds(args.pid)
    await asyncio.sleep(args.idle_seconds)
    idle = 100 * (cpu_seconds(args.pid) - cpu0) / args.idle_seconds
    if args.markdown:
        print(
            f"| {args.markdown} | idle | {args.idle_seconds:g} s | {idle:.2f}% of a core | "
            f"| {base_rss // 1024} MiB | | {base_maps} | |",
            flush=True,
        )
    else:
        print(
            json.dumps(
                {"runs": 0, "rss_kib": base_rss, "maps": base_maps, "idle_cpu_pct": round(idle, 2)}
            ),
            flush=True,
        )
    started = 0
    gate = asyncio.Semaphore(args.in_flight)

    async def start(i: int) -> None:
        async with gate:
            # An overloaded dev server answers some starts with a transient
            # error (even "namespace not found" while its namespace cache
            # refreshes): retry for up to 10 minutes rather than lose a
            # long run. A retry of a start that did happen finds the run.
            deadline = time.monotonic() + 600
            while True:
                try:
                    await client.start_workflow(
                        "OrderWorkflow",
                        args=[f"parked-{i}", args.activity_queue, DAY_MS],
                        id=f"parked-{i}",
                        task_queue=args.queue,
                    )
                    return
                except WorkflowAlreadyStartedError:
                    return
                except RPCError as e:
                    if e.status not in TRANSIENT or time.monotonic() > deadline:
                        raise
                    print(f"retrying parked-{i}: {e.status.name}: {e}", file=sys.stderr)
                    await asyncio.sleep(1)

    def activation_seconds() -> tuple[float, float]:
        """(sum, count) of the worker's activation time histogram."""
        return (
            activations(args.metrics, "weft_activation_seconds_sum"),
            activations(args.metrics, "weft_activation_seconds_count"),
        )

    for target in (int(s) for s in args.steps.split(",")):
        t0, cpu_step = time.monotonic(), cpu_seconds(args.pid)
        act_sum0, act_count0 = activation_seconds()
        new_runs = target - started
        await asyncio.gather(*(start(i) for i in range(started, target)))
        started = target
        want = base_acts + args.per_run * target
        await wait_for(
            f"{target} parked runs",
            lambda: activations(args.metrics, args.counter) >= want,
            600 + target / 20,
        )
        rss, maps = proc(args.pid)
        act_sum, act_count = activation_seconds()
        row = {
            "runs": target,
            "seconds": round(time.monotonic() - t0, 1),
            # Worker CPU to start, run CreateOrder for and park each run.
            "cpu_ms_per_run": round(1000 * (cpu_seconds(args.pid) - cpu_step) / new_runs, 2),
            # Wall time of one activation in weft: jobs in, guest, commands out.
            "activation_us": round(1e6 * (act_sum - act_sum0) / max(act_count - act_count0, 1)),
            "rss_kib": rss,
            "maps": maps,
            "kib_per_run": round((rss - base_rss) / target, 1),
            "maps_per_run": round((maps - base_maps) / target, 3),
        }
        if args.markdown:
            print(
                f"| {args.markdown} | {target:,} | {row['seconds']} | {row['cpu_ms_per_run']} "
                f"| {row['activation_us']} "
                f"| {rss // 1024} MiB "
                f"| {row['kib_per_run']} | {maps} | {row['maps_per_run']} |",
                flush=True,
            )
        else:
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
