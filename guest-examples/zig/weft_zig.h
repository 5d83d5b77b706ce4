/*
 * What weft.zig sees of C (translated by `zig translate-c` into the module
 * `bindings`): the generated bindings of the activation-workflow world and
 * the C SDK's declarations, whose bodies weft_sdk.c compiles.
 */
#define WEFT_API extern
#define WEFT_DECLARATIONS_ONLY
#include "activation_workflow.h"
#include "weft.h"
