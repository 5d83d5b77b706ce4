"""Shared types, named as in `temporalio.common`."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Optional, Sequence

from wit_world.imports import workflow_options as wo

__all__ = ["RetryPolicy"]


def millis(duration: timedelta) -> int:
    """Whole milliseconds of `duration` (at least 1 when it is positive)."""
    ms = round(duration.total_seconds() * 1000)
    return max(ms, 1) if duration > timedelta(0) else 0


@dataclass
class RetryPolicy:
    """How Temporal retries a failed activity, as in `temporalio.common`.

    Unset fields take Temporal's defaults (1 s, 2.0, 100 x the initial
    interval, unlimited attempts).
    """

    initial_interval: timedelta = timedelta(seconds=1)
    backoff_coefficient: float = 2.0
    maximum_interval: Optional[timedelta] = None
    maximum_attempts: int = 0
    non_retryable_error_types: Optional[Sequence[str]] = field(default=None)

    def to_wit(self) -> wo.RetryPolicy:
        return wo.RetryPolicy(
            initial_interval_ms=millis(self.initial_interval),
            backoff_coefficient=float(self.backoff_coefficient),
            maximum_interval_ms=millis(self.maximum_interval) if self.maximum_interval else 0,
            maximum_attempts=self.maximum_attempts,
            non_retryable_error_types=list(self.non_retryable_error_types or []),
        )
