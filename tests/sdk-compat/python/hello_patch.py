"""samples-python hello/hello_patch.py: a change guarded by
`workflow.patched`, and an older one whose patch is deprecated."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import ComposeGreetingInput, compose_greeting, say_hello


@workflow.defn
class PatchedWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        workflow.deprecate_patch("old-greeting")
        if workflow.patched("my-patch"):
            greeting = await workflow.execute_activity(
                compose_greeting,
                ComposeGreetingInput("Goodbye", name),
                start_to_close_timeout=timedelta(seconds=10),
            )
        else:
            greeting = await workflow.execute_activity(
                say_hello, name, start_to_close_timeout=timedelta(seconds=10)
            )
        return greeting
