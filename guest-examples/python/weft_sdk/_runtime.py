"""The workflow runtime: one deterministic asyncio event loop per run.

The host activates one run at a time. `Run.activate` makes the run current,
applies the activation's jobs (resolved handles complete futures or fire
timers, signals and updates start handler tasks, a cancel request cancels
the main task), then runs the loop's ready callbacks first in, first out
until none is ready and no `wait_condition` became true, and says where the
run stands. As in temporalio's workflow instance, the loop is an
`asyncio.AbstractEventLoop`: `call_later` starts a durable timer, `time()`
is workflow time, and nothing reads a clock or waits on IO, so `asyncio`
tasks, `sleep`, `gather`, `wait`, `wait_for` and cancellation work and replay
alike.

Runs keep nothing in module state but the current run, so one instance hosts
many runs; nothing points from a run's objects back to its export object,
so a dropped run's objects are freed (its cycles by the garbage collector).
"""

import asyncio
import collections
import inspect
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from componentize_py_types import Err, Ok
from wit_world.exports import activation_guest as guest
from wit_world.imports import activation_host as host
from wit_world.imports.types import Failure, LogLevel, Payload

from . import bind_args, decode, describe_exception, encode
from ._convert import convert_args
from .common import RawValue
from .exceptions import ApplicationError, CancelledError, FailureError, is_cancelled_exception

# A workflow has no WASI: writing to stderr traps. Python reports some
# errors there on its own (an exception in a finaliser, a coroutine never
# awaited): drop them instead.
sys.unraisablehook = lambda unraisable: None
warnings.simplefilter("ignore")


class ContinueAsNewError(BaseException):
    """Raised by `workflow.continue_as_new`: ends the run (as in temporalio,
    a BaseException, so that `except Exception` does not swallow it)."""

    def __init__(self, args: List[Payload]) -> None:
        super().__init__("continue as new")
        self.payloads = args


class _NotInWorkflow(RuntimeError):
    pass


@dataclass
class Definition:
    """A registered workflow class (`@workflow.defn`)."""

    name: str
    cls: type
    run: Callable[..., Any]
    init_takes_args: bool
    signals: Dict[str, Callable[..., Any]] = field(default_factory=dict)
    queries: Dict[str, Callable[..., Any]] = field(default_factory=dict)
    updates: Dict[str, Callable[..., Any]] = field(default_factory=dict)
    instance_per_run: bool = False


DEFINITIONS: Dict[str, Definition] = {}

_current: Optional["RunState"] = None


def current() -> "RunState":
    """The run being activated."""
    if _current is None:
        raise _NotInWorkflow("not in a workflow: workflow calls run only inside an activation")
    return _current


def in_workflow() -> bool:
    return _current is not None


def failure_of(exc: BaseException) -> Failure:
    """The WIT failure for an exception a handler raised (a validator's any
    exception rejects its update, as in temporalio)."""
    if isinstance(exc, FailureError):
        return exc.to_failure()
    return Failure(message=str(exc), error_type=type(exc).__name__, non_retryable=False, details=[])


def _positional_count(fn: Callable[..., Any]) -> Optional[int]:
    """How many positional arguments `fn` (a bound method or a function)
    takes (None: any)."""
    params = list(inspect.signature(fn).parameters.values())
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


class _Timer(asyncio.TimerHandle):
    """A `call_later` callback, fired when its weft timer does."""

    __slots__ = ("weft_handle",)

    def __init__(self, when: float, callback, args, loop: "Loop", context, weft_handle: int) -> None:
        super().__init__(when, callback, args, loop, context)
        self.weft_handle = weft_handle


