"""OrderWorkflow in Python: the contract in guest-examples/ORDER.md.

Creates the order, gives the customer a grace period to cancel (signal
`cancel-order`; 1 s unless the third argument says), charges the payment,
and returns both activity results. Query `status` shows where the order is.

Written as for the Temporal Python SDK: swap the `weft_sdk` imports for
`temporalio` ones (and drop the ActivationGuest line) and it runs there.
"""

import asyncio
from datetime import timedelta

from weft_sdk import workflow
from weft_sdk.exceptions import ActivityError, ApplicationError

# componentize-py calls the `activation-guest` export through a class of this
# name in the app module; the SDK's runs the @workflow.defn classes.
from weft_sdk.workflow import ActivationGuest  # noqa: F401

DEFAULT_ACTIVITY_QUEUE = "ORDER_ACTIVITY_Q"
ACTIVITY_TIMEOUT = timedelta(seconds=60)
# The grace period unless the third argument says, and the longest it may be.
DEFAULT_GRACE_MS = 1_000
MAX_GRACE_MS = 86_400_000


@workflow.defn(name="OrderWorkflow")
class OrderWorkflow:
    def __init__(self) -> None:
        self._status = "creating"
        self._cancel_requested = False

    @workflow.run
    async def run(
        self, order_id: str, activity_queue: str = DEFAULT_ACTIVITY_QUEUE, grace_ms: int = DEFAULT_GRACE_MS
    ) -> dict:
        # bool is an int in Python, but not a JSON integer.
        if type(grace_ms) is not int or not 1 <= grace_ms <= MAX_GRACE_MS:
            raise ApplicationError(
                f"argument 3 (grace_ms) must be a JSON integer from 1 to {MAX_GRACE_MS}",
                type="InvalidInput",
                non_retryable=True,
            )

        workflow.logger.info("order %s: creating order", order_id)
        created = await self._activity("CreateOrder", order_id, activity_queue)

        # Grace period: whichever comes first, the timer or a cancel-order
        # signal (the timer is cancelled when the signal wins).
        self._status = "grace"
        try:
            await workflow.wait_condition(
                lambda: self._cancel_requested, timeout=timedelta(milliseconds=grace_ms)
            )
            self._status = "cancelled"
            raise ApplicationError(f"order {order_id} cancelled", type="OrderCancelled", non_retryable=True)
        except asyncio.TimeoutError:
            pass

        self._status = "charging"
        charged = await self._activity("ChargePayment", order_id, activity_queue)

        self._status = "completed"
        return {"order_id": order_id, "create_order": created, "charge_payment": charged}

    async def _activity(self, activity_type: str, order_id: str, queue: str):
        try:
            return await workflow.execute_activity(
                activity_type, order_id, task_queue=queue, start_to_close_timeout=ACTIVITY_TIMEOUT
            )
        except ActivityError:
            # Fails the workflow with the activity's failure as received.
            self._status = "failed"
            raise

    @workflow.signal(name="cancel-order")
    def cancel_order(self, *_args) -> None:
        self._cancel_requested = True

    @workflow.query
    def status(self) -> str:
        return self._status
