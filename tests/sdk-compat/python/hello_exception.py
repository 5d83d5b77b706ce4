"""samples-python hello/hello_exception.py: an activity that keeps failing,
retried by the workflow's retry policy; the workflow reads the
ActivityError's cause and fails with an ApplicationError of its own."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import ComposeGreetingInput, compose_greeting_unavailable


@workflow.defn
class ExceptionWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        try:
            return await workflow.execute_activity(
                compose_greeting_unavailable,
                ComposeGreetingInput("Hello", name),
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=2),
            )
        except ActivityError as err:
            cause = err.cause
            assert isinstance(cause, ApplicationError)
            raise ApplicationError(
                f"greeting failed: {cause.message}",
                {"activity_type": err.activity_type, "cause_type": cause.type},
                type="GreetingFailed",
                non_retryable=True,
            ) from None  # no cause: weft's failures carry none (docs/coming-from-temporal-sdks.md)
