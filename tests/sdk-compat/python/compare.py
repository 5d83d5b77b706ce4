#!/usr/bin/env python3
"""Runs each sample workflow of this directory on the official Temporal
Python SDK worker and on weft, and compares the two runs.

The weft arm is a weft host serving `sdk_compat_python.wasm` (these same
files, built by guest-examples/python/build.sh with the `temporalio` alias
package) on `--weft-queue`. The SDK arm is a `temporalio` worker this
script starts on `--sdk-queue`. Activities run on `temporalio` workers in
both arms (one per queue, activities only), so both arms call the same
activity code.

For every scenario both arms are driven the same way (signals, queries
with arguments, updates, each step waiting for the previous one's effect),
then the script compares
  a. what the client saw: the result and every query and update answer;
  b. the commands in each run's history (and its children's and
     continued-as-new runs'): the command events in order, with their
     types, names and decoded payloads; ids, timestamps, task queues and
     weft's own `weft.module/...` pin marker are normalised away.
Prints `PASS <scenario>: ...` per scenario, or `FAIL <scenario>: ...` with
both sides, and `ALL PASSED` at the end. Needs temporalio 1.20.0.
tests/e2e/sdk_compat_python.rs runs it; by hand:

  python3 tests/sdk-compat/python/compare.py --address 127.0.0.1:7233 \
      --namespace default --sdk-queue COMPAT_PY_SDK --weft-queue COMPAT_PY_WEFT
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import traceback
import uuid
from datetime import timedelta
from typing import Any, Awaitable, Callable, Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError  # noqa: E402
from temporalio.exceptions import ApplicationError  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

import activities  # noqa: E402
from hello_activity import GreetingWorkflow  # noqa: E402
from hello_activity_method import ActivityMethodWorkflow, MyActivities, MyDatabaseClient  # noqa: E402
from hello_child_workflow import ComposeGreetingWorkflow, GreetingParentWorkflow  # noqa: E402
from hello_continue_as_new import LoopingWorkflow  # noqa: E402
from hello_dynamic_handlers import DynamicHandlersWorkflow  # noqa: E402
from hello_exception import ExceptionWorkflow  # noqa: E402
from hello_parallel_activity import SayHelloWorkflow  # noqa: E402
from hello_patch import PatchedWorkflow  # noqa: E402
from hello_search_attributes import SearchAttributesWorkflow, customer_id_key  # noqa: E402
from hello_signal_query import SignalQueryWorkflow  # noqa: E402
from hello_update import UpdateWorkflow  # noqa: E402
from timer_race import TimerRaceWorkflow  # noqa: E402

WORKFLOWS = [
    GreetingWorkflow,
    SayHelloWorkflow,
    SignalQueryWorkflow,
    UpdateWorkflow,
    ComposeGreetingWorkflow,
    GreetingParentWorkflow,
    TimerRaceWorkflow,
    LoopingWorkflow,
    PatchedWorkflow,
    SearchAttributesWorkflow,
    DynamicHandlersWorkflow,
    ExceptionWorkflow,
    ActivityMethodWorkflow,
]
ACTIVITIES = [
    activities.compose_greeting,
    activities.say_hello,
    activities.slow_greeting,
    activities.compose_greeting_unavailable,
    MyActivities(MyDatabaseClient()).do_database_thing,
]

# The patch id of the marker weft records first in every run it starts: it
# pins the run to its module version (docs/modules.md). Not a command of the
# workflow's code, so the comparison leaves it out.
WEFT_PIN = "weft.module/"

# How long one scenario (both arms) may take.
SCENARIO_TIMEOUT = 90.0


class CheckFailed(Exception):
    pass


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise CheckFailed(what)


# ------------------------------------------------------------- the drivers
#
# A driver starts one workflow on `queue` and drives it to its end; it
# returns what the client saw (compared across the arms) and the handle.


async def until(what: str, fn: Callable[[], Awaitable[bool]]) -> None:
    """Wait until `fn()` is true (a deadline, never a fixed sleep). A query
    may fail while the run has not finished its first workflow task: that
    counts as not yet."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SCENARIO_TIMEOUT / 2
    last: Any = None
    while True:
        try:
            if await fn():
                return
        except Exception as err:  # noqa: BLE001 - reported at the deadline
            last = err
        if loop.time() > deadline:
            raise CheckFailed(f"timed out waiting for {what} (last error: {last!r})")
        await asyncio.sleep(0.1)


