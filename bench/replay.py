#!/usr/bin/env python3
"""Replay benchmark: records one long history and times its replay by weft
and by the Python SDK's `Replayer`.

`record`: against a server where a weft host serves the `Counter` test
workflow (tests/guests/activation-workflows: counts `add` signals until
`stop`), starts one Counter and signals it until its history holds about
--events events, stops it and waits for its result.

`python`: replays a history (JSON from `temporal workflow show --output
json`) with the Python SDK's `Replayer` and the same Counter written in
Python, --repeat times, and prints the best wall and CPU (utime+stime of the
process, all its threads) times of the replay call in ms.

`weft`: the same for `weft replay` as a whole process (start, the component
loaded from the compiled-component cache, replay), CPU from wait4.

  python3 bench/replay.py record --address 127.0.0.1:7233 --queue Q --id ID
  python3 bench/replay.py python --history h.json --repeat 5
  python3 bench/replay.py weft --weft target/release/weft \\
      --module target/wasm/activation_workflows.wasm --history h.json
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import subprocess
import sys
import time

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Replayer


# The patch ids a weft history records (weft pins each run to its module with
# a patch marker in its first task): the Python workflow issues the same ones.
# An environment variable carries them: the SDK's sandbox re-imports this
# module, so a global set at run time would not reach the workflow.
PATCHES = [p for p in os.environ.get("REPLAY_PATCHES", "").split(",") if p]


@workflow.defn(name="Counter")
class Counter:
    """The Counter of tests/guests/activation-workflows in the Python SDK."""

    def __init__(self) -> None:
        self.total = 0
        self.stopped = False

    @workflow.run
    async def run(self, *_: object) -> dict:
        for patch in PATCHES:
            workflow.patched(patch)
        await workflow.wait_condition(lambda: self.stopped)
        return {"total": self.total}

    @workflow.signal(name="add")
    def add(self, n: int) -> None:
        self.total += n

    @workflow.signal(name="stop")
    def stop(self, *_: object) -> None:
        self.stopped = True

    @workflow.query(name="total")
    def query_total(self) -> int:
        return self.total

    @workflow.query(name="plus")
    def plus(self, n: int) -> int:
        return self.total + n


async def record(args: argparse.Namespace) -> None:
    client = await Client.connect(args.address)
    handle = await client.start_workflow("Counter", id=args.id, task_queue=args.queue)
    gate = asyncio.Semaphore(20)

    async def add() -> None:
        async with gate:
            await handle.signal("add", 1)

    # A few events close the run (stop, its workflow task, completion).
    while (await handle.describe()).raw_description.workflow_execution_info.history_length < (
        args.events - 10
    ):
        length = (await handle.describe()).raw_description.workflow_execution_info.history_length
        await asyncio.gather(*(add() for _ in range(max(1, min(500, (args.events - 10 - length) // 2)))))
    await handle.signal("stop")
    result = await handle.result()
    length = (await handle.describe()).raw_description.workflow_execution_info.history_length
    print(json.dumps({"events": length, "result": result}))


async def replay_python(args: argparse.Namespace) -> None:
    from temporalio.client import WorkflowHistory

    with open(args.history) as f:
        text = f.read()
    history = WorkflowHistory.from_json("replay-bench", text)
    patches = []
    for event in json.loads(text)["events"]:
        marker = event.get("markerRecordedEventAttributes")
        if marker and marker.get("markerName") == "core_patch":
            data = marker["details"]["patch-data"]["payloads"][0]["data"]
            patches.append(json.loads(base64.b64decode(data))["id"])
    if patches and not PATCHES:
        # Run again with the ids in the environment (see PATCHES).
        env = {**os.environ, "REPLAY_PATCHES": ",".join(patches)}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    # debug_mode: no 2-second deadlock detector, which a loaded machine trips.
    replayer = Replayer(workflows=[Counter], debug_mode=True)
    walls, cpus = [], []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        await replayer.replay_workflow(history)
        walls.append(1000 * (time.perf_counter() - t0))
        cpus.append(1000 * (time.process_time() - c0))
    report(text, walls, cpus, args.label)


def replay_weft(args: argparse.Namespace) -> None:
    """Runs `weft replay` --repeat times (after one run that fills its cache)."""
    command = [args.weft, "replay", "--module", args.module, "--history", args.history]
    env = {**os.environ, "RUST_LOG": "warn"}
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    walls, cpus = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        walls.append(1000 * (time.perf_counter() - t0))
        cpus.append(1000 * (usage.ru_utime + usage.ru_stime))
        if status != 0:
            sys.exit(f"weft replay failed: status {status}")
    with open(args.history) as f:
        report(f.read(), walls, cpus, args.label)


def report(history: str, walls: list[float], cpus: list[float], label: str | None) -> None:
    """Prints the history's event count and the best wall and CPU times
    (as a markdown table row when `label` is given)."""
    events = len(json.loads(history)["events"])
    wall, cpu = round(min(walls)), round(min(cpus))
    if label:
        print(f"| {label} | {events:,} | {wall:,} | {cpu:,} |")
    else:
        print(json.dumps({"events": events, "wall_ms": wall, "cpu_ms": cpu}))


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--address", required=True)
    r.add_argument("--queue", required=True)
    r.add_argument("--id", required=True)
    r.add_argument("--events", type=int, default=10_000)
    y = sub.add_parser("python")
    y.add_argument("--history", required=True)
    y.add_argument("--repeat", type=int, default=5)
    y.add_argument("--label", help="print a markdown table row with this label")
    w = sub.add_parser("weft")
    w.add_argument("--weft", required=True, help="the weft binary")
    w.add_argument("--module", required=True)
    w.add_argument("--history", required=True)
    w.add_argument("--repeat", type=int, default=5)
    w.add_argument("--label", help="print a markdown table row with this label")
    args = p.parse_args()
    if args.cmd == "weft":
        replay_weft(args)
    else:
        asyncio.run(record(args) if args.cmd == "record" else replay_python(args))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
