"""samples-python hello/hello_child_workflow.py: a child workflow named by
its run method, its input a dataclass."""

from dataclasses import dataclass

from temporalio import workflow


@dataclass
class ComposeGreetingChildInput:
    greeting: str
    name: str


@workflow.defn
class ComposeGreetingWorkflow:
    @workflow.run
    async def run(self, input: ComposeGreetingChildInput) -> str:
        return f"{input.greeting}, {input.name}!"


@workflow.defn
class GreetingParentWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_child_workflow(
            ComposeGreetingWorkflow.run,
            ComposeGreetingChildInput("Hello", name),
            id=f"{workflow.info().workflow_id}-child",
        )