async def drive_activity(client: Client, queue: str, wid: str):
    handle = await client.start_workflow(GreetingWorkflow.run, "World", id=wid, task_queue=queue)
    return {"result": await handle.result()}, handle


async def drive_parallel(client: Client, queue: str, wid: str):
    handle = await client.start_workflow(SayHelloWorkflow.run, id=wid, task_queue=queue)
    return {"result": await handle.result()}, handle


async def drive_signal_query(client: Client, queue: str, wid: str):
    handle = await client.start_workflow(SignalQueryWorkflow.run, id=wid, task_queue=queue)
    seen: Dict[str, Any] = {}
    await handle.signal(SignalQueryWorkflow.submit_greeting, "user1")

    async def greeted(n: int) -> bool:
        return len(await handle.query(SignalQueryWorkflow.greetings)) >= n

    await until("the first greeting", lambda: greeted(1))
    await handle.signal(SignalQueryWorkflow.submit_greetings, args=["hi", ["user2", "user3"]])
    await until("three greetings", lambda: greeted(3))
    seen["greetings"] = await handle.query(SignalQueryWorkflow.greetings)
    seen["greeting_at(1, True)"] = await handle.query(SignalQueryWorkflow.greeting_at, args=[1, True])
    seen["greeting_at(2, False)"] = await handle.query(SignalQueryWorkflow.greeting_at, args=[2, False])
    seen["greeting_at(9, False)"] = await handle.query(SignalQueryWorkflow.greeting_at, args=[9, False])
    await handle.signal(SignalQueryWorkflow.exit)
    seen["result"] = await handle.result()
    # Queries on a closed run still answer (by replay).
    seen["greeting_at(0, True) after close"] = await handle.query(SignalQueryWorkflow.greeting_at, args=[0, True])
    return seen, handle


async def drive_update(client: Client, queue: str, wid: str):
    handle = await client.start_workflow(UpdateWorkflow.run, "World", id=wid, task_queue=queue)
    seen: Dict[str, Any] = {}

    async def rejected(update: Any, *args: Any) -> str:
        try:
            result = await handle.execute_update(update, args=list(args))
        except WorkflowUpdateFailedError as err:
            return f"rejected: {err.cause.message}"
        return f"accepted: {result!r}"

    seen["set_language(xx)"] = await rejected(UpdateWorkflow.set_language, "xx")
    seen["set_language(fr)"] = await handle.execute_update(UpdateWorkflow.set_language, "fr")
    seen["greet('')"] = await rejected(UpdateWorkflow.greet, "")
    seen["greet(Ada)"] = await handle.execute_update(UpdateWorkflow.greet, "Ada")
    seen["update_workflow_status"] = await handle.execute_update(UpdateWorkflow.update_workflow_status)
    seen["result"] = await handle.result()
    return seen, handle


async def drive_child(client: Client, queue: str, wid: str):
    handle = await client.start_workflow(GreetingParentWorkflow.run, "World", id=wid, task_queue=queue)
    return {"result": await handle.result()}, handle


async def drive_timer_race(client: Client, queue: str, wid: str):
    handle = await client.start_workflow(TimerRaceWorkflow.run, "racer", id=wid, task_queue=queue)
    return {"result": await handle.result()}, handle


async def drive_continue_as_new(client: Client, queue: str, wid: str):
    handle = await client.start_workflow(LoopingWorkflow.run, 0, id=wid, task_queue=queue)
    return {"result": await handle.result()}, handle


async def drive_patch(client: Client, queue: str, wid: str):
    handle = await client.start_workflow(PatchedWorkflow.run, "World", id=wid, task_queue=queue)
    return {"result": await handle.result()}, handle


async def drive_search_attributes(client: Client, queue: str, wid: str):
    handle = await client.start_workflow(SearchAttributesWorkflow.run, "customer-7", id=wid, task_queue=queue)
    seen = {"result": await handle.result()}
    described = await handle.describe()
    seen["memo"] = await described.memo()
    # Only the workflow's own: BuildIds names each arm's worker build.
    seen["CustomerId"] = described.typed_search_attributes.get(customer_id_key)
    return seen, handle


