"""samples-python hello/hello_update.py, with a validator and an update
that waits on an activity while the run goes on."""

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import ComposeGreetingInput, compose_greeting


@workflow.defn
class UpdateWorkflow:
    def __init__(self) -> None:
        self.is_complete = False
        self.language = "en"
        self.greetings = {"en": "Hello", "fr": "Bonjour", "de": "Hallo"}

    @workflow.run
    async def run(self, name: str) -> str:
        await workflow.wait_condition(lambda: self.is_complete)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return f"{self.greetings[self.language]}, {name}!"

    @workflow.update
    def set_language(self, language: str) -> str:
        previous, self.language = self.language, language
        return previous

    @set_language.validator
    def validate_language(self, language: str) -> None:
        if language not in self.greetings:
            raise ValueError(f"{language} is not supported")

    @workflow.update
    async def greet(self, name: str) -> str:
        return await workflow.execute_activity(
            compose_greeting,
            ComposeGreetingInput(self.greetings[self.language], name),
            start_to_close_timeout=timedelta(seconds=10),
        )

    @greet.validator
    def validate_greet(self, name: str) -> None:
        if not name:
            raise ApplicationError("name must not be empty")

    @workflow.update
    async def update_workflow_status(self) -> str:
        self.is_complete = True
        return "Workflow status updated"
