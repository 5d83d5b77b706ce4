#!/usr/bin/env python3
"""Side-by-side driver: runs OrderWorkflows (guest-examples/ORDER.md, grace_ms
= 1) against whatever worker serves the workflow task queue, and measures that
worker from /proc.

For each level `IN_FLIGHT:COUNT` it runs COUNT workflows with IN_FLIGHT of
them open at a time (each slot starts a workflow, waits for its result, starts
the next) and prints one JSON object: throughput, p50/p99 start-to-result
latency, the worker's CPU (utime+stime of the worker process and its
descendants) per workflow, its RSS, and the server's CPU per workflow for
scale. A warm-up (not measured) first waits for the worker to answer at all,
then the worker's idle CPU is sampled.

  python3 bench/side.py --address 127.0.0.1:7233 --queue SIDE_Q \\
      --activity-queue SIDE_ACT_Q --pid WORKER_PID --server-pid SERVER_PID \\
      --arm "weft (rust guest)" --levels 10:300,100:1000,1000:1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import timedelta

from temporalio.client import Client

TICK = os.sysconf("SC_CLK_TCK")
RPC_TIMEOUT = timedelta(minutes=5)


def tree(pid: int) -> list[int]:
    """`pid` and its descendants (a worker may fork helpers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of `pids`, in seconds (processes gone since count 0)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / TICK


def memory_kib(pids: list[int]) -> tuple[int, int]:
    """(sum of VmRSS, sum of VmHWM) of `pids`, in KiB."""
    rss = hwm = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
        except OSError:
            pass
    return rss, hwm


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(0, min(len(sorted_values) - 1, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


async def run_level(
    client: Client, args: argparse.Namespace, prefix: str, in_flight: int, count: int
) -> list[float]:
    """Runs `count` workflows, `in_flight` at a time; returns their latencies (s)."""
    latencies: list[float] = []
    next_index = 0

    async def slot() -> None:
        nonlocal next_index
        while next_index < count:
            i = next_index
            next_index += 1
            order_id = f"{prefix}-{i}"
            t0 = time.perf_counter()
            handle = await client.start_workflow(
                "OrderWorkflow",
                args=[order_id, args.activity_queue, 1],
                id=order_id,
                task_queue=args.queue,
                # 1,000 starts at once can keep a loaded dev server busy
                # for longer than the client's default RPC timeout.
                rpc_timeout=RPC_TIMEOUT,
            )
            result = await handle.result(rpc_timeout=RPC_TIMEOUT)
            latencies.append(time.perf_counter() - t0)
            if result.get("order_id") != order_id or "charge_payment" not in result:
                sys.exit(f"{order_id}: unexpected result {result!r}")

    async def watch() -> None:
        # A worker that died (or never started) fails the arm now, not at the timeout.
        while True:
            await asyncio.sleep(1)
            if not os.path.exists(f"/proc/{args.pid}") or _zombie(args.pid):
                sys.exit(f"{args.arm}: the worker process {args.pid} exited")

    watcher = asyncio.create_task(watch())
    try:
        await asyncio.wait_for(
            asyncio.gather(*(slot() for _ in range(in_flight))), args.level_timeout
        )
    finally:
        watcher.cancel()
    return latencies


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--address", required=True)
    p.add_argument("--namespace", default="default")
    p.add_argument("--queue", required=True, help="the workflow task queue")
    p.add_argument("--activity-queue", required=True)
    p.add_argument("--pid", type=int, required=True, help="the worker process")
    p.add_argument("--server-pid", type=int, help="the Temporal server, for scale")
    p.add_argument("--arm", required=True, help="the arm's label")
    p.add_argument("--levels", default="10:300,100:1000,1000:1000")
    p.add_argument("--warmup", type=int, default=50, help="workflows before measuring")
    p.add_argument("--idle-seconds", type=float, default=10)
    p.add_argument("--level-timeout", type=float, default=1800)
    args = p.parse_args()

    client = await Client.connect(args.address, namespace=args.namespace)
    # Warm-up: the first workflows wait until the worker polls (a TS worker
    # bundles its workflows first) and warm its caches and JIT.
    await asyncio.wait_for(run_level(client, args, "warmup", 10, args.warmup), 600)
    pids = tree(args.pid)
    rss0, _ = memory_kib(pids)
    cpu0 = cpu_seconds(pids)
    await asyncio.sleep(args.idle_seconds)
    idle_pct = 100 * (cpu_seconds(tree(args.pid)) - cpu0) / args.idle_seconds
    print(
        json.dumps(
            {"arm": args.arm, "in_flight": 0, "idle_cpu_pct": round(idle_pct, 2), "rss_kib": rss0}
        ),
        flush=True,
    )
    for level in args.levels.split(","):
        in_flight, count = (int(x) for x in level.split(":"))
        pids = tree(args.pid)
        cpu_w, t0 = cpu_seconds(pids), time.perf_counter()
        server = tree(args.server_pid) if args.server_pid else []
        cpu_s = cpu_seconds(server)
        cpu_d = cpu_seconds([os.getpid()])
        latencies = sorted(await run_level(client, args, f"l{in_flight}", in_flight, count))
        seconds = time.perf_counter() - t0
        pids = tree(args.pid)
        rss, hwm = memory_kib(pids)
        row = {
            "arm": args.arm,
            "in_flight": in_flight,
            "workflows": count,
            "seconds": round(seconds, 2),
            "per_second": round(count / seconds, 1),
            "cpu_ms": round(1000 * (cpu_seconds(pids) - cpu_w) / count, 3),
            "p50_ms": round(1000 * percentile(latencies, 0.50), 1),
            "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
            "rss_kib": rss,
            "hwm_kib": hwm,
            "loadavg": float(open("/proc/loadavg").read().split()[0]),
            "driver_cpu_ms": round(1000 * (cpu_seconds([os.getpid()]) - cpu_d) / count, 3),
        }
        if args.server_pid:
            row["server_cpu_ms"] = round(
                1000 * (cpu_seconds(server) - cpu_s) / count, 3
            )
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
