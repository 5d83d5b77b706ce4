"""Activity side of weft_sdk: register activity functions and call the host.

Activities may do IO, through the WASI interfaces weft grants them in its
config (preopened directories, environment variables, ...): plain `open()`,
`os.environ`, `time.time()` work, within those grants.

    from weft_sdk import activity as act
    from weft_sdk.activity import ActivityGuest  # the export componentize-py calls

    @act.activity("Hello")
    def hello(name):
        return f"hello {name}"
"""

from typing import Any, Callable, Dict, List, Optional

from componentize_py_types import Err
from wit_world.imports.types import LogLevel

try:
    from wit_world.imports import activity_host as host
except ImportError:
    # Built into a workflow component (whose world has no activity host): a
    # workflow module may import its activities to name them by function,
    # as temporalio workflows do; only the decorators are used there.
    host = None

from . import ApplicationError, Payload, bind_args, decode, describe_exception, encode

__all__ = [
    "activity", "defn", "ActivityGuest", "ApplicationError", "LogLevel", "heartbeat", "is_cancelled", "log", "info",
]

_ACTIVITIES: Dict[str, Callable[..., Any]] = {}


def activity(name: Optional[str] = None):
    """Decorator: registers a function as the activity type `name`.

    The function gets the activity's arguments decoded from JSON and returns
    a JSON-serialisable value. Raising `ApplicationError` fails the attempt.
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _ACTIVITIES[name or fn.__name__] = fn
        return fn

    return register


def defn(fn: Optional[Callable[..., Any]] = None, *, name: Optional[str] = None):
    """`@activity.defn` / `@activity.defn(name=...)`, as in temporalio:
    registers a function as an activity type (its name by default)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__weft_activity__ = name or fn.__name__  # type: ignore[attr-defined]
        return activity(name)(fn)

    return register(fn) if fn is not None else register


_cancelled = False


def heartbeat(*details: Any) -> bool:
    """Records progress; True once cancellation has been requested."""
    global _cancelled
    _cancelled = host.heartbeat([encode(d) for d in details]) or _cancelled
    return _cancelled


def is_cancelled() -> bool:
    """True once a heartbeat learnt that cancellation was requested."""
    return _cancelled


def log(message: str, level: LogLevel = LogLevel.INFO) -> None:
    """Logs through the host, tagged with the activity's identity."""
    host.log(level, message)


def info() -> "host.ActivityInfo":
    return host.info()


class ActivityGuest:
    """The `activity-guest` export (componentize-py looks it up by name)."""

    def activity_types(self) -> List[str]:
        return list(_ACTIVITIES)

    def execute(self, activity_type: str, args: List[Payload]) -> Payload:
        global _cancelled
        _cancelled = False
        fn = _ACTIVITIES.get(activity_type)
        try:
            if fn is None:
                raise ApplicationError(
                    f"this component does not offer activity type {activity_type!r}",
                    type="UnknownActivityType",
                    non_retryable=True,
                )
            values = [decode(a) for a in args]
            bind_args(fn, values)
            return encode(fn(*values))
        except ApplicationError as err:
            raise Err(err.to_failure())
        except Exception as exc:
            # Unexpected: fail this attempt as retryable, like an uncaught
            # exception in a Temporal SDK activity.
            raise Err(
                ApplicationError(describe_exception(exc), type=type(exc).__name__).to_failure()
            )