class Loop(asyncio.AbstractEventLoop):
    """One run's deterministic event loop."""

    def __init__(self, run: "RunState") -> None:
        self._run = run
        self._ready: collections.deque = collections.deque()
        self._timers: Dict[int, _Timer] = {}
        self._running = False
        # An exception a callback raised (a bug): traps at the end of the
        # activation.
        self._error: Optional[BaseException] = None

    # -- time and callbacks --

    def time(self) -> float:
        return host.now() / 1000.0

    def call_soon(self, callback, *args, context=None):
        handle = asyncio.Handle(callback, args, self, context)
        self._ready.append(handle)
        return handle

    def call_later(self, delay, callback, *args, context=None):
        if delay <= 0:
            return self.call_soon(callback, *args, context=context)
        run = current()
        ms = max(1, round(delay * 1000))
        weft_handle = host.start_timer(ms)
        timer = _Timer(self.time() + ms / 1000.0, callback, args, self, context, weft_handle)
        self._timers[weft_handle] = timer
        run.resolvers[weft_handle] = lambda outcome: self._fire(weft_handle, outcome)
        return timer

    def call_at(self, when, callback, *args, context=None):
        return self.call_later(when - self.time(), callback, *args, context=context)

    def _fire(self, handle: int, outcome) -> None:
        timer = self._timers.pop(handle, None)
        if timer is not None and isinstance(outcome, Ok) and not timer.cancelled():
            self._ready.append(timer)

    def _timer_handle_cancelled(self, timer) -> None:
        # TimerHandle.cancel calls this: cancel the weft timer too (its
        # CancelledError resolution is then ignored).
        if self._timers.pop(timer.weft_handle, None) is not None and _current is self._run:
            host.cancel(timer.weft_handle)

    # -- futures and tasks --

    def create_future(self) -> asyncio.Future:
        return asyncio.Future(loop=self)

    def create_task(self, coro, *, name=None, context=None, **kwargs) -> asyncio.Task:
        task = asyncio.Task(coro, loop=self, name=name, context=context)
        try:
            # A parked run's tasks are dropped pending when the run is: no
            # "destroyed but pending" report (it would go to stderr).
            task._log_destroy_pending = False
        except AttributeError:
            pass
        return task

    # -- state --

    def get_debug(self) -> bool:
        return False

    def is_running(self) -> bool:
        return self._running

    def is_closed(self) -> bool:
        return False

    def get_exception_handler(self):
        return None

    def default_exception_handler(self, context) -> None:
        pass

    def call_exception_handler(self, context) -> None:
        # Only a callback's own exception (asyncio.Handle reports it with the
        # handle): a future's unretrieved exception, reported when it is
        # freed, may be freed during another run's activation.
        if self._running and "handle" in context and self._error is None:
            self._error = context.get("exception")

    def run_until_idle(self) -> None:
        """Run ready callbacks, first in first out, then the conditions,
        until neither does anything."""
        self._running = True
        try:
            while True:
                while self._ready:
                    handle = self._ready.popleft()
                    if not handle._cancelled:
                        handle._run()
                    if self._error is not None:
                        err, self._error = self._error, None
                        raise err
                if not self._run.check_conditions():
                    return
        finally:
            self._running = False


