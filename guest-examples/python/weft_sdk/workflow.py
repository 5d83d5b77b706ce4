"""Workflows, written as for `temporalio.workflow`.

    import asyncio
    from datetime import timedelta
    from weft_sdk import workflow
    from weft_sdk.workflow import ActivationGuest  # the export componentize-py calls

    @workflow.defn(name="Greet")
    class Greet:
        def __init__(self) -> None:
            self._greeting = None

        @workflow.run
        async def run(self, name: str) -> str:
            await asyncio.sleep(1)  # a durable timer
            self._greeting = await workflow.execute_activity(
                "Hello", name, start_to_close_timeout=timedelta(seconds=10)
            )
            return self._greeting

        @workflow.query
        def greeting(self) -> str:
            return self._greeting

Each run has its own deterministic asyncio event loop (weft_sdk._runtime);
many runs share one component instance. Workflow code must be
deterministic: time from `workflow.now()`, randomness from
`workflow.random()` / `workflow.uuid4()`, no threads, no IO (the component
has no WASI at all: `print`, `time.time()` and `open()` trap).
"""

import asyncio
import contextlib
import inspect
import random as _random
import uuid as _uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import IntEnum
from typing import Any, Awaitable, Callable, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from componentize_py_types import Ok
from wit_world.imports import activation_host as host
from wit_world.imports import workflow_options as wo
from wit_world.imports.types import LogLevel, Payload

from . import _runtime, decode, encode
from ._convert import convert, return_hint
from ._runtime import ActivationGuest, ContinueAsNewError, Definition, current
from .common import (
    RawValue,
    RetryPolicy,
    SearchAttributeIndexedValueType,
    SearchAttributeKey,
    SearchAttributeUpdate,
    millis,
)
from .exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
    FailureError,
    _cause_of,
)

__all__ = [
    "ActivationGuest", "defn", "init", "run", "signal", "query", "update",
    "execute_activity", "start_activity", "execute_local_activity", "start_local_activity",
    "start_activity_method", "execute_activity_method", "start_activity_class", "execute_activity_class",
    "start_local_activity_method", "execute_local_activity_method", "start_local_activity_class",
    "execute_local_activity_class", "execute_child_workflow", "start_child_workflow", "get_external_workflow_handle",
    "wait_condition", "wait", "as_completed", "unsafe", "sleep", "now", "time", "random", "uuid4", "info", "patched",
    "deprecate_patch", "upsert_search_attributes", "upsert_memo", "continue_as_new", "payload_converter",
    "set_signal_handler", "set_dynamic_signal_handler", "get_signal_handler", "get_dynamic_signal_handler",
    "set_query_handler", "set_dynamic_query_handler", "get_query_handler", "get_dynamic_query_handler",
    "set_update_handler", "set_dynamic_update_handler", "get_update_handler", "get_dynamic_update_handler",
    "RawValue", "SearchAttributeKey", "SearchAttributeUpdate",
    "logger", "all_handlers_finished", "in_workflow", "ActivityCancellationType",
    "ChildWorkflowCancellationType", "ParentClosePolicy", "ActivityHandle",
    "ChildWorkflowHandle", "ExternalWorkflowHandle", "Info", "ContinueAsNewError",
    "RetryPolicy", "ApplicationError", "ActivityError", "ChildWorkflowError", "CancelledError",
]

_UNSET: Any = object()
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# ---------------------------------------------------------------- definitions


