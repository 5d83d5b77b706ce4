"""The activities the sample workflows call, written for the Temporal Python
SDK (samples-python's `compose_greeting` and friends).

Both arms of tests/e2e/sdk_compat_python.rs run them on the official
`temporalio` worker; the weft guest imports this module only so that the
workflows can name activities by function, as the samples do.
"""

import asyncio
from dataclasses import dataclass

from temporalio import activity


@dataclass
class ComposeGreetingInput:
    greeting: str
    name: str


@activity.defn
async def compose_greeting(input: ComposeGreetingInput) -> str:
    activity.logger.info("Running activity with parameter %s" % input)
    return f"{input.greeting}, {input.name}!"


@activity.defn
async def say_hello(name: str) -> str:
    return f"Hello, {name}!"


@activity.defn
async def slow_greeting(name: str) -> str:
    """Heartbeats until cancelled (the timer race's loser)."""
    while True:
        activity.heartbeat()
        await asyncio.sleep(0.2)


@activity.defn
async def compose_greeting_unavailable(input: ComposeGreetingInput) -> str:
    """Fails every attempt (hello_exception)."""
    raise RuntimeError(f"Greeting exception: {input.greeting}, {input.name}! (attempt {activity.info().attempt})")