async def drive_dynamic(client: Client, queue: str, wid: str):
    handle = await client.start_workflow(DynamicHandlersWorkflow.run, id=wid, task_queue=queue)
    seen: Dict[str, Any] = {}
    await handle.signal("greet", args=["Ada", "Bob"])

    async def events(n: int) -> bool:
        return await handle.query("event_count") >= n

    await until("the first signal", lambda: events(1))
    seen["update bump"] = await handle.execute_update("bump")
    try:
        await handle.execute_update("forbidden_thing")
        seen["update forbidden_thing"] = "accepted"
    except WorkflowUpdateFailedError as err:
        seen["update forbidden_thing"] = f"rejected: {err.cause.message}"
    await handle.signal("wave")
    await until("three events", lambda: events(3))
    seen["query any(0)"] = await handle.query("any", 0)
    seen["query other(2)"] = await handle.query("other", 2)
    seen["query none()"] = await handle.query("none")
    await handle.signal(DynamicHandlersWorkflow.finish)
    seen["result"] = await handle.result()
    return seen, handle


async def drive_exception(client: Client, queue: str, wid: str):
    handle = await client.start_workflow(ExceptionWorkflow.run, "World", id=wid, task_queue=queue)
    try:
        return {"result": await handle.result()}, handle
    except WorkflowFailureError as err:
        cause = err.cause
        expect(isinstance(cause, ApplicationError), f"the failure is not an ApplicationError: {cause!r}")
        failed = {"message": cause.message, "type": cause.type, "non_retryable": cause.non_retryable}
        return {"failed": {**failed, "details": list(cause.details)}}, handle


async def drive_activity_method(client: Client, queue: str, wid: str):
    handle = await client.start_workflow(ActivityMethodWorkflow.run, id=wid, task_queue=queue)
    return {"result": await handle.result()}, handle


Driver = Callable[[Client, str, str], Awaitable[Any]]

SCENARIOS: List[tuple] = [
    ("hello_activity", drive_activity),
    ("hello_parallel_activity", drive_parallel),
    ("hello_signal_query", drive_signal_query),
    ("hello_update", drive_update),
    ("hello_child_workflow", drive_child),
    ("timer_race", drive_timer_race),
    ("hello_continue_as_new", drive_continue_as_new),
    ("hello_patch", drive_patch),
    ("hello_search_attributes", drive_search_attributes),
    ("hello_dynamic_handlers", drive_dynamic),
    ("hello_exception", drive_exception),
    ("hello_activity_method", drive_activity_method),
]


# ---------------------------------------------------------- the histories


def payloads(ps: Any) -> List[Any]:
    """Decoded JSON payloads (both arms use Temporal's JSON converter)."""
    out = []
    for p in ps.payloads:
        encoding = p.metadata.get("encoding", b"").decode()
        if encoding == "binary/null":
            out.append(None)
        elif encoding.startswith("json/"):
            out.append(json.loads(p.data))
        else:
            out.append({"encoding": encoding, "data": p.data.hex()})
    return out


def seconds(d: Any) -> float:
    return d.ToTimedelta().total_seconds()


