"""samples-python hello/hello_search_attributes.py: typed search attributes
(set, unset, set again), and a memo upsert."""

import asyncio

from temporalio import workflow
from temporalio.common import SearchAttributeKey

# Registered by the e2e dev server (tests/e2e/harness.rs: CustomerId=Keyword).
customer_id_key = SearchAttributeKey.for_keyword("CustomerId")


@workflow.defn
class SearchAttributesWorkflow:
    @workflow.run
    async def run(self, customer: str) -> str:
        workflow.upsert_search_attributes([customer_id_key.value_set(customer)])
        workflow.upsert_memo({"customer": customer, "stage": "greeted"})
        await asyncio.sleep(0.1)
        workflow.upsert_search_attributes([customer_id_key.value_unset()])
        await asyncio.sleep(0.1)
        workflow.upsert_search_attributes([customer_id_key.value_set(f"{customer}-greeted")])
        return f"Hello, {customer}!"
