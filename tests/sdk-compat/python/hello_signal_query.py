"""samples-python hello/hello_signal.py and hello/hello_query.py together:
signals with arguments buffer greetings, queries (one with arguments) read
them, a signal ends the run."""

import asyncio
from typing import List

from temporalio import workflow


@workflow.defn
class SignalQueryWorkflow:
    def __init__(self) -> None:
        self._pending_greetings: asyncio.Queue[str] = asyncio.Queue()
        self._greetings: List[str] = []
        self._exit = False

    @workflow.run
    async def run(self) -> List[str]:
        while True:
            await workflow.wait_condition(lambda: not self._pending_greetings.empty() or self._exit)
            while not self._pending_greetings.empty():
                self._greetings.append(f"Hello, {self._pending_greetings.get_nowait()}")
            if self._exit:
                return self._greetings

    @workflow.signal
    async def submit_greeting(self, name: str) -> None:
        await self._pending_greetings.put(name)

    @workflow.signal
    def submit_greetings(self, greeting: str, names: List[str]) -> None:
        for name in names:
            self._pending_greetings.put_nowait(f"{name} ({greeting})")

    @workflow.signal
    def exit(self) -> None:
        self._exit = True

    @workflow.query
    def greetings(self) -> List[str]:
        return self._greetings

    @workflow.query
    def greeting_at(self, index: int, upper: bool) -> str:
        greeting = self._greetings[index] if index < len(self._greetings) else ""
        return greeting.upper() if upper else greeting
