"""The `run` resource of the `activation-guest` export.

componentize-py looks an exported resource's class up in the top-level
module named after its interface (`activation_guest`) by the resource's
name (`Run`); build.sh copies this shim next to the workflow module.
"""

from weft_sdk._runtime import Run  # noqa: F401
