"""samples-python hello/hello_continue_as_new.py: a loop that continues as
new each iteration."""

import asyncio

from temporalio import workflow


@workflow.defn
class LoopingWorkflow:
    @workflow.run
    async def run(self, iteration: int) -> str:
        if iteration == 3:
            return f"done after {iteration} iterations"
        workflow.logger.info("Running workflow iteration %i", iteration)
        await asyncio.sleep(0.1)
        workflow.continue_as_new(iteration + 1)