class RunState:
    """One run: its loop, its workflow object and what it waits for."""

    def __init__(self) -> None:
        self.loop = Loop(self)
        self.definition: Optional[Definition] = None
        self.instance: Any = None
        self.main: Optional[asyncio.Task] = None
        self.run_args: List[Any] = []
        # A failure before the run starts (unknown type, bad arguments).
        self.start_failure: Optional[Failure] = None
        # A handler's failure that fails the workflow.
        self.handler_failure: Optional[Failure] = None
        # handle -> what to do with its outcome.
        self.resolvers: Dict[int, Callable[[Any], None]] = {}
        self.child_starts: Dict[int, asyncio.Future] = {}
        self.conditions: List[Tuple[Callable[[], bool], asyncio.Future]] = []
        # Signals no handler took yet, in arrival order (name, args).
        self.buffered_signals: List[Tuple[str, List[Payload]]] = []
        # name -> handler; the key None holds the dynamic handler, which
        # gets (name, [RawValue]) for every name without a handler of its own.
        self.signal_handlers: Dict[Optional[str], Callable[..., Any]] = {}
        self.query_handlers: Dict[Optional[str], Callable[..., Any]] = {}
        # name -> (handler, validator or None).
        self.update_handlers: Dict[Optional[str], Tuple[Callable[..., Any], Optional[Callable[..., Any]]]] = {}
        self.running_handlers = 0
        self.cancel_requested = False
        self.random = None
        self.info = None

    def begin(self, workflow_type: str, args: List[Payload]) -> None:
        """Create the workflow object (its `__init__` may call the host)."""
        self.definition = DEFINITIONS.get(workflow_type)
        if self.definition is None:
            known = ", ".join(DEFINITIONS) or "none"
            self.start_failure = ApplicationError(
                f"this component does not offer workflow type {workflow_type!r} (it offers {known})",
                type="UnknownWorkflowType",
                non_retryable=True,
            ).to_failure()
            return
        try:
            values = [decode(a) for a in args]
            bind_args(self.definition.run, [None] + values)
            # Typed as the run method's hints say (a dataclass, ...).
            values = convert_args(self.definition.run, values, skip_self=True)
            cls = self.definition.cls
            self.instance = cls(*values) if self.definition.init_takes_args else cls()
            self.run_args = values
        except FailureError as err:
            self.start_failure = err.to_failure()
            return
        # The class's handlers, bound; `workflow.set_*_handler` changes them.
        bind = lambda fn: fn.__get__(self.instance)  # noqa: E731
        self.signal_handlers.update({n: bind(m) for n, m in self.definition.signals.items()})
        self.query_handlers.update({n: bind(m) for n, m in self.definition.queries.items()})
        for n, m in self.definition.updates.items():
            validator = getattr(m, "__weft_validator__", None)
            self.update_handlers[n] = (bind(m), bind(validator) if validator else None)

    # -- jobs --

    def apply(self, job) -> None:
        if isinstance(job, guest.Job_Resolved):
            resolver = self.resolvers.pop(job.value.handle, None)
            if resolver is not None:
                resolver(job.value.outcome)
        elif isinstance(job, guest.Job_ChildStarted):
            started = self.child_starts.pop(job.value.handle, None)
            if started is not None and not started.done():
                started.set_result(job.value.outcome)
        elif isinstance(job, guest.Job_Signal):
            self.signal(job.value.name, job.value.args)
        elif isinstance(job, guest.Job_Update):
            self.update(job.value)
        elif isinstance(job, guest.Job_CancelRequested):
            self.cancel_requested = True
            if self.main is not None:
                self.main.cancel()

    def signal(self, name: str, args: List[Payload]) -> None:
        handler = self.signal_handlers.get(name)
        if handler is None:
            dynamic = self.signal_handlers.get(None)
            if dynamic is None:
                # Kept until a handler is set (as temporalio does).
                self.buffered_signals.append((name, args))
                return
            self.start_handler(dynamic, [name, [RawValue(a) for a in args]], None)
            return
        values = [decode(a) for a in args]
        # Extra arguments are dropped, as temporalio does for signals.
        count = _positional_count(handler)
        if count is not None:
            values = values[:count]
        try:
            values = convert_args(handler, values, skip_self=False)
        except Exception as exc:  # noqa: BLE001 - as temporalio: drop a signal it cannot convert
            host.log(LogLevel.WARN, f"signal {name!r} dropped: its arguments do not convert: {exc}")
            return
        self.start_handler(handler, values, None)

    def set_signal_handler(self, name: Optional[str], handler: Optional[Callable[..., Any]]) -> None:
        """Set (or, with None, remove) a signal handler; buffered signals it
        takes are delivered now, in the order they came."""
        if handler is None:
            self.signal_handlers.pop(name, None)
            return
        self.signal_handlers[name] = handler
        waiting, self.buffered_signals = self.buffered_signals, []
        for signal_name, args in waiting:
            self.signal(signal_name, args)

    def update(self, u) -> None:
        entry = self.update_handlers.get(u.name)
        dynamic = entry is None and None in self.update_handlers
        if dynamic:
            entry = self.update_handlers[None]
        if entry is None:
            host.reject_update(
                u.id,
                ApplicationError(
                    f"this workflow handles no update named `{u.name}`", type="UpdateNotRegistered", non_retryable=True
                ).to_failure(),
            )
            return
        handler, validator = entry
        try:
            if dynamic:
                values = [u.name, [RawValue(a) for a in u.args]]
            else:
                values = [decode(a) for a in u.args]
                bind_args(handler, values)
                values = convert_args(handler, values, skip_self=False)
            if u.run_validator and validator is not None:
                validator(*values)
        except Exception as exc:
            host.reject_update(u.id, failure_of(exc))
            return
        host.accept_update(u.id)
        self.start_handler(handler, values, u.id)

    def start_handler(self, handler: Callable[..., Any], values: List[Any], update_id: Optional[str]) -> None:
        """Run a signal or update handler as a task of its own."""

        async def run_handler() -> Any:
            result = handler(*values)
            if inspect.isawaitable(result):
                result = await result
            return result

        self.running_handlers += 1
        task = self.loop.create_task(run_handler())
        task.add_done_callback(lambda t: self.handler_done(t, update_id))

    def handler_done(self, task: asyncio.Task, update_id: Optional[str]) -> None:
        self.running_handlers -= 1
        if task.cancelled():
            if update_id is not None:
                host.complete_update(update_id, Err(CancelledError("update cancelled").to_failure()))
            return
        exc = task.exception()
        if update_id is not None:
            if exc is None:
                host.complete_update(update_id, Ok(encode(task.result())))
                return
            if isinstance(exc, FailureError):
                host.complete_update(update_id, Err(exc.to_failure()))
                return
        elif exc is None:
            return
        elif isinstance(exc, FailureError):
            # A signal handler's failure fails the workflow (as in temporalio).
            if self.handler_failure is None:
                self.handler_failure = exc.to_failure()
            return
        # A bug: fail the workflow task (it is retried).
        if self.loop._error is None:
            self.loop._error = exc

    def check_conditions(self) -> bool:
        """Resolve the `wait_condition`s that hold; True if any did."""
        fired = False
        for entry in list(self.conditions):
            fn, fut = entry
            if fut.done():
                self.conditions.remove(entry)
            elif fn():
                fut.set_result(True)
                self.conditions.remove(entry)
                fired = True
        return fired

    # -- status --

    def status(self):
        if self.start_failure is not None:
            return guest.RunStatus_Completed(Err(self.start_failure))
        if self.handler_failure is not None:
            return guest.RunStatus_Completed(Err(self.handler_failure))
        main = self.main
        if main is None or not main.done():
            return guest.RunStatus_Waiting()
        if main.cancelled():
            return guest.RunStatus_Completed(Err(CancelledError("workflow cancelled").to_failure()))
        exc = main.exception()
        if exc is None:
            return guest.RunStatus_Completed(Ok(encode(main.result())))
        if isinstance(exc, ContinueAsNewError):
            return guest.RunStatus_ContinueAsNew(exc.payloads)
        if isinstance(exc, FailureError):
            if self.cancel_requested and is_cancelled_exception(exc):
                return guest.RunStatus_Completed(Err(CancelledError("workflow cancelled").to_failure()))
            return guest.RunStatus_Completed(Err(exc.to_failure()))
        # A bug: trap (Run.activate logs why), which fails the workflow
        # task; Temporal retries it (as the Temporal SDKs do).
        raise exc

    async def run_main(self) -> Any:
        return await self.definition.run(self.instance, *self.run_args)


