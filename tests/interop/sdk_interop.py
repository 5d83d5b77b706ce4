#!/usr/bin/env python3
"""Interop between weft guests and the official Temporal Python SDK.

Runs against a Temporal server where a weft host serves the Rust
OrderWorkflow (guest-examples/ORDER.md) on the weft workflow queue and the
Rust order activities, with weft's test activity `Fail`
(tests/guests/sandbox-activities), on the weft activity queue. Three
directions:

  a. Python SDK client  -> weft workflow (execute, query, failure, signal-with-start)
  b. Python SDK workflow -> weft activities
  c. weft workflow      -> Python SDK activities

Prints one `PASS <check>: ...` line per check; on the first failure prints
`FAIL <check>: ...` and exits 1. Needs Python 3.11 and temporalio 1.20.0.
`tests/e2e/sdk_interop.rs` runs it; by hand:

  python3 tests/interop/sdk_interop.py --address 127.0.0.1:7233 \
      --namespace default --workflow-queue WF_rust --activity-queue ACT_rust
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import traceback
from datetime import timedelta
from typing import Any, Awaitable, Callable

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError
from temporalio.worker import Worker

# How long one check may take before it fails.
CHECK_TIMEOUT = 90.0


# ---------------------------------------------------------------------------
# ORDER.md, as the Python SDK sees it.


def expected_activity(order_id: str, status: str) -> dict[str, Any]:
    """What CreateOrder ("created") or ChargePayment ("charged") returns."""
    return {
        "order_id": order_id,
        "status": status,
        "amount_cents": sum(order_id.encode()) % 9000 + 1000,
        "currency": "EUR",
    }


def expected_order(order_id: str) -> dict[str, Any]:
    """What OrderWorkflow returns."""
    return {
        "order_id": order_id,
        "create_order": expected_activity(order_id, "created"),
        "charge_payment": expected_activity(order_id, "charged"),
    }


# ---------------------------------------------------------------------------
# Check (b): a Python SDK workflow calling weft's activities.


@workflow.defn(name="PyOrderWorkflow")
class PyOrderWorkflow:
    """Runs weft's CreateOrder and ChargePayment on a weft activity queue."""

    @workflow.run
    async def run(self, order_id: str, activity_queue: str) -> dict[str, Any]:
        created = await workflow.execute_activity(
            "CreateOrder",
            order_id,
            task_queue=activity_queue,
            start_to_close_timeout=timedelta(seconds=60),
        )
        charged = await workflow.execute_activity(
            "ChargePayment",
            order_id,
            task_queue=activity_queue,
            start_to_close_timeout=timedelta(seconds=60),
        )
        return {"order_id": order_id, "create_order": created, "charge_payment": charged}


@workflow.defn(name="PyFailWorkflow")
class PyFailWorkflow:
    """Runs weft's test activity `Fail` once: it fails with the error type it
    is given and a JSON detail `{"attempt": n}`."""

    @workflow.run
    async def run(self, error_type: str, activity_queue: str) -> Any:
        return await workflow.execute_activity(
            "Fail",
            {"error_type": error_type, "non_retryable": True},
            task_queue=activity_queue,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )


# ---------------------------------------------------------------------------
# Check (c): Python SDK activities that weft's workflow calls (ORDER.md
# without the order file: the amount is computed again).

ORDER_ID = re.compile(r"[A-Za-z0-9_-]+")


def _order(order_id: Any, status: str) -> dict[str, Any]:
    if not isinstance(order_id, str) or not ORDER_ID.fullmatch(order_id):
        raise ApplicationError(
            f"invalid order id {order_id!r}", type="InvalidOrderId", non_retryable=True
        )
    activity.heartbeat()
    if activity.is_cancelled():
        raise ApplicationError("cancelled", type="Cancelled", non_retryable=True)
    return expected_activity(order_id, status)


