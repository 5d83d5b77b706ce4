"""Unit tests of the samples in tests/sdk-compat/python, written for the
Temporal Python SDK and run unchanged on weft_sdk through the `temporalio`
alias package (compat/temporalio), on CPython with test_workflow_sdk's fake
host. tests/e2e/sdk_compat_python.rs compares them with the official SDK
against Temporal; these check the SDK pieces they lean on, fast.
"""

import asyncio
import unittest
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Dict, List, Optional

from componentize_py_types import Ok
from wit_world.exports import activation_guest as g
from wit_world.imports import activation_host as host

import temporalio
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from test_workflow_sdk import FAKE, cmds, resolved, result, signal, update  # noqa: F401 (FAKE installs the host)
from weft_sdk import _convert, _runtime, decode, encode
import weft_sdk

import weft_guest  # noqa: F401  (registers every sample's workflows)


def start(workflow_type, *args):
    return _runtime.Run(workflow_type, [encode(a) for a in args])


class AliasTest(unittest.TestCase):
    def test_temporalio_is_weft_sdk(self):
        import temporalio.exceptions as exceptions

        self.assertIs(workflow, weft_sdk.workflow)
        self.assertIs(exceptions, weft_sdk.exceptions)
        self.assertIs(RetryPolicy, weft_sdk.common.RetryPolicy)
        self.assertIs(ApplicationError, weft_sdk.ApplicationError)
        self.assertNotIn("site-packages", temporalio.__file__, "the alias, not the real SDK")


class SamplesTest(unittest.TestCase):
    def test_activity_by_function_with_a_dataclass_input(self):
        run = start("GreetingWorkflow", "World")
        run.activate([])
        self.assertEqual(cmds(run)[-1], ("activity", "compose_greeting", [{"greeting": "Hello", "name": "World"}], None, 10_000))
        self.assertEqual(result(run.activate([resolved(1, "Hello, World!")])), "Hello, World!")

    def test_activity_by_method_and_by_callable_class(self):
        run = start("ActivityMethodWorkflow")
        run.activate([])
        self.assertEqual(cmds(run)[-1], ("activity", "do_database_thing", ["customers"], None, 5_000))
        self.assertEqual(result(run.activate([resolved(1, 9)])), 9)
        run = start("ActivityClassWorkflow")
        run.activate([])
        self.assertEqual(cmds(run)[-1][:3], ("activity", "Lookup", [3]))
        self.assertEqual(result(run.activate([resolved(1, {"at": "2026-01-02T00:00:00+00:00", "tags": []})])), "datetime")

    def test_child_by_run_method_gets_its_dataclass(self):
        run = start("GreetingParentWorkflow", "World")
        run.activate([])
        self.assertEqual(cmds(run)[-1], ("child", "ComposeGreetingWorkflow"))
        child = start("ComposeGreetingWorkflow", {"greeting": "Hi", "name": "Ada"})
        self.assertEqual(result(child.activate([])), "Hi, Ada!")

    def test_timer_race_with_workflow_wait(self):
        run = start("TimerRaceWorkflow", "r")
        run.activate([])
        self.assertEqual([c[0] for c in cmds(run)], ["activity", "timer"])
        run.activate([resolved(1, "Hello, r!")])
        self.assertEqual([c[:2] for c in cmds(run)[2:]], [("cancel", 2), ("activity", "slow_greeting"), ("timer", 1000)])
        run.activate([resolved(4)])
        self.assertEqual(cmds(run)[-1], ("cancel", 3))
        from weft_sdk.exceptions import CancelledError

        status = run.activate([resolved(3, failure=CancelledError("cancelled").to_failure())])
        self.assertEqual(result(status), {"first": "Hello, r!", "second": "timer", "slow": "ActivityError"})

    def test_signals_and_queries_with_arguments(self):
        run = start("SignalQueryWorkflow")
        run.activate([])
        run.activate([signal("submit_greeting", "a"), signal("submit_greetings", "hi", ["b", "c"])])
        self.assertEqual(decode(run.query("greetings", [])), ["Hello, a", "Hello, b (hi)", "Hello, c (hi)"])
        self.assertEqual(decode(run.query("greeting_at", [encode(1), encode(True)])), "HELLO, B (HI)")
        self.assertEqual(result(run.activate([signal("exit")])), ["Hello, a", "Hello, b (hi)", "Hello, c (hi)"])

    def test_update_validators(self):
        run = start("UpdateWorkflow", "W")
        run.activate([])
        run.activate([update("u1", "set_language", "xx"), update("u2", "set_language", "fr"), update("u3", "greet", "")])
        self.assertIn(("reject", "u1", "xx is not supported"), cmds(run))
        self.assertIn(("complete", "u2", "en"), cmds(run))
        self.assertIn(("reject", "u3", "name must not be empty"), cmds(run))
        self.assertEqual(result(run.activate([update("u4", "update_workflow_status")])), "Bonjour, W!")


