#!/usr/bin/env python3
"""The side-by-side benchmark's Python SDK arm: the OrderWorkflow and its two
activities (guest-examples/ORDER.md) on the official Temporal Python SDK
(`temporalio`, PyPI). bench/side.sh runs it like weft's arm: one process, a
workflow worker and an activity worker, 100 workflow-task slots, 100
activity slots, 1,000 cached runs.

  python3 bench/py-worker/worker.py --address 127.0.0.1:7233 \\
      --workflow-queue Q --activity-queue ORDER_ACTIVITY_Q --orders-dir /tmp/orders
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

MAX_GRACE_MS = 86_400_000
ORDER_ID = re.compile(r"[A-Za-z0-9_-]+")
ORDERS_DIR = "."


@workflow.defn(name="OrderWorkflow")
class OrderWorkflow:
    def __init__(self) -> None:
        self._status = ""
        self._cancel = False

    @workflow.run
    async def run(
        self, order_id: str, queue: str = "ORDER_ACTIVITY_Q", grace_ms: Any = 1000
    ) -> dict[str, Any]:
        if isinstance(grace_ms, bool) or not isinstance(grace_ms, int) or not (
            1 <= grace_ms <= MAX_GRACE_MS
        ):
            raise ApplicationError("grace_ms out of range", type="InvalidInput", non_retryable=True)
        self._status = "creating"
        workflow.logger.info("order %s: creating order", order_id)
        created = await self._activity("CreateOrder", order_id, queue)
        self._status = "grace"
        try:
            await workflow.wait_condition(lambda: self._cancel, timeout=grace_ms / 1000)
        except asyncio.TimeoutError:
            pass
        else:
            self._status = "cancelled"
            raise ApplicationError(
                f"order {order_id} cancelled", type="OrderCancelled", non_retryable=True
            )
        self._status = "charging"
        charged = await self._activity("ChargePayment", order_id, queue)
        self._status = "completed"
        return {"order_id": order_id, "create_order": created, "charge_payment": charged}

    async def _activity(self, name: str, order_id: str, queue: str) -> Any:
        try:
            return await workflow.execute_activity(
                name, order_id, task_queue=queue, start_to_close_timeout=timedelta(seconds=60)
            )
        except Exception:
            self._status = "failed"
            raise

    @workflow.signal(name="cancel-order")
    def cancel_order(self, *_: Any) -> None:
        self._cancel = True

    @workflow.query(name="status")
    def status(self) -> str:
        return self._status


def _start(order_id: Any) -> None:
    """The contract's first steps: check the id, heartbeat once, honour a cancel."""
    if not isinstance(order_id, str) or not ORDER_ID.fullmatch(order_id):
        raise ApplicationError(f"bad order id {order_id!r}", type="InvalidOrderId", non_retryable=True)
    activity.heartbeat()
    if activity.is_cancelled():
        raise ApplicationError("activity cancelled", type="Cancelled", non_retryable=True)


def _amount(order_id: str) -> int:
    return sum(order_id.encode()) % 9000 + 1000


@activity.defn(name="CreateOrder")
async def create_order(order_id: str) -> dict[str, Any]:
    _start(order_id)
    order = {
        "order_id": order_id,
        "amount_cents": _amount(order_id),
        "currency": os.environ.get("ORDER_CURRENCY", "USD"),
    }
    try:
        with open(os.path.join(ORDERS_DIR, f"{order_id}.json"), "w") as f:
            json.dump(order, f)
    except OSError as e:
        raise ApplicationError(str(e), type="IoError") from e
    return {**order, "status": "created"}


@activity.defn(name="ChargePayment")
async def charge_payment(order_id: str) -> dict[str, Any]:
    _start(order_id)
    if "decline" in order_id:
        raise ApplicationError(
            f"payment for order {order_id} declined", type="PaymentDeclined", non_retryable=True
        )
    try:
        with open(os.path.join(ORDERS_DIR, f"{order_id}.json")) as f:
            order = json.load(f)
    except FileNotFoundError as e:
        raise ApplicationError(f"no order {order_id}", type="OrderNotFound", non_retryable=True) from e
    return {
        "order_id": order_id,
        "status": "charged",
        "amount_cents": order["amount_cents"],
        "currency": order["currency"],
    }


async def main() -> None:
    global ORDERS_DIR
    p = argparse.ArgumentParser()
    p.add_argument("--address", default="127.0.0.1:7233")
    p.add_argument("--namespace", default="default")
    p.add_argument("--workflow-queue", required=True)
    p.add_argument("--activity-queue", default="ORDER_ACTIVITY_Q")
    p.add_argument("--orders-dir", required=True)
    p.add_argument("--max-cached-workflows", type=int, default=1000)
    args = p.parse_args()
    ORDERS_DIR = args.orders_dir
    client = await Client.connect(args.address, namespace=args.namespace)
    workflows = Worker(
        client,
        task_queue=args.workflow_queue,
        workflows=[OrderWorkflow],
        max_cached_workflows=args.max_cached_workflows,
        max_concurrent_workflow_tasks=100,
    )
    activities = Worker(
        client,
        task_queue=args.activity_queue,
        activities=[create_order, charge_payment],
        max_concurrent_activities=100,
    )
    await asyncio.gather(workflows.run(), activities.run())


if __name__ == "__main__":
    asyncio.run(main())