def failure(f: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {"message": f.message}
    if f.HasField("application_failure_info"):
        out["type"] = f.application_failure_info.type
        out["non_retryable"] = f.application_failure_info.non_retryable
        out["details"] = payloads(f.application_failure_info.details)
    if f.HasField("cause"):
        out["cause"] = failure(f.cause)
    return out


def command(event: Any, wid: str) -> Optional[Dict[str, Any]]:
    """The command an event records, normalised; None for other events."""
    t = event.event_type
    name = EventType.Name(t).removeprefix("EVENT_TYPE_")
    if t == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        a = event.activity_task_scheduled_event_attributes
        return {
            "command": name,
            "activity_type": a.activity_type.name,
            "input": payloads(a.input),
            "start_to_close_timeout": seconds(a.start_to_close_timeout),
            "heartbeat_timeout": seconds(a.heartbeat_timeout),
            "retry_policy": {
                "initial_interval": seconds(a.retry_policy.initial_interval),
                "backoff_coefficient": a.retry_policy.backoff_coefficient,
                "maximum_interval": seconds(a.retry_policy.maximum_interval),
                "maximum_attempts": a.retry_policy.maximum_attempts,
                "non_retryable_error_types": list(a.retry_policy.non_retryable_error_types),
            },
        }
    if t == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED:
        return {"command": name}
    if t == EventType.EVENT_TYPE_TIMER_STARTED:
        a = event.timer_started_event_attributes
        return {"command": name, "start_to_fire_timeout": seconds(a.start_to_fire_timeout)}
    if t == EventType.EVENT_TYPE_TIMER_CANCELED:
        return {"command": name}
    if t == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        a = event.start_child_workflow_execution_initiated_event_attributes
        return {
            "command": name,
            "workflow_type": a.workflow_type.name,
            "workflow_id": a.workflow_id.replace(wid, "<parent>"),
            "input": payloads(a.input),
        }
    if t == EventType.EVENT_TYPE_MARKER_RECORDED:
        a = event.marker_recorded_event_attributes
        details = {k: payloads(v) for k, v in sorted(a.details.items())}
        patch = (details.get("patch-data") or [{}])[0] or {}
        if str(patch.get("id", "")).startswith(WEFT_PIN):
            return None  # weft's own pin of the run to its module version
        return {"command": name, "marker_name": a.marker_name, "details": details}
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        a = event.workflow_execution_update_accepted_event_attributes
        return {
            "command": name,
            "update": a.accepted_request.input.name,
            "args": payloads(a.accepted_request.input.args),
        }
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
        o = event.workflow_execution_update_completed_event_attributes.outcome
        if o.HasField("success"):
            return {"command": name, "success": payloads(o.success)}
        return {"command": name, "failure": failure(o.failure)}
    if t == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        a = event.signal_external_workflow_execution_initiated_event_attributes
        return {"command": name, "signal": a.signal_name, "input": payloads(a.input)}
    if t == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        a = event.upsert_workflow_search_attributes_event_attributes
        attributes = {k: payloads_one(v) for k, v in sorted(a.search_attributes.indexed_fields.items())}
        # Core lists every patch in TemporalChangeVersion, weft's pin too.
        versions = attributes.get("TemporalChangeVersion")
        if versions is not None:
            versions["value"] = [v for v in versions["value"] if not v.startswith(WEFT_PIN)]
            if not versions["value"]:
                del attributes["TemporalChangeVersion"]
        if not attributes:
            return None
        return {"command": name, "search_attributes": attributes}
    if t == EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
        a = event.workflow_properties_modified_event_attributes
        return {"command": name, "memo": {k: payloads_one(v) for k, v in sorted(a.upserted_memo.fields.items())}}
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        return {"command": name, "result": payloads(event.workflow_execution_completed_event_attributes.result)}
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        return {"command": name, "failure": failure(event.workflow_execution_failed_event_attributes.failure)}
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
        return {"command": name}
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        a = event.workflow_execution_continued_as_new_event_attributes
        return {"command": name, "workflow_type": a.workflow_type.name, "input": payloads(a.input)}
    return None


def payloads_one(p: Any) -> Any:
    class One:
        payloads = [p]

    value = payloads(One)[0]
    type_ = p.metadata.get("type")
    if not type_:
        return value
    # Core versions spell a search attribute's type differently (1.20's
    # bundled core: INDEXED_VALUE_TYPE_KEYWORD_LIST, weft's: KeywordList);
    # the server reads both.
    canonical = type_.decode().removeprefix("INDEXED_VALUE_TYPE_").replace("_", "").lower()
    return {"type": canonical, "value": value}


async def commands_of(client: Client, wid: str, run_id: Optional[str] = None) -> List[Dict[str, Any]]:
    """The commands of a run, then of the children it started and of the
    runs it continued as, each after a `run` line."""
    history = await client.get_workflow_handle(wid, run_id=run_id).fetch_history()
    out: List[Dict[str, Any]] = []
    children: List[str] = []
    next_run: Optional[str] = None
    for event in history.events:
        cmd = command(event, wid)
        if cmd is not None:
            out.append(cmd)
        if event.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
            children.append(event.child_workflow_execution_started_event_attributes.workflow_execution.workflow_id)
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            next_run = event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    for child in children:
        out.append({"run": "child", "workflow_id": child.replace(wid, "<parent>")})
        out.extend(await commands_of(client, child))
    if next_run:
        out.append({"run": "continued-as-new"})
        out.extend(await commands_of(client, wid, next_run))
    return out


async def pinned(client: Client, wid: str, run_id: Optional[str]) -> bool:
    """True when weft ran the run (it records its pin marker first)."""
    history = await client.get_workflow_handle(wid, run_id=run_id).fetch_history()
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            data = event.marker_recorded_event_attributes.details.get("patch-data")
            if data and data.payloads and WEFT_PIN.encode() in data.payloads[0].data:
                return True
    return False


# ----------------------------------------------------------------- running


def show(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, default=str)


def first_difference(a: List[Any], b: List[Any]) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"command {i}: sdk {show(x)}\nweft {show(y)}"
    return f"sdk has {len(a)} commands, weft {len(b)}"


async def scenario(client: Client, q: argparse.Namespace, name: str, drive: Driver) -> str:
    tag = uuid.uuid4().hex[:8]
    ids = {arm: f"compat-py-{name}-{arm}-{tag}" for arm in ("sdk", "weft")}
    (sdk_seen, sdk_handle), (weft_seen, weft_handle) = await asyncio.gather(
        drive(client, q.sdk_queue, ids["sdk"]), drive(client, q.weft_queue, ids["weft"])
    )
    expect(sdk_seen == weft_seen, f"the client saw\nsdk  {show(sdk_seen)}\nweft {show(weft_seen)}")
    # The weft arm really ran on weft: its run carries weft's pin marker.
    pins = {arm: await pinned(client, ids[arm], h.first_execution_run_id) for arm, h in (("sdk", sdk_handle), ("weft", weft_handle))}
    expect(pins == {"sdk": False, "weft": not q.self_check}, f"weft's pin marker in which arm's history: {pins}")
    # From the first run: a continued-as-new chain is followed from there.
    sdk_cmds = await commands_of(client, ids["sdk"], sdk_handle.first_execution_run_id)
    weft_cmds = await commands_of(client, ids["weft"], weft_handle.first_execution_run_id)
    expect(
        sdk_cmds == weft_cmds,
        f"the commands differ ({first_difference(sdk_cmds, weft_cmds)})\n"
        f"sdk  {show(sdk_cmds)}\nweft {show(weft_cmds)}",
    )
    kinds = [c.get("command") or f"[{c['run']}]" for c in sdk_cmds]
    return f"same answers {json.dumps(sdk_seen, sort_keys=True)}; same {len(sdk_cmds)} commands {kinds}"


class Failed(Exception):
    pass


async def run(client: Client, q: argparse.Namespace, name: str, drive: Driver) -> bool:
    try:
        detail = await asyncio.wait_for(scenario(client, q, name, drive), SCENARIO_TIMEOUT)
    except CheckFailed as e:
        print(f"FAIL {name}: {e}", flush=True)
        return False
    except asyncio.TimeoutError:
        print(f"FAIL {name}: timed out after {SCENARIO_TIMEOUT:.0f}s", flush=True)
        return False
    except Exception as e:  # noqa: BLE001 - report anything unexpected
        print(f"FAIL {name}: unexpected {e!r}\n{traceback.format_exc()}", flush=True)
        return False
    print(f"PASS {name}: {detail}", flush=True)
    return True


async def main() -> bool:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--address", required=True, help="Temporal frontend host:port")
    p.add_argument("--namespace", required=True)
    p.add_argument("--sdk-queue", default="COMPAT_PY_SDK", help="the temporalio worker's queue")
    p.add_argument("--weft-queue", default="COMPAT_PY_WEFT", help="the weft host's workflow queue")
    p.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    p.add_argument(
        "--self-check", action="store_true", help="serve the weft queue's workflows from temporalio too (checks the checker)"
    )
    q = p.parse_args()

    client = await Client.connect(q.address, namespace=q.namespace)
    scenarios = [(n, d) for n, d in SCENARIOS if not q.only or n in q.only]
    # Workflows and activities on the SDK arm's queue; on weft's queue only
    # activities (weft polls its workflow tasks).
    weft_workflows = WORKFLOWS if q.self_check else []
    async with Worker(client, task_queue=q.sdk_queue, workflows=WORKFLOWS, activities=ACTIVITIES), Worker(
        client, task_queue=q.weft_queue, workflows=weft_workflows, activities=ACTIVITIES
    ):
        results = await asyncio.gather(*(run(client, q, n, d) for n, d in scenarios))
    if all(results):
        print("ALL PASSED", flush=True)
    return all(results)


if __name__ == "__main__":
    ok = asyncio.run(main())
    # The SDK's native runtime can still hold threads while CPython
    # finalises (see tests/interop/sdk_interop.py): skip finalisation.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if ok else 1)
