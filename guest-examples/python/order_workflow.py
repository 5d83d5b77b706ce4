"""OrderWorkflow in Python: the contract in guest-examples/ORDER.md.

Creates the order, gives the customer a grace period to cancel (signal
`cancel-order`; 1 s unless the third argument says), charges the payment,
and returns both activity results.
Query `status` shows where the order is.
"""

from weft_sdk import ApplicationError
from weft_sdk import workflow as wf

# componentize-py calls the `workflow-guest` export through a class of this
# name in the app module; the SDK's dispatches to the @wf.workflow functions.
from weft_sdk.workflow import WorkflowGuest  # noqa: F401

DEFAULT_ACTIVITY_QUEUE = "ORDER_ACTIVITY_Q"
ACTIVITY_TIMEOUT_MS = 60_000
# The grace period unless the third argument says, and the longest it may be.
DEFAULT_GRACE_MS = 1_000
MAX_GRACE_MS = 86_400_000


@wf.workflow("OrderWorkflow")
def order_workflow(
    order_id: str, activity_queue: str = DEFAULT_ACTIVITY_QUEUE, grace_ms: int = DEFAULT_GRACE_MS
):
    # bool is an int in Python, but not a JSON integer.
    if type(grace_ms) is not int or not 1 <= grace_ms <= MAX_GRACE_MS:
        raise ApplicationError(
            f"argument 3 (grace_ms) must be a JSON integer from 1 to {MAX_GRACE_MS}",
            "InvalidInput",
            non_retryable=True,
        )

    def run_activity(activity_type: str):
        try:
            return wf.execute_activity(
                activity_type,
                order_id,
                task_queue=activity_queue,
                start_to_close_timeout_ms=ACTIVITY_TIMEOUT_MS,
            )
        except ApplicationError:
            # Fail the workflow with the activity's failure as received.
            wf.set_query("status", "failed")
            raise

    wf.set_query("status", "creating")
    wf.log(f"order {order_id}: creating order")
    created = run_activity("CreateOrder")

    # Grace period: whichever comes first, the timer or a cancel-order signal.
    wf.set_query("status", "grace")
    timer = wf.start_timer(grace_ms)
    cancel = wf.next_signal("cancel-order")
    if wf.wait_any(timer, cancel) is cancel:
        timer.cancel()
        wf.set_query("status", "cancelled")
        raise ApplicationError(f"order {order_id} cancelled", "OrderCancelled", non_retryable=True)

    wf.set_query("status", "charging")
    charged = run_activity("ChargePayment")

    wf.set_query("status", "completed")
    return {"order_id": order_id, "create_order": created, "charge_payment": charged}