@activity.defn(name="CreateOrder")
async def create_order(order_id: str) -> dict[str, Any]:
    result = _order(order_id, "created")
    activity.logger.info("order %s: created (python sdk)", order_id)
    return result


@activity.defn(name="ChargePayment")
async def charge_payment(order_id: str) -> dict[str, Any]:
    if isinstance(order_id, str) and "decline" in order_id:
        raise ApplicationError(
            f"payment for order {order_id} declined",
            type="PaymentDeclined",
            non_retryable=True,
        )
    return _order(order_id, "charged")


# ---------------------------------------------------------------------------
# The checks.


class CheckFailed(Exception):
    pass


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise CheckFailed(what)


def chain(err: BaseException | None) -> str:
    """An exception and its causes, one per arrow, for failure messages."""
    parts = []
    while err is not None:
        extra = ""
        if isinstance(err, ApplicationError):
            extra = f" type={err.type!r} non_retryable={err.non_retryable}"
        message = err.message if isinstance(err, FailureError) else str(err)
        parts.append(f"{type(err).__name__}({message!r}{extra})")
        err = err.__cause__
    return " -> ".join(parts)


def application_cause(err: BaseException, outer: type) -> ApplicationError:
    """The ApplicationError that `err` (an `outer`) wraps."""
    expect(isinstance(err, outer), f"expected {outer.__name__}, got {chain(err)}")
    cause = err.__cause__
    expect(
        isinstance(cause, ApplicationError),
        f"expected an ApplicationError cause, got {chain(err)}",
    )
    return cause  # type: ignore[return-value]


