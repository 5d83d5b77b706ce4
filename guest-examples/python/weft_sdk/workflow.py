"""Workflow side of weft_sdk: register workflow functions and call the host.

A workflow is ordinary blocking Python code. Calls like `Handle.result()` and
`wait_any()` suspend the component until Temporal delivers what they wait
for; the host replays history to rebuild a run, so workflow code must be
deterministic: take time from `now_ms()`, randomness from `random_u64()`, and
never touch the clock, files or network (the component has no WASI at all:
`print`, `time.time()` and `open()` trap).

    from weft_sdk import workflow as wf
    from weft_sdk.workflow import WorkflowGuest  # the export componentize-py calls

    @wf.workflow("Greet")
    def greet(name):
        return wf.execute_activity("Hello", name, start_to_close_timeout_ms=10_000)
"""

from typing import Any, Callable, Dict, List, Optional

from componentize_py_types import Err
from wit_world.imports import workflow_host as host
from wit_world.imports.types import LogLevel
from wit_world.imports.workflow_host import ActivityCancellation, ActivityOptions, RetryPolicy

from . import ApplicationError, Payload, bind_args, decode, describe_exception, encode

__all__ = [
    "workflow", "WorkflowGuest", "Handle", "ApplicationError", "RetryPolicy",
    "ActivityCancellation", "LogLevel", "start_activity", "execute_activity",
    "start_timer", "sleep", "next_signal", "wait_any", "set_query", "log",
    "now_ms", "random_u64", "info", "is_replaying", "continue_as_new", "patched",
]

_WORKFLOWS: Dict[str, Callable[..., Any]] = {}


def workflow(name: Optional[str] = None):
    """Decorator: registers a function as the workflow type `name`.

    The function gets the workflow's arguments decoded from JSON and returns
    a JSON-serialisable value. Raising `ApplicationError` fails the workflow.
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _WORKFLOWS[name or fn.__name__] = fn
        return fn

    return register


class Handle:
    """A pending operation: an activity, a timer or a signal wait."""

    def __init__(self, handle: int):
        self.handle = handle

    def result(self) -> Any:
        """Blocks until done; returns the decoded value or raises ApplicationError.

        A failed activity raises its failure as received (same error type,
        message, non-retryable flag and details).
        """
        try:
            payload = host.result(self.handle)
        except Err as err:
            raise ApplicationError.from_failure(err.value) from None
        return decode(payload)

    def cancel(self) -> None:
        """Cancels it (no effect once it is done)."""
        host.cancel(self.handle)


def wait_any(*handles: Handle) -> Handle:
    """Blocks until one of `handles` is done; returns it (the first in order)."""
    done = host.wait_any([h.handle for h in handles])
    return next(h for h in handles if h.handle == done)


def start_activity(
    activity_type: str,
    *args: Any,
    task_queue: Optional[str] = None,
    start_to_close_timeout_ms: Optional[int] = None,
    schedule_to_close_timeout_ms: Optional[int] = None,
    schedule_to_start_timeout_ms: Optional[int] = None,
    heartbeat_timeout_ms: Optional[int] = None,
    retry_policy: Optional[RetryPolicy] = None,
    cancellation: ActivityCancellation = ActivityCancellation.TRY_CANCEL,
    activity_id: Optional[str] = None,
) -> Handle:
    """Schedules an activity with JSON-encoded `args`; returns at once.

    Temporal needs `start_to_close_timeout_ms` or
    `schedule_to_close_timeout_ms`; `task_queue` defaults to the workflow's.
    """
    options = ActivityOptions(
        task_queue=task_queue,
        start_to_close_timeout_ms=start_to_close_timeout_ms,
        schedule_to_close_timeout_ms=schedule_to_close_timeout_ms,
        schedule_to_start_timeout_ms=schedule_to_start_timeout_ms,
        heartbeat_timeout_ms=heartbeat_timeout_ms,
        retry_policy=retry_policy,
        cancellation=cancellation,
        activity_id=activity_id,
    )
    return Handle(host.start_activity(activity_type, [encode(a) for a in args], options))


def execute_activity(activity_type: str, *args: Any, **options: Any) -> Any:
    """`start_activity(...)` then `.result()`."""
    return start_activity(activity_type, *args, **options).result()


def start_timer(duration_ms: int) -> Handle:
    """A timer of workflow time; its result is None."""
    return Handle(host.start_timer(duration_ms))


def sleep(duration_ms: int) -> None:
    """Blocks for `duration_ms` of workflow time (a durable timer)."""
    start_timer(duration_ms).result()


def next_signal(name: str) -> Handle:
    """A handle resolving with the next signal `name`'s first argument (or None)."""
    return Handle(host.next_signal(name))


def set_query(name: str, value: Any) -> None:
    """Publishes `value` as the answer to query `name`."""
    host.set_query_result(name, encode(value))


def log(message: str, level: LogLevel = LogLevel.INFO) -> None:
    """Logs through the host (silent while replaying). Use instead of print."""
    host.log(level, message)


def now_ms() -> int:
    """Workflow time in ms since the Unix epoch. Use instead of time.time()."""
    return host.now()


def random_u64() -> int:
    """A deterministic random number (replays the same)."""
    return host.random()


def info() -> host.WorkflowInfo:
    return host.info()


def is_replaying() -> bool:
    return host.is_replaying()


def patched(patch_id: str) -> bool:
    return host.patched(patch_id)


def continue_as_new(*args: Any) -> None:
    """Ends this run and starts a new one with `args`. Never returns."""
    host.continue_as_new([encode(a) for a in args])


class WorkflowGuest:
    """The `workflow-guest` export: componentize-py instantiates the class of
    this name in the app module, so the app does
    `from weft_sdk.workflow import WorkflowGuest`."""

    def workflow_types(self) -> List[str]:
        return list(_WORKFLOWS)

    def run(self, workflow_type: str, args: List[Payload]) -> Payload:
        fn = _WORKFLOWS.get(workflow_type)
        try:
            if fn is None:
                raise ApplicationError(
                    f"this component does not offer workflow type {workflow_type!r}",
                    "UnknownWorkflowType",
                )
            values = [decode(a) for a in args]
            bind_args(fn, values)
            return encode(fn(*values))
        except ApplicationError as err:
            raise Err(err.to_failure())
        except Exception as exc:
            # A bug: say why through the host, then trap (re-raise), which
            # fails the workflow task; Temporal retries it.
            host.log(LogLevel.ERROR, f"workflow {workflow_type} raised {describe_exception(exc)}")
            raise
