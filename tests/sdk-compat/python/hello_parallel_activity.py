"""samples-python hello/hello_parallel_activity.py: activities in parallel
with asyncio.gather."""

import asyncio
from datetime import timedelta
from typing import List

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import say_hello


@workflow.defn
class SayHelloWorkflow:
    @workflow.run
    async def run(self) -> List[str]:
        # Run 5 activities at the same time
        results = await asyncio.gather(
            workflow.execute_activity(say_hello, "user1", start_to_close_timeout=timedelta(seconds=5)),
            workflow.execute_activity(say_hello, "user2", start_to_close_timeout=timedelta(seconds=5)),
            workflow.execute_activity(say_hello, "user3", start_to_close_timeout=timedelta(seconds=5)),
            workflow.execute_activity(say_hello, "user4", start_to_close_timeout=timedelta(seconds=5)),
            workflow.execute_activity(say_hello, "user5", start_to_close_timeout=timedelta(seconds=5)),
        )
        # Sort the results because they can complete in any order
        return list(sorted(results))
