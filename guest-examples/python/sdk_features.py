"""What the Python SDK offers beyond the OrderWorkflow: an update with a
validator, a query with an argument, asyncio tasks (gather, wait,
cancellation), continue-as-new. Built to sdk_features_python.wasm; the e2e
test tests/e2e/python_sdk.rs and tests/run.sh's unit tests run it.
"""

import asyncio
from datetime import timedelta

from weft_sdk import workflow
from weft_sdk.exceptions import ApplicationError

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
