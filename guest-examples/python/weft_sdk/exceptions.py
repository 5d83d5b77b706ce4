"""Failures, named as in `temporalio.exceptions`.

A `FailureError` raised out of a workflow fails the workflow (any other
exception fails only the workflow task, and Temporal retries it); raised out
of an activity it fails the attempt. Each maps to the WIT `failure` record
(message, error type, non-retryable flag, details), which is flat: an
`ActivityError` or `ChildWorkflowError` carries the failure it wraps as its
`cause`, and failing a workflow with one fails it with that cause.
"""

import asyncio
from typing import Any, List, Optional, Sequence

from wit_world.imports.types import Failure, Payload

__all__ = [
    "FailureError", "ApplicationError", "CancelledError", "ActivityError",
    "ChildWorkflowError", "TimeoutError", "is_cancelled_exception",
]

# The error type of a cancellation, in the WIT and in Temporal's SDKs.
CANCELLED = "CancelledError"


class FailureError(Exception):
    """Base of the failures Temporal records."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self._message = message

    @property
    def message(self) -> str:
        return self._message

    def to_failure(self) -> Failure:
        """The WIT failure this exception stands for."""
        return Failure(message=self._message, error_type=type(self).__name__, non_retryable=True, details=[])


def _payloads(details: Sequence[Any]) -> List[Payload]:
    # Imported here: weft_sdk's __init__ imports this module.
    from . import encode

    # Kept as payloads so that a failure passed on is passed on unchanged.
    return [d if isinstance(d, Payload) else encode(d) for d in details]


class ApplicationError(FailureError):
    """A failure raised by workflow or activity code.

    As in the Temporal SDK: `ApplicationError(message, *details, type=...,
    non_retryable=False)`; retryable unless it says otherwise (a workflow
    failure is never retried by Temporal anyway).
    """

    def __init__(
        self,
        message: str,
        *details: Any,
        type: Optional[str] = None,
        non_retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self._type = type
        self._non_retryable = non_retryable
        self._details: List[Payload] = _payloads(details)

    @property
    def type(self) -> Optional[str]:
        return self._type

    @property
    def non_retryable(self) -> bool:
        return self._non_retryable

    @property
    def details(self) -> Sequence[Any]:
        """The details, decoded."""
        from . import decode

        return [decode(d) for d in self._details]

    @classmethod
    def from_failure(cls, failure: Failure) -> "ApplicationError":
        err = cls(failure.message, type=failure.error_type, non_retryable=failure.non_retryable)
        err._details = list(failure.details)
        return err

    def to_failure(self) -> Failure:
        return Failure(
            message=self._message,
            error_type=self._type or "ApplicationError",
            non_retryable=self._non_retryable,
            details=list(self._details),
        )

    def __str__(self) -> str:
        return f"{self._type}: {self._message}" if self._type else self._message


class CancelledError(FailureError):
    """Something was cancelled (an activity, a child, the workflow)."""

    def __init__(self, message: str = "cancelled", *details: Any) -> None:
        super().__init__(message)
        self._details = _payloads(details)

    def to_failure(self) -> Failure:
        return Failure(message=self._message, error_type=CANCELLED, non_retryable=True, details=list(self._details))


class TimeoutError(FailureError):
    """An activity or child timed out (error type `TimeoutError`)."""

    def __init__(self, message: str, *details: Any) -> None:
        super().__init__(message)
        self._details = _payloads(details)

    def to_failure(self) -> Failure:
        return Failure(message=self._message, error_type="TimeoutError", non_retryable=True, details=list(self._details))


def _cause_of(failure: Failure) -> FailureError:
    """The exception a failure that reached the workflow stands for."""
    if failure.error_type == CANCELLED:
        err: FailureError = CancelledError(failure.message)
        err._details = list(failure.details)
        return err
    return ApplicationError.from_failure(failure)


class _WrappingError(FailureError):
    """A failure of something the workflow started, wrapping its `cause`."""

    def __init__(self, message: str, cause: FailureError) -> None:
        super().__init__(message)
        self.__cause__ = cause

    @property
    def cause(self) -> FailureError:
        return self.__cause__  # type: ignore[return-value]

    def to_failure(self) -> Failure:
        # The WIT failure is flat: pass the cause on as received.
        return self.cause.to_failure()


class ActivityError(_WrappingError):
    """An activity failed; `cause` says how (an `ApplicationError`, a
    `CancelledError`, ...)."""

    def __init__(self, message: str, *, activity_type: str, activity_id: str, cause: FailureError) -> None:
        super().__init__(message, cause)
        self.activity_type = activity_type
        self.activity_id = activity_id


class ChildWorkflowError(_WrappingError):
    """A child workflow failed (or did not start); `cause` says how."""

    def __init__(self, message: str, *, workflow_type: str, workflow_id: str, cause: FailureError) -> None:
        super().__init__(message, cause)
        self.workflow_type = workflow_type
        self.workflow_id = workflow_id


def is_cancelled_exception(exc: BaseException) -> bool:
    """True for a cancellation, raw or wrapped (as in temporalio)."""
    return isinstance(exc, (asyncio.CancelledError, CancelledError)) or (
        isinstance(exc, (ActivityError, ChildWorkflowError)) and isinstance(exc.cause, CancelledError)
    )
