/*
 * The C SDK's workflow runtime (../c/weft.h), compiled once for Zig
 * workflows: it implements the world's exports (`describe`, the `run`
 * resource) and the calls weft.zig wraps, with external linkage. The Zig
 * guest exports the `weft_workflows_` table (weft.exportWorkflows).
 */
#define WEFT_API
#include "activation_workflow.h"
#include "weft.h"
