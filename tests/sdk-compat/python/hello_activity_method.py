"""samples-python hello/hello_activity_method.py: an activity that is a
method of an object holding a client, named by the method."""

from datetime import timedelta

from temporalio import activity, workflow


class MyDatabaseClient:
    async def run_database_update(self, table: str) -> int:
        return len(table)


class MyActivities:
    def __init__(self, db_client: MyDatabaseClient) -> None:
        self.db_client = db_client

    @activity.defn
    async def do_database_thing(self, table: str) -> int:
        return await self.db_client.run_database_update(table)


@workflow.defn
class ActivityMethodWorkflow:
    @workflow.run
    async def run(self) -> int:
        return await workflow.execute_activity_method(
            MyActivities.do_database_thing,
            "customers",
            start_to_close_timeout=timedelta(seconds=5),
        )