def defn(cls: Optional[type] = None, *, name: Optional[str] = None, instance_per_run: bool = False):
    """Class decorator: registers a workflow class as workflow type `name`
    (the class name by default).

    `instance_per_run=True` (weft only) asks the host for one component
    instance per run, for code that keeps state in module globals.
    """

    def register(cls: type) -> type:
        run_fn = None
        signals, queries, updates = {}, {}, {}
        for klass in reversed(cls.__mro__):
            for attr in vars(klass).values():
                if getattr(attr, "__weft_run__", False):
                    run_fn = attr
                # A dynamic handler is kept under the name None.
                dynamic = getattr(attr, "__weft_dynamic__", False)
                if getattr(attr, "__weft_signal__", None):
                    signals[None if dynamic else attr.__weft_signal__] = attr
                if getattr(attr, "__weft_query__", None):
                    queries[None if dynamic else attr.__weft_query__] = attr
                if getattr(attr, "__weft_update__", None):
                    updates[None if dynamic else attr.__weft_update__] = attr
        if run_fn is None:
            raise TypeError(f"workflow class {cls.__name__} has no @workflow.run method")
        if not inspect.iscoroutinefunction(run_fn):
            raise TypeError(f"{cls.__name__}.{run_fn.__name__} must be an `async def`")
        type_name = name or cls.__name__
        _runtime.DEFINITIONS[type_name] = Definition(
            name=type_name,
            cls=cls,
            run=run_fn,
            init_takes_args=getattr(cls.__init__, "__weft_init__", False),
            signals=signals,
            queries=queries,
            updates=updates,
            instance_per_run=instance_per_run,
        )
        return cls

    return register(cls) if cls is not None else register


def init(fn: Callable[..., None]) -> Callable[..., None]:
    """Marks `__init__` as taking the workflow's arguments (as `run` does)."""
    fn.__weft_init__ = True  # type: ignore[attr-defined]
    return fn


