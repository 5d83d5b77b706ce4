"""A timer race, as samples-python's timer samples write it: an activity
against a durable timer with workflow.wait (asyncio.wait made deterministic);
the loser is cancelled (a timer, then an activity)."""

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import say_hello, slow_greeting


@workflow.defn
class TimerRaceWorkflow:
    @workflow.run
    async def run(self, name: str) -> dict:
        outcomes = {}
        # The activity wins: the timer is cancelled.
        greeting = asyncio.create_task(
            workflow.execute_activity(say_hello, name, start_to_close_timeout=timedelta(seconds=10))
        )
        timer = asyncio.create_task(asyncio.sleep(300))
        done, pending = await workflow.wait([greeting, timer], return_when=asyncio.FIRST_COMPLETED)
        outcomes["first"] = greeting.result() if greeting in done else "timer"
        for task in pending:
            task.cancel()

        # The timer wins: the activity is cancelled.
        slow = asyncio.create_task(
            workflow.execute_activity(
                slow_greeting,
                name,
                start_to_close_timeout=timedelta(seconds=60),
                heartbeat_timeout=timedelta(seconds=5),
            )
        )
        timer = asyncio.create_task(workflow.sleep(timedelta(seconds=1)))
        done, pending = await workflow.wait([slow, timer], return_when=asyncio.FIRST_COMPLETED)
        outcomes["second"] = "timer" if timer in done else "activity"
        for task in pending:
            task.cancel()
        try:
            await slow
        except asyncio.CancelledError:
            outcomes["slow"] = "cancelled"
        except Exception as err:  # an ActivityError with a CancelledError cause
            outcomes["slow"] = type(err).__name__
        return outcomes
