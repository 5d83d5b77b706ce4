"""The weft guest's entry module (not a sample): componentize-py builds
sdk_compat_python.wasm from it (guest-examples/python/build.sh). It imports
every sample, which registers their workflow classes, and names the export
componentize-py calls. The samples import `temporalio`, which that build
maps to weft_sdk (guest-examples/python/compat/temporalio).
"""

import hello_activity  # noqa: F401
import hello_activity_method  # noqa: F401
import hello_child_workflow  # noqa: F401
import hello_continue_as_new  # noqa: F401
import hello_dynamic_handlers  # noqa: F401
import hello_exception  # noqa: F401
import hello_parallel_activity  # noqa: F401
import hello_patch  # noqa: F401
import hello_search_attributes  # noqa: F401
import hello_signal_query  # noqa: F401
import hello_update  # noqa: F401
import timer_race  # noqa: F401

# The export componentize-py calls.
from weft_sdk.workflow import ActivationGuest  # noqa: F401