async def query_until(handle: Any, name: str, want: Any) -> Any:
    """Query until the answer is `want` or the check's deadline passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CHECK_TIMEOUT / 2
    last: Any = None
    while True:
        try:
            last = await handle.query(name)
        except Exception as e:  # noqa: BLE001 - a worker may not be ready yet
            last = e
        if last == want or loop.time() > deadline:
            return last
        await asyncio.sleep(0.2)


async def a_result(client: Client, q: argparse.Namespace) -> str:
    order_id = "py-client-1"
    handle = await client.start_workflow(
        "OrderWorkflow", args=[order_id, q.activity_queue], id=order_id, task_queue=q.workflow_queue
    )
    result = await handle.result()
    expect(result == expected_order(order_id), f"result {result!r} != {expected_order(order_id)!r}")
    status = await query_until(handle, "status", "completed")
    expect(status == "completed", f"query status = {status!r}, expected 'completed'")
    # The result on the wire is Temporal's standard JSON payload.
    history = await handle.fetch_history()
    completed = [
        e.workflow_execution_completed_event_attributes
        for e in history.events
        if e.HasField("workflow_execution_completed_event_attributes")
    ]
    expect(len(completed) == 1, f"{len(completed)} completion events in the history")
    encoding = completed[0].result.payloads[0].metadata.get("encoding")
    expect(encoding == b"json/plain", f"result payload encoding {encoding!r}, expected json/plain")
    return f"execute_workflow returned {result!r} (json/plain); query status = {status!r}"


async def a_declined(client: Client, q: argparse.Namespace) -> str:
    order_id = "decline-py-1"
    try:
        result = await client.execute_workflow(
            "OrderWorkflow", args=[order_id, q.activity_queue], id=order_id, task_queue=q.workflow_queue
        )
    except WorkflowFailureError as e:
        cause = application_cause(e, WorkflowFailureError)
        expect(cause.type == "PaymentDeclined", f"error type: {chain(e)}")
        expect(cause.non_retryable, f"not non-retryable: {chain(e)}")
        expect(
            cause.message == f"payment for order {order_id} declined", f"message: {chain(e)}"
        )
        return f"WorkflowFailureError -> {chain(cause)}"
    raise CheckFailed(f"workflow completed with {result!r}, expected PaymentDeclined")


async def a_signal_with_start(client: Client, q: argparse.Namespace) -> str:
    order_id = "cancel-py-1"
    handle = await client.start_workflow(
        "OrderWorkflow",
        args=[order_id, q.activity_queue],
        id=order_id,
        task_queue=q.workflow_queue,
        start_signal="cancel-order",
    )
    try:
        result = await handle.result()
    except WorkflowFailureError as e:
        cause = application_cause(e, WorkflowFailureError)
        expect(cause.type == "OrderCancelled", f"error type: {chain(e)}")
        expect(cause.non_retryable, f"not non-retryable: {chain(e)}")
        expect(cause.message == f"order {order_id} cancelled", f"message: {chain(e)}")
        status = await query_until(handle, "status", "cancelled")
        expect(status == "cancelled", f"query status = {status!r}, expected 'cancelled'")
        return f"WorkflowFailureError -> {chain(cause)}; query status = {status!r}"
    raise CheckFailed(f"workflow completed with {result!r}, expected OrderCancelled")


async def b_py_workflow(client: Client, q: argparse.Namespace) -> str:
    order_id = "py-wf-1"
    result = await client.execute_workflow(
        PyOrderWorkflow.run,
        args=[order_id, q.activity_queue],
        id=order_id,
        task_queue=q.py_workflow_queue,
    )
    expect(result == expected_order(order_id), f"result {result!r} != {expected_order(order_id)!r}")
    return f"PyOrderWorkflow returned {result!r}"


def expect_activity_failure(
    e: WorkflowFailureError, activity_type: str, error_type: str, message: str, details: tuple
) -> None:
    """A workflow failed by a weft activity's non-retryable application
    failure, read field by field as any Python SDK workflow reads it."""
    activity_error = e.__cause__
    expect(isinstance(activity_error, ActivityError), f"expected ActivityError: {chain(e)}")
    cause = application_cause(activity_error, ActivityError)  # type: ignore[arg-type]
    expect(cause.type == error_type, f"error type: {chain(e)}")
    expect(cause.non_retryable, f"not non-retryable: {chain(e)}")
    expect(cause.message == message, f"message: {chain(e)}")
    expect(tuple(cause.details) == details, f"details {cause.details!r}, expected {details!r}")
    expect(activity_error.activity_type == activity_type, f"activity: {chain(e)}")  # type: ignore[union-attr]


async def b_declined(client: Client, q: argparse.Namespace) -> str:
    order_id = "decline-py-wf-1"
    try:
        result = await client.execute_workflow(
            PyOrderWorkflow.run,
            args=[order_id, q.activity_queue],
            id=order_id,
            task_queue=q.py_workflow_queue,
        )
    except WorkflowFailureError as e:
        # The Rust ChargePayment attaches no details to PaymentDeclined.
        expect_activity_failure(
            e, "ChargePayment", "PaymentDeclined", f"payment for order {order_id} declined", ()
        )
        return f"WorkflowFailureError -> {chain(e.__cause__)}"  # type: ignore[arg-type]
    raise CheckFailed(f"workflow completed with {result!r}, expected PaymentDeclined")


async def b_failure_details(client: Client, q: argparse.Namespace) -> str:
    try:
        result = await client.execute_workflow(
            PyFailWorkflow.run,
            args=["Declined", q.activity_queue],
            id="py-wf-weft-fail-1",
            task_queue=q.py_workflow_queue,
        )
    except WorkflowFailureError as e:
        # The details are decoded by the Python SDK's own JSON converter.
        expect_activity_failure(e, "Fail", "Declined", "failed on attempt 1", ({"attempt": 1},))
        return f"WorkflowFailureError -> {chain(e.__cause__)} details=({{'attempt': 1}},)"  # type: ignore[arg-type]
    raise CheckFailed(f"workflow completed with {result!r}, expected Declined")


async def c_weft_workflow(client: Client, q: argparse.Namespace) -> str:
    order_id = "weft-wf-py-act-1"
    result = await client.execute_workflow(
        "OrderWorkflow",
        args=[order_id, q.py_activity_queue],
        id=order_id,
        task_queue=q.workflow_queue,
    )
    expect(result == expected_order(order_id), f"result {result!r} != {expected_order(order_id)!r}")
    return f"weft OrderWorkflow returned {result!r}"


async def c_weft_workflow_declined(client: Client, q: argparse.Namespace) -> str:
    order_id = "decline-weft-wf-py-act-1"
    try:
        result = await client.execute_workflow(
            "OrderWorkflow",
            args=[order_id, q.py_activity_queue],
            id=order_id,
            task_queue=q.workflow_queue,
        )
    except WorkflowFailureError as e:
        cause = application_cause(e, WorkflowFailureError)
        expect(cause.type == "PaymentDeclined", f"error type: {chain(e)}")
        expect(cause.non_retryable, f"not non-retryable: {chain(e)}")
        return f"WorkflowFailureError -> {chain(cause)}"
    raise CheckFailed(f"workflow completed with {result!r}, expected PaymentDeclined")


Check = Callable[[Client, argparse.Namespace], Awaitable[str]]


async def run(name: str, check: Check, client: Client, q: argparse.Namespace) -> None:
    try:
        detail = await asyncio.wait_for(check(client, q), CHECK_TIMEOUT)
    except CheckFailed as e:
        fail(name, str(e))
    except asyncio.TimeoutError:
        fail(name, f"timed out after {CHECK_TIMEOUT:.0f}s (is weft serving the queues?)")
    except Exception as e:  # noqa: BLE001 - report anything unexpected
        fail(name, f"unexpected {chain(e)}\n{traceback.format_exc()}")
    print(f"PASS {name}: {detail}", flush=True)


class Failed(Exception):
    """A check failed; its FAIL line is printed."""


def fail(name: str, message: str) -> None:
    print(f"FAIL {name}: {message}", flush=True)
    raise Failed(name)


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--address", required=True, help="Temporal frontend host:port")
    p.add_argument("--namespace", required=True)
    p.add_argument("--workflow-queue", default="WF_rust", help="weft's OrderWorkflow queue")
    p.add_argument("--activity-queue", default="ACT_rust", help="weft's order activities queue")
    p.add_argument("--py-workflow-queue", default="PY_WF_Q", help="the Python SDK workflow worker's queue")
    p.add_argument("--py-activity-queue", default="PY_ACT_Q", help="the Python SDK activity worker's queue")
    q = p.parse_args()

    try:
        client = await Client.connect(q.address, namespace=q.namespace)
    except Exception as e:  # noqa: BLE001
        fail("connect", f"cannot connect to {q.address}: {chain(e)}")

    # (a) Python SDK client -> weft workflow.
    await run("a.client-execute-and-query", a_result, client, q)
    await run("a.client-declined", a_declined, client, q)
    await run("a.client-signal-with-start", a_signal_with_start, client, q)

    # (b) Python SDK workflow (sandboxed) -> weft activities.
    async with Worker(
        client, task_queue=q.py_workflow_queue, workflows=[PyOrderWorkflow, PyFailWorkflow]
    ):
        await run("b.py-workflow-weft-activities", b_py_workflow, client, q)
        await run("b.py-workflow-weft-activity-declined", b_declined, client, q)
        await run("b.py-workflow-weft-activity-failure-details", b_failure_details, client, q)

    # (c) weft workflow -> Python SDK activities.
    async with Worker(
        client, task_queue=q.py_activity_queue, activities=[create_order, charge_payment]
    ):
        await run("c.weft-workflow-py-activities", c_weft_workflow, client, q)
        await run("c.weft-workflow-py-activity-declined", c_weft_workflow_declined, client, q)

    print("ALL PASSED", flush=True)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Failed:
        sys.stdout.flush()
        os._exit(1)
    # The SDK's native runtime can still hold threads while CPython
    # finalises, which sometimes aborts the interpreter after every check
    # passed (seen once in CI: "PyGILState_Release ... finalizing"). The
    # result is known by now, so skip finalisation.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
