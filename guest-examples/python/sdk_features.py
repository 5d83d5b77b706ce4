"""What the Python SDK offers beyond the OrderWorkflow: an update with a
validator, a query with an argument, asyncio tasks (gather, wait,
cancellation), retry policies and failure causes, a child workflow,
continue-as-new. Built to sdk_features_python.wasm; the e2e
test tests/e2e/python_sdk.rs and tests/run.sh's unit tests run it.
"""

import asyncio
from datetime import timedelta

from weft_sdk import workflow
from weft_sdk.common import RetryPolicy
from weft_sdk.exceptions import ActivityError, ApplicationError

# The export componentize-py calls (see order_workflow.py).
from weft_sdk.workflow import ActivationGuest  # noqa: F401


@workflow.defn
class Counter:
    def __init__(self) -> None:
        self.total = 0
        self.done = False

    @workflow.run
    async def run(self) -> dict:
        await workflow.wait_condition(lambda: self.done)
        return {"total": self.total}

    @workflow.update
    async def add(self, n: int) -> int:
        self.total += n
        return self.total

    @add.validator
    def validate_add(self, n: int) -> None:
        if n < 0:
            raise ApplicationError(f"cannot add {n}")

    @workflow.signal
    def done(self) -> None:
        self.done = True

    @workflow.query
    def plus(self, n: int) -> int:
        return self.total + n


@workflow.defn
class Fanout:
    @workflow.run
    async def run(self, n: int) -> dict:
        handles = [
            workflow.start_activity("Echo", chr(ord("a") + i), start_to_close_timeout=timedelta(seconds=5))
            for i in range(n)
        ]
        sleeper = asyncio.ensure_future(asyncio.sleep(60))
        results = await asyncio.gather(*handles)
        done, _ = await asyncio.wait([sleeper], timeout=0)
        sleeper.cancel()
        try:
            await sleeper
            raced = "timer-fired"
        except asyncio.CancelledError:
            raced = "timer-cancelled"
        return {"results": results, "uuid": str(workflow.uuid4()), "raced": raced}


@workflow.defn
class Sleeper:
    @workflow.run
    async def run(self, again: bool = False) -> None:
        if again:
            workflow.continue_as_new(False)
        await asyncio.sleep(3600)


@workflow.defn
class Tour:
    """Activities fanned out with asyncio.gather, a timer cancelled as a
    task, a failed activity's cause, a child workflow, deterministic
    uuid4/now (tests/e2e/python_sdk.rs, with tests/guests' sandbox
    activities `Wait` and `Fail`)."""

    @workflow.run
    async def run(self, n: int) -> dict:
        timeout = timedelta(seconds=30)
        waits = [workflow.start_activity("Wait", 10 * (i + 1), start_to_close_timeout=timeout) for i in range(n)]
        timer = asyncio.ensure_future(asyncio.sleep(3600))
        results = await asyncio.gather(*waits)
        timer.cancel()
        done, pending = await asyncio.wait([timer])
        try:
            await workflow.execute_activity(
                "Fail",
                {"error_type": "Nope", "non_retryable": False},
                start_to_close_timeout=timeout,
                retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=10), maximum_attempts=2),
            )
            failed = None
        except ActivityError as err:
            failed = {"type": err.cause.type, "message": err.cause.message, "details": list(err.cause.details)}
        child = await workflow.execute_child_workflow("Double", 21, id=f"{workflow.info().workflow_id}-child")
        return {
            "waited": [r["waited_ms"] for r in results],
            "timer_cancelled": timer.cancelled(),
            "failed": failed,
            "child": child,
            "uuid": str(workflow.uuid4()),
            "year": workflow.now().year,
        }


@workflow.defn
class Double:
    @workflow.run
    async def run(self, x: int) -> int:
        await asyncio.sleep(0.01)
        return 2 * x
