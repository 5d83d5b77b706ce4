"""`temporalio`, inside a weft workflow component: its workflow-side
modules are weft_sdk's.

A workflow module written for the Temporal Python SDK imports
`from temporalio import workflow`, `from temporalio.common import
RetryPolicy`, `from temporalio.exceptions import ApplicationError`, ...
Built with this directory on componentize-py's path (`-p .../compat`), those
imports get `weft_sdk.workflow`, `weft_sdk.common`, `weft_sdk.exceptions`
and `weft_sdk.activity`, so the same file runs on the temporalio worker and
on weft unchanged (tests/sdk-compat/python). The client, worker and
converter modules are not here: they have no place in a workflow.

Without this package, change the imports instead: `temporalio` ->
`weft_sdk`, nothing else.
"""

import sys

from weft_sdk import activity, common, exceptions, workflow

__all__ = ["activity", "common", "exceptions", "workflow"]

# `from temporalio.workflow import X` and `import temporalio.common` find the
# submodules here (the import system looks in sys.modules first), so each
# is the weft_sdk module itself, not a copy.
for _name, _module in (("activity", activity), ("common", common), ("exceptions", exceptions), ("workflow", workflow)):
    sys.modules[f"{__name__}.{_name}"] = _module