def run(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Marks the workflow's `async def run(self, ...)`."""
    fn.__weft_run__ = True  # type: ignore[attr-defined]
    return fn


def _handler_decorator(marker: str):
    def decorator(
        fn: Optional[Callable[..., Any]] = None, *, name: Optional[str] = None, dynamic: bool = False, **_options: Any
    ):
        def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
            setattr(fn, marker, name or fn.__name__)
            # A dynamic handler takes (name, args: Sequence[RawValue]).
            fn.__weft_dynamic__ = dynamic  # type: ignore[attr-defined]
            return fn

        return mark(fn) if fn is not None else mark

    return decorator


signal = _handler_decorator("__weft_signal__")
signal.__doc__ = """Marks a signal handler (`def` or `async def`); `name=` defaults to the method's.
`dynamic=True`: it takes every signal without a handler of its own, as `(name, args)`."""
query = _handler_decorator("__weft_query__")
query.__doc__ = """Marks a query handler (a read-only `def`); it may take arguments.
`dynamic=True`: it answers every query without a handler of its own, as `(name, args)`."""


def update(
    fn: Optional[Callable[..., Any]] = None, *, name: Optional[str] = None, dynamic: bool = False, **_options: Any
):
    """Marks an update handler (`def` or `async def`). `@<handler>.validator`
    marks a `def` that runs first and rejects the update by raising.
    `dynamic=True`: it takes every update without a handler of its own, as
    `(name, args)`."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__weft_update__ = name or fn.__name__  # type: ignore[attr-defined]
        fn.__weft_dynamic__ = dynamic  # type: ignore[attr-defined]

        def validator(vfn: Callable[..., None]) -> Callable[..., None]:
            fn.__weft_validator__ = vfn  # type: ignore[attr-defined]
            return vfn

        fn.validator = validator  # type: ignore[attr-defined]
        return fn

    return mark(fn) if fn is not None else mark


# ------------------------------------------------------------------- options


class ActivityCancellationType(IntEnum):
    """What cancelling an activity waits for (as in temporalio)."""

    TRY_CANCEL = 0
    WAIT_CANCELLATION_COMPLETED = 1
    ABANDON = 2


class ChildWorkflowCancellationType(IntEnum):
    ABANDON = 0
    TRY_CANCEL = 1
    WAIT_CANCELLATION_COMPLETED = 2
    WAIT_CANCELLATION_REQUESTED = 3


class ParentClosePolicy(IntEnum):
    TERMINATE = 1
    ABANDON = 2
    REQUEST_CANCEL = 3


_ACTIVITY_CANCELLATION = {
    ActivityCancellationType.TRY_CANCEL: wo.ActivityCancellation.TRY_CANCEL,
    ActivityCancellationType.WAIT_CANCELLATION_COMPLETED: wo.ActivityCancellation.WAIT_CANCELLATION_COMPLETED,
    ActivityCancellationType.ABANDON: wo.ActivityCancellation.ABANDON,
}
_CHILD_CANCELLATION = {
    ChildWorkflowCancellationType.ABANDON: wo.ChildCancellation.ABANDON,
    ChildWorkflowCancellationType.TRY_CANCEL: wo.ChildCancellation.TRY_CANCEL,
    ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED: wo.ChildCancellation.WAIT_CANCELLATION_COMPLETED,
    ChildWorkflowCancellationType.WAIT_CANCELLATION_REQUESTED: wo.ChildCancellation.WAIT_CANCELLATION_REQUESTED,
}
_PARENT_CLOSE = {
    ParentClosePolicy.TERMINATE: wo.ParentClosePolicy.TERMINATE,
    ParentClosePolicy.ABANDON: wo.ParentClosePolicy.ABANDON,
    ParentClosePolicy.REQUEST_CANCEL: wo.ParentClosePolicy.REQUEST_CANCEL,
}


def _ms(duration: Optional[Union[timedelta, float]]) -> Optional[int]:
    if duration is None:
        return None
    if not isinstance(duration, timedelta):
        duration = timedelta(seconds=duration)
    return millis(duration)


def _type_name(fn: Union[str, Callable[..., Any], type]) -> str:
    """An activity or workflow given by name, function, class or the
    workflow's run method (`execute_child_workflow(Child.run, ...)`)."""
    if isinstance(fn, str):
        return fn
    return (
        getattr(fn, "__weft_activity__", None)
        or next((d.name for d in _runtime.DEFINITIONS.values() if d.cls is fn or d.run is fn), None)
        or fn.__name__
    )


def _handler_name(handler: Union[str, Callable[..., Any]]) -> str:
    """A signal given by name or by its handler method."""
    if isinstance(handler, str):
        return handler
    return getattr(handler, "__weft_signal__", None) or handler.__name__


def _result_hint(fn: Any, result_type: Any) -> Any:
    """What a result converts to: `result_type=`, else the return hint of
    the activity function or run method named (as temporalio does)."""
    if result_type is not None:
        return result_type
    if isinstance(fn, type):
        definition = next((d for d in _runtime.DEFINITIONS.values() if d.cls is fn), None)
        fn = definition.run if definition else None
    return return_hint(fn)


def _args(arg: Any, args: Sequence[Any]) -> List[Payload]:
    values = list(args) if arg is _UNSET else [arg, *args]
    return [encode(v) for v in values]


# ------------------------------------------------------------------ handles


class _HostFuture(asyncio.Future):
    """A future the host resolves (an activity, a child's result): cancel()
    asks the host, and the future then resolves as the cancellation type says
    (usually with a `CancelledError` cause)."""

    def __init__(self, weft_handle: int, result_hint: Any = None) -> None:
        super().__init__(loop=current().loop)
        self._weft_handle = weft_handle
        self._result_hint = result_hint
        self._cancel_asked = False
        current().resolvers[weft_handle] = self._resolve

    def _resolve(self, outcome: Any) -> None:
        if self.done():
            return
        if isinstance(outcome, Ok):
            try:
                self.set_result(self._value(outcome.value))
            except FailureError as err:
                self.set_exception(err)
        else:
            self.set_exception(self._error(outcome.value))

    def _value(self, payload: Any) -> Any:
        """The result a resolved payload stands for."""
        return convert(decode(payload), self._result_hint)

    def _error(self, failure: Any) -> BaseException:
        """The exception a failure stands for."""
        return _cause_of(failure)

    def cancel(self, msg: Any = None) -> bool:
        if self.done():
            return False
        if not self._cancel_asked and _runtime.in_workflow():
            self._cancel_asked = True
            host.cancel(self._weft_handle)
        return True


class ActivityHandle(_HostFuture):
    """A started activity: await it for its result (`ActivityError` if it
    failed); `cancel()` asks Temporal to cancel it."""

    def __init__(
        self, weft_handle: int, activity_type: str, activity_id: Optional[str], result_hint: Any = None
    ) -> None:
        super().__init__(weft_handle, result_hint)
        self.activity_type = activity_type
        self.activity_id = activity_id or str(weft_handle)

    def _error(self, failure: Any) -> ActivityError:
        return ActivityError(
            "Activity task failed",
            activity_type=self.activity_type,
            activity_id=self.activity_id,
            cause=_cause_of(failure),
        )


def start_activity(
    activity: Union[str, Callable[..., Any]],
    arg: Any = _UNSET,
    *,
    args: Sequence[Any] = (),
    task_queue: Optional[str] = None,
    schedule_to_close_timeout: Optional[timedelta] = None,
    schedule_to_start_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    heartbeat_timeout: Optional[timedelta] = None,
    retry_policy: Optional[RetryPolicy] = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    activity_id: Optional[str] = None,
    result_type: Optional[type] = None,
    **_options: Any,
) -> ActivityHandle:
    """Schedule an activity (by name, or by a function registered under
    one); returns its handle at once. Temporal needs
    `start_to_close_timeout` or `schedule_to_close_timeout`."""
    name = _type_name(activity)
    options = wo.ActivityOptions(
        task_queue=task_queue,
        start_to_close_timeout_ms=_ms(start_to_close_timeout),
        schedule_to_close_timeout_ms=_ms(schedule_to_close_timeout),
        schedule_to_start_timeout_ms=_ms(schedule_to_start_timeout),
        heartbeat_timeout_ms=_ms(heartbeat_timeout),
        retry_policy=retry_policy.to_wit() if retry_policy else None,
        cancellation=_ACTIVITY_CANCELLATION[cancellation_type],
        activity_id=activity_id,
    )
    current()
    return ActivityHandle(
        host.start_activity(name, _args(arg, args), options), name, activity_id, _result_hint(activity, result_type)
    )


async def execute_activity(activity: Union[str, Callable[..., Any]], arg: Any = _UNSET, **kwargs: Any) -> Any:
    """`start_activity(...)`, then its result."""
    return await start_activity(activity, arg, **kwargs)


def start_local_activity(
    activity: Union[str, Callable[..., Any]],
    arg: Any = _UNSET,
    *,
    args: Sequence[Any] = (),
    schedule_to_close_timeout: Optional[timedelta] = None,
    start_to_close_timeout: Optional[timedelta] = None,
    retry_policy: Optional[RetryPolicy] = None,
    local_retry_threshold: Optional[timedelta] = None,
    result_type: Optional[type] = None,
    **_options: Any,
) -> ActivityHandle:
    """Run a short activity in this worker (it must serve the type too);
    Temporal records its result as a marker."""
    name = _type_name(activity)
    options = wo.LocalActivityOptions(
        start_to_close_timeout_ms=_ms(start_to_close_timeout),
        schedule_to_close_timeout_ms=_ms(schedule_to_close_timeout),
        retry_policy=retry_policy.to_wit() if retry_policy else None,
        local_retry_threshold_ms=_ms(local_retry_threshold),
    )
    current()
    return ActivityHandle(
        host.start_local_activity(name, _args(arg, args), options), name, None, _result_hint(activity, result_type)
    )


async def execute_local_activity(activity: Union[str, Callable[..., Any]], arg: Any = _UNSET, **kwargs: Any) -> Any:
    return await start_local_activity(activity, arg, **kwargs)


# Activities given as a method (`MyActivities.do_thing`, registered on the
# worker as a bound method of an instance) or as a class whose `__call__`
# is the activity: the same calls, as temporalio names them.
start_activity_method = start_activity
execute_activity_method = execute_activity
start_local_activity_method = start_local_activity
execute_local_activity_method = execute_local_activity


def _class_activity(cls: type, kwargs: dict) -> str:
    """A callable activity class's name (`@activity.defn` on the class: its
    name, as in temporalio); its result converts by `__call__`'s hint."""
    if kwargs.get("result_type") is None:
        kwargs["result_type"] = return_hint(cls.__call__)
    return getattr(cls, "__weft_activity__", None) or cls.__name__


def start_activity_class(activity: type, arg: Any = _UNSET, **kwargs: Any) -> ActivityHandle:
    return start_activity(_class_activity(activity, kwargs), arg, **kwargs)


async def execute_activity_class(activity: type, arg: Any = _UNSET, **kwargs: Any) -> Any:
    return await start_activity_class(activity, arg, **kwargs)


def start_local_activity_class(activity: type, arg: Any = _UNSET, **kwargs: Any) -> ActivityHandle:
    return start_local_activity(_class_activity(activity, kwargs), arg, **kwargs)


async def execute_local_activity_class(activity: type, arg: Any = _UNSET, **kwargs: Any) -> Any:
    return await start_local_activity_class(activity, arg, **kwargs)


class ChildWorkflowHandle(_HostFuture):
    """A started child workflow: await it for its result
    (`ChildWorkflowError` if it failed)."""

    def __init__(
        self, weft_handle: int, workflow_type: str, workflow_id: Optional[str], result_hint: Any = None
    ) -> None:
        super().__init__(weft_handle, result_hint)
        self.workflow_type = workflow_type
        self.id = workflow_id

    def _error(self, failure: Any) -> ChildWorkflowError:
        return ChildWorkflowError(
            "Child Workflow execution failed",
            workflow_type=self.workflow_type,
            workflow_id=self.id or "",
            cause=_cause_of(failure),
        )

    async def signal(self, signal: Union[str, Callable[..., Any]], arg: Any = _UNSET, *, args: Sequence[Any] = ()) -> None:
        await get_external_workflow_handle(self.id).signal(signal, arg, args=args)


async def start_child_workflow(
    workflow: Union[str, type],
    arg: Any = _UNSET,
    *,
    args: Sequence[Any] = (),
    id: Optional[str] = None,
    task_queue: Optional[str] = None,
    execution_timeout: Optional[timedelta] = None,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
    cancellation_type: ChildWorkflowCancellationType = ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    result_type: Optional[type] = None,
    **_options: Any,
) -> ChildWorkflowHandle:
    """Start a child workflow; returns its handle once it has started.
    Without `id=` the child's id is a `workflow.uuid4()`, as in temporalio."""
    run = current()
    name = _type_name(workflow)
    id = id or str(uuid4())
    options = wo.ChildOptions(
        workflow_id=id,
        task_queue=task_queue,
        execution_timeout_ms=_ms(execution_timeout),
        parent_close_policy=_PARENT_CLOSE[parent_close_policy],
        cancellation=_CHILD_CANCELLATION[cancellation_type],
    )
    weft_handle = host.start_child(name, _args(arg, args), options)
    handle = ChildWorkflowHandle(weft_handle, name, id, _result_hint(workflow, result_type))
    started = run.loop.create_future()
    run.child_starts[weft_handle] = started
    try:
        outcome = await started
    except asyncio.CancelledError:
        handle.cancel()
        raise
    if not isinstance(outcome, Ok):
        raise handle._error(outcome.value)
    return handle


async def execute_child_workflow(workflow: Union[str, type], arg: Any = _UNSET, **kwargs: Any) -> Any:
    """`start_child_workflow(...)`, then its result."""
    return await (await start_child_workflow(workflow, arg, **kwargs))


class ExternalWorkflowHandle:
    """Another workflow, by id (`get_external_workflow_handle`)."""

    def __init__(self, workflow_id: str) -> None:
        self.id = workflow_id

    async def signal(self, signal: Union[str, Callable[..., Any]], arg: Any = _UNSET, *, args: Sequence[Any] = ()) -> None:
        current()
        await _Delivery(host.signal_workflow(self.id, _handler_name(signal), _args(arg, args)))

    async def cancel(self) -> None:
        current()
        await _Delivery(host.cancel_workflow(self.id))


class _Delivery(_HostFuture):
    """A signal or cancellation request sent to another workflow: resolves
    with None once delivered, or with why not."""

    def _value(self, payload: Any) -> None:
        return None


def get_external_workflow_handle(workflow_id: str, *, run_id: Optional[str] = None) -> ExternalWorkflowHandle:
    return ExternalWorkflowHandle(workflow_id)


# -------------------------------------------------------------- run context


async def wait_condition(fn: Callable[[], bool], *, timeout: Optional[Union[timedelta, float]] = None, **_: Any) -> None:
    """Wait until `fn()` is true (checked whenever the run's coroutines all
    wait); `asyncio.TimeoutError` after `timeout` of workflow time."""
    run = current()
    fut = run.loop.create_future()
    run.conditions.append((fn, fut))
    if timeout is None:
        await fut
        return
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    await asyncio.wait_for(fut, seconds)


async def wait(
    fs: Iterable[Any], *, timeout: Optional[float] = None, return_when: str = asyncio.ALL_COMPLETED
) -> Tuple[List[Any], List[Any]]:
    """`asyncio.wait` with lists in the order given, not sets (whose order
    can differ between runs), as temporalio's `workflow.wait`: `(done,
    pending)`. Pass tasks or futures, not coroutines."""
    fs = list(fs)
    if not fs:
        raise ValueError("Sequence of Tasks/Futures must not be empty.")
    if any(asyncio.iscoroutine(f) for f in fs):
        raise TypeError("Passing coroutines is forbidden, use tasks explicitly.")
    if return_when not in (asyncio.FIRST_COMPLETED, asyncio.FIRST_EXCEPTION, asyncio.ALL_COMPLETED):
        raise ValueError(f"Invalid return_when value: {return_when}")
    loop = current().loop
    waiter = loop.create_future()
    timer = loop.call_later(timeout, lambda: waiter.done() or waiter.set_result(None)) if timeout is not None else None
    counter = len(fs)

    def on_done(f: asyncio.Future) -> None:
        nonlocal counter
        counter -= 1
        first_error = return_when == asyncio.FIRST_EXCEPTION and not f.cancelled() and f.exception() is not None
        if (counter <= 0 or return_when == asyncio.FIRST_COMPLETED or first_error) and not waiter.done():
            waiter.set_result(None)

    for f in fs:
        f.add_done_callback(on_done)
    try:
        await waiter
    finally:
        if timer is not None:
            timer.cancel()
        for f in fs:
            f.remove_done_callback(on_done)
    return [f for f in fs if f.done()], [f for f in fs if not f.done()]


def as_completed(fs: Iterable[Awaitable[Any]], *, timeout: Optional[float] = None) -> Iterator[Awaitable[Any]]:
    """`asyncio.as_completed` without its set, as temporalio's: awaitables
    in the order they finish (ties in the order given)."""
    loop = current().loop
    todo = [asyncio.ensure_future(f, loop=loop) for f in list(fs)]
    done: asyncio.Queue = asyncio.Queue()
    timer = None

    def on_timeout() -> None:
        for f in todo:
            f.remove_done_callback(on_done)
            done.put_nowait(None)
        todo.clear()

    def on_done(f: asyncio.Future) -> None:
        if not todo:
            return
        todo.remove(f)
        done.put_nowait(f)
        if not todo and timer is not None:
            timer.cancel()

    async def next_done() -> Any:
        f = await done.get()
        if f is None:
            raise asyncio.TimeoutError
        return f.result()

    for f in todo:
        f.add_done_callback(on_done)
    if todo and timeout is not None:
        timer = loop.call_later(timeout, on_timeout)
    return iter([next_done() for _ in range(len(todo))])


class unsafe:
    """`workflow.unsafe`, as in temporalio. weft has no sandbox (a workflow
    component reaches nothing nondeterministic), so passing imports through
    or lifting restrictions changes nothing here."""

    @staticmethod
    def is_replaying() -> bool:
        current()
        return host.is_replaying()

    @staticmethod
    def in_sandbox() -> bool:
        return False

    @staticmethod
    @contextlib.contextmanager
    def imports_passed_through() -> Iterator[None]:
        yield

    @staticmethod
    @contextlib.contextmanager
    def sandbox_unrestricted() -> Iterator[None]:
        yield


async def sleep(duration: Union[timedelta, float]) -> None:
    """A durable timer (`asyncio.sleep` works as well)."""
    await asyncio.sleep(duration.total_seconds() if isinstance(duration, timedelta) else duration)


def now() -> datetime:
    """Workflow time (the activation's), as an aware UTC datetime."""
    return _EPOCH + timedelta(milliseconds=host.now())


def time() -> float:
    """Workflow time in seconds since the epoch (the loop's `time()`)."""
    return current().loop.time()


def random():
    """The run's `random.Random`, seeded from its history."""
    run = current()
    if run.random is None:
        run.random = _random.Random(host.random())
    return run.random


def uuid4() -> _uuid.UUID:
    """A deterministic version-4 UUID from `random()`."""
    return _uuid.UUID(int=random().getrandbits(128), version=4)


@dataclass(frozen=True)
class Info:
    """Facts about the run (a subset of temporalio's `workflow.Info`)."""

    workflow_type: str
    workflow_id: str
    run_id: str
    namespace: str
    task_queue: str
    attempt: int


def info() -> Info:
    run = current()
    if run.info is None:
        i = host.info()
        run.info = Info(i.workflow_type, i.workflow_id, i.run_id, i.namespace, i.task_queue, i.attempt)
    return run.info


def in_workflow() -> bool:
    return _runtime.in_workflow()


def patched(patch_id: str) -> bool:
    """True when this run takes the code introduced under `patch_id`."""
    current()
    return host.patched(patch_id)


def deprecate_patch(patch_id: str) -> None:
    current()
    host.deprecate_patch(patch_id)


def upsert_search_attributes(attributes: Union[Mapping[str, Any], Sequence[Any]]) -> None:
    """Set, replace or unset search attributes: typed updates
    (`[SearchAttributeKey.for_keyword("CustomerId").value_set("c1")]`, as
    temporalio writes them: each payload carries its type), or, the older
    form, a mapping name -> value."""
    current()
    if isinstance(attributes, Mapping):
        host.upsert_search_attributes([(k, encode(v)) for k, v in attributes.items()])
        return
    encoded = []
    for item in attributes:
        if isinstance(item, SearchAttributeUpdate):
            encoded.append((item.key.name, _search_attribute_payload(item.key, item.value)))
        else:  # a (name, value) pair
            name, value = item
            encoded.append((name, encode(value)))
    if encoded:
        host.upsert_search_attributes(encoded)


def _search_attribute_payload(key: SearchAttributeKey, value: Any) -> Payload:
    """A typed search attribute's value as temporalio encodes it: JSON with
    a `type` metadata entry (none for an unset, whose value is null)."""
    if value is None:
        return encode(None)
    if isinstance(value, datetime):
        value = value.isoformat()
    elif key.indexed_value_type == SearchAttributeIndexedValueType.KEYWORD_LIST:
        value = list(value)
    payload = encode(value)
    return Payload(metadata=payload.metadata + [("type", key._metadata_type.encode())], data=payload.data)


# ------------------------------------------------------ handlers at run time


def set_signal_handler(name: str, handler: Optional[Callable[..., Any]]) -> None:
    """Handle signal `name` with `handler` (None removes it); signals that
    came before are delivered to it now, in order."""
    current().set_signal_handler(name, handler)


def set_dynamic_signal_handler(handler: Optional[Callable[..., Any]]) -> None:
    """Handle every signal without a handler of its own: `handler(name, args)`,
    `args` a sequence of `RawValue`."""
    current().set_signal_handler(None, handler)


def get_signal_handler(name: str) -> Optional[Callable[..., Any]]:
    return current().signal_handlers.get(name)


def get_dynamic_signal_handler() -> Optional[Callable[..., Any]]:
    return current().signal_handlers.get(None)


def set_query_handler(name: str, handler: Optional[Callable[..., Any]]) -> None:
    _set(current().query_handlers, name, handler)


def set_dynamic_query_handler(handler: Optional[Callable[..., Any]]) -> None:
    _set(current().query_handlers, None, handler)


def get_query_handler(name: str) -> Optional[Callable[..., Any]]:
    return current().query_handlers.get(name)


def get_dynamic_query_handler() -> Optional[Callable[..., Any]]:
    return current().query_handlers.get(None)


def set_update_handler(
    name: str, handler: Optional[Callable[..., Any]], *, validator: Optional[Callable[..., None]] = None, **_: Any
) -> None:
    _set(current().update_handlers, name, (handler, validator) if handler else None)


def set_dynamic_update_handler(
    handler: Optional[Callable[..., Any]], *, validator: Optional[Callable[..., None]] = None, **_: Any
) -> None:
    _set(current().update_handlers, None, (handler, validator) if handler else None)


def get_update_handler(name: str) -> Optional[Callable[..., Any]]:
    entry = current().update_handlers.get(name)
    return entry[0] if entry else None


def get_dynamic_update_handler() -> Optional[Callable[..., Any]]:
    entry = current().update_handlers.get(None)
    return entry[0] if entry else None


def _set(handlers: dict, name: Optional[str], handler: Any) -> None:
    if handler is None:
        handlers.pop(name, None)
    else:
        handlers[name] = handler


class _PayloadConverter:
    """`workflow.payload_converter()`: Temporal's JSON converter, with type
    hints as temporalio's default converter applies them."""

    def to_payload(self, value: Any) -> Payload:
        return encode(value)

    def to_payloads(self, values: Sequence[Any]) -> List[Payload]:
        return [encode(v) for v in values]

    def from_payload(self, payload: Payload, type_hint: Any = None) -> Any:
        return convert(decode(payload), type_hint)

    def from_payloads(self, payloads: Sequence[Payload], type_hints: Optional[List[Any]] = None) -> List[Any]:
        hints = list(type_hints or [])
        return [self.from_payload(p, hints[i] if i < len(hints) else None) for i, p in enumerate(payloads)]


_PAYLOAD_CONVERTER = _PayloadConverter()


def payload_converter() -> _PayloadConverter:
    """The converter payloads are read and written with (for dynamic handlers'
    `RawValue` arguments)."""
    return _PAYLOAD_CONVERTER


def upsert_memo(memo: Mapping[str, Any]) -> None:
    current()
    host.upsert_memo([(k, encode(v)) for k, v in memo.items()])


def continue_as_new(arg: Any = _UNSET, *, args: Sequence[Any] = (), **_options: Any) -> "NoReturn":  # noqa: F821
    """End this run and start a fresh one of the same type with these
    arguments. Raises `ContinueAsNewError`: let it propagate."""
    current()
    raise ContinueAsNewError(_args(arg, args))


def all_handlers_finished() -> bool:
    """True when no signal or update handler is still running."""
    return current().running_handlers == 0


class _Logger:
    """`workflow.logger`: lines go to the host's log (silent on replay).
    Not `logging.Logger`: a log record reads the wall clock."""

    def log(self, level: LogLevel, msg: Any, *args: Any, **_kwargs: Any) -> None:
        current()
        text = str(msg) % args if args else str(msg)
        host.log(level, text)

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(LogLevel.DEBUG, msg, *args)

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(LogLevel.INFO, msg, *args)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(LogLevel.WARN, msg, *args)

    warn = warning

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(LogLevel.ERROR, msg, *args)

    exception = error
    critical = error


logger = _Logger()