class _Current:
    """Makes a run current (and its loop the running loop) for a guest call."""

    def __init__(self, run: RunState) -> None:
        self.run = run

    def __enter__(self) -> RunState:
        global _current
        _current = self.run
        asyncio.events._set_running_loop(self.run.loop)
        return self.run

    def __exit__(self, *exc) -> None:
        global _current
        _current = None
        asyncio.events._set_running_loop(None)


class Run:
    """The `run` resource: componentize-py instantiates the class of this
    name in the top-level module `activation_guest` (see that shim)."""

    def __init__(self, workflow_type: str, args: List[Payload]) -> None:
        self._state = RunState()
        with _Current(self._state):
            self._state.begin(workflow_type, args)

    def activate(self, jobs: List[guest.Job]) -> guest.RunStatus:
        state = self._state
        with _Current(state):
            try:
                for job in jobs:
                    state.apply(job)
                if state.main is None and state.start_failure is None:
                    # Started after the first activation's signals and
                    # updates, so their handlers run first (as in temporalio).
                    state.main = state.loop.create_task(state.run_main())
                    if state.cancel_requested:
                        state.main.cancel()
                state.loop.run_until_idle()
                return state.status()
            except Exception as exc:
                # Say why through the host (stderr traps), then trap.
                host.log(LogLevel.ERROR, f"workflow task failed: {describe_exception(exc)}")
                raise

    def query(self, name: str, args: List[Payload]) -> Payload:
        state = self._state
        with _Current(state):
            handler = state.query_handlers.get(name)
            dynamic = handler is None and None in state.query_handlers
            if dynamic:
                handler = state.query_handlers[None]
            if handler is None:
                known = sorted(n for n in state.query_handlers if n is not None)
                raise Err(
                    ApplicationError(
                        f"query `{name}` has no handler: this run answers {', '.join(known) or 'none'}",
                        type="QueryNotRegistered",
                        non_retryable=True,
                    ).to_failure()
                )
            try:
                if dynamic:
                    values = [name, [RawValue(a) for a in args]]
                else:
                    values = convert_args(handler, [decode(a) for a in args], skip_self=False)
                return encode(handler(*values))
            except Exception as exc:
                raise Err(failure_of(exc))


class ActivationGuest:
    """The `activation-guest` export's functions: componentize-py calls the
    class of this name in the app module, so a workflow module does
    `from weft_sdk.workflow import ActivationGuest`."""

    def describe(self) -> guest.Definition:
        one = any(d.instance_per_run for d in DEFINITIONS.values())
        return guest.Definition(workflow_types=list(DEFINITIONS), max_runs_per_instance=1 if one else 0)