class DynamicAndTypedTest(unittest.TestCase):
    def test_dynamic_signal_query_update_and_run_time_handlers(self):
        run = start("DynamicHandlersWorkflow")
        run.activate([])
        self.assertEqual(decode(run.query("event_count", [])), 0, "set_query_handler ran in run()")
        run.activate([signal("greet", "Ada", "Bob"), update("u1", "bump"), update("u2", "forbidden_x")])
        self.assertIn(("complete", "u1", 2), cmds(run))
        self.assertIn(("reject", "u2", "update forbidden_x is forbidden"), cmds(run))
        self.assertEqual(decode(run.query("whatever", [encode(0)])), "whatever: signal greet(Ada, Bob)")
        self.assertEqual(result(run.activate([signal("finish")])), ["signal greet(Ada, Bob)", "update bump"])

    def test_buffered_signals_reach_a_handler_set_later(self):
        run = start("LateHandler")
        run.activate([signal("early", 1), signal("other", 2), signal("early", 3)])
        status = run.activate([])
        self.assertEqual(result(status), [["early", 1], ["early", 3], ["dynamic other", 2]])

    def test_typed_search_attributes_carry_their_type(self):
        from temporalio.common import SearchAttributeKey

        seen = []
        fake = host.upsert_search_attributes
        host.upsert_search_attributes = lambda attrs: seen.extend(attrs)
        try:
            run = start("SearchAttributesWorkflow", "c1")
            run.activate([])
        finally:
            host.upsert_search_attributes = fake
        (name, payload), = seen
        self.assertEqual(name, "CustomerId")
        self.assertEqual(dict(payload.metadata), {"encoding": b"json/plain", "type": b"Keyword"})
        self.assertEqual(decode(payload), "c1")
        unset = workflow._search_attribute_payload(SearchAttributeKey.for_keyword("K"), None)
        self.assertEqual(dict(unset.metadata), {"encoding": b"json/plain"}, "an unset has no type")
        keys = workflow._search_attribute_payload(SearchAttributeKey.for_keyword_list("L"), ("a", "b"))
        self.assertEqual((decode(keys), dict(keys.metadata)["type"]), (["a", "b"], b"KeywordList"))


class ChildIdTest(unittest.TestCase):
    def test_a_child_without_id_gets_a_uuid_and_can_be_signalled(self):
        run = start("ChildNoId")
        run.activate([])
        run.activate([g.Job_ChildStarted(g.ChildStart(handle=1, outcome=Ok(None)))])
        (_, wid, name), = [c for c in cmds(run) if c[0] == "signal"]
        self.assertEqual((len(wid), name), (36, "ping"))
        self.assertEqual(result(run.activate([resolved(2)])), wid)


@activity.defn(name="Lookup")
class Lookup:
    async def __call__(self, n: int) -> "Inner":
        raise NotImplementedError("runs on an activity worker")


@workflow.defn
class ActivityClassWorkflow:
    @workflow.run
    async def run(self) -> str:
        found = await workflow.execute_activity_class(Lookup, 3, start_to_close_timeout=5)
        return type(found.at).__name__


@workflow.defn
class ChildNoId:
    @workflow.run
    async def run(self) -> str:
        child = await workflow.start_child_workflow("Child")
        await child.signal("ping", 1)
        return child.id


@workflow.defn
class LateHandler:
    @workflow.run
    async def run(self) -> list:
        got = []
        workflow.set_signal_handler("early", lambda n: got.append(["early", n]))
        workflow.set_dynamic_signal_handler(
            lambda name, args: got.append([f"dynamic {name}", workflow.payload_converter().from_payload(args[0].payload)])
        )
        await asyncio.sleep(0)
        return got


@dataclass
class Inner:
    at: datetime
    tags: List[str]


class Colour(Enum):
    RED = "red"


@dataclass
class Outer:
    inner: Inner
    by_name: Dict[str, Inner]
    colour: Optional[Colour] = None


class ConvertTest(unittest.TestCase):
    def test_nested_dataclasses_enums_and_datetimes(self):
        value = {"inner": {"at": "2026-01-02T03:04:05Z", "tags": ["a"]},
                 "by_name": {"x": {"at": "2026-01-02T03:04:05+00:00", "tags": []}}, "colour": "red"}
        out = _convert.convert(value, Outer)
        when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
        self.assertEqual(out, Outer(Inner(when, ["a"]), {"x": Inner(when, [])}, Colour.RED))
        self.assertEqual(_convert.convert(None, Outer), None)
        self.assertEqual(_convert.convert([1, 2], List[int]), [1, 2])
        self.assertEqual(_convert.convert({"k": 1}, dict), {"k": 1})

    def test_param_hints(self):
        def f(self, a: Inner, b, *, c: int): ...

        self.assertEqual(_convert.param_hints(f, skip_self=True), [Inner, None])


if __name__ == "__main__":
    unittest.main()
