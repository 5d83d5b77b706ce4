"""CreateOrder and ChargePayment in Python: the contract in guest-examples/ORDER.md.

Orders are JSON files in /orders, a directory weft preopens for this
component when its config grants it; without the grant no file is reachable.
Plain open() and os.environ work: componentize-py's Python runs on WASI p2.
"""

import json
import os
import re

from weft_sdk import ApplicationError
from weft_sdk import activity as act

# componentize-py calls the `activity-guest` export through a class of this
# name in the app module; the SDK's dispatches to the @act.activity functions.
from weft_sdk.activity import ActivityGuest  # noqa: F401

ORDERS_DIR = "/orders"
# Only these characters, so that an order id cannot name a path outside /orders.
ORDER_ID = re.compile(r"[A-Za-z0-9_-]+")


@act.activity("CreateOrder")
def create_order(*args):
    order_id = order_id_arg(args)
    heartbeat()
    amount = amount_cents(order_id)
    # Granted in config (`env = { ORDER_CURRENCY = ... }`); without the grant
    # the variable does not exist in the sandbox.
    currency = os.environ.get("ORDER_CURRENCY", "USD")
    order = {
        "order_id": order_id,
        "items": [
            {"sku": "WIDGET-1", "quantity": 1 + amount % 3},
            {"sku": "GADGET-7", "quantity": 1},
        ],
        "amount_cents": amount,
        "currency": currency,
    }
    path = order_path(order_id)
    try:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(order, f)
    except OSError as err:
        raise ApplicationError(f"cannot write {path}: {err}", type="IoError")
    act.log(f"created order {order_id} ({amount} cents) in {path}")
    return {"order_id": order_id, "status": "created", "amount_cents": amount, "currency": currency}


@act.activity("ChargePayment")
def charge_payment(*args):
    order_id = order_id_arg(args)
    heartbeat()
    if "decline" in order_id:
        raise ApplicationError(f"payment for order {order_id} declined", type="PaymentDeclined", non_retryable=True)
    path = order_path(order_id)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise ApplicationError(
            f"order {order_id} does not exist ({path} not found); run CreateOrder first",
            type="OrderNotFound",
            non_retryable=True,
        )
    except OSError as err:
        raise ApplicationError(f"cannot read {path}: {err}", type="IoError")
    try:
        order = json.loads(text)
        amount = order["amount_cents"]
        if not isinstance(amount, int):
            raise ValueError("amount_cents is not an integer")
    except (ValueError, KeyError, TypeError) as err:
        raise ApplicationError(f"{path} is not a valid order: {err}", type="CorruptOrder", non_retryable=True)
    currency = order.get("currency")
    act.log(f"charged {amount} cents ({currency}) for order {order_id}")
    return {"order_id": order_id, "status": "charged", "amount_cents": amount, "currency": currency}


def order_id_arg(args) -> str:
    """The one argument both activities take: an order id, as a JSON string."""
    if len(args) != 1:
        raise ApplicationError(
            f"expected one argument (the order id), got {len(args)}", type="InvalidOrderId", non_retryable=True
        )
    order_id = args[0]
    if not isinstance(order_id, str) or not ORDER_ID.fullmatch(order_id):
        raise ApplicationError(
            f"order id {order_id!r} must be a non-empty string of A-Z, a-z, 0-9, '_' and '-'",
            type="InvalidOrderId",
            non_retryable=True,
        )
    return order_id


def amount_cents(order_id: str) -> int:
    """A made-up but deterministic price: the same order id always costs the same."""
    return sum(order_id.encode()) % 9000 + 1000


def order_path(order_id: str) -> str:
    return f"{ORDERS_DIR}/{order_id}.json"


def heartbeat() -> None:
    """Reports progress once; fails the attempt if cancellation was requested."""
    if act.heartbeat():
        raise ApplicationError("activity was cancelled", type="Cancelled", non_retryable=True)
