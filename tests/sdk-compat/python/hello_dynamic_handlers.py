"""Dynamic signal, query and update handlers (`dynamic=True`, arguments as
`RawValue`s read with `workflow.payload_converter()`), and a handler set at
run time with `workflow.set_query_handler`, as temporalio documents them."""

from typing import List, Sequence

from temporalio import workflow
from temporalio.common import RawValue


@workflow.defn
class DynamicHandlersWorkflow:
    def __init__(self) -> None:
        self.events: List[str] = []
        self.done = False

    @workflow.run
    async def run(self) -> List[str]:
        workflow.set_query_handler("event_count", lambda: len(self.events))
        await workflow.wait_condition(lambda: self.done)
        return self.events

    @workflow.signal(dynamic=True)
    def any_signal(self, name: str, args: Sequence[RawValue]) -> None:
        values = [workflow.payload_converter().from_payload(a.payload, str) for a in args]
        self.events.append(f"signal {name}({', '.join(values)})")

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query(dynamic=True)
    def any_query(self, name: str, args: Sequence[RawValue]) -> str:
        index = workflow.payload_converter().from_payload(args[0].payload, int) if args else -1
        return f"{name}: {self.events[index] if 0 <= index < len(self.events) else None}"

    @workflow.update(dynamic=True)
    def any_update(self, name: str, args: Sequence[RawValue]) -> int:
        self.events.append(f"update {name}")
        return len(self.events)

    @any_update.validator
    def validate_any_update(self, name: str, args: Sequence[RawValue]) -> None:
        if name.startswith("forbidden"):
            raise ValueError(f"update {name} is forbidden")
