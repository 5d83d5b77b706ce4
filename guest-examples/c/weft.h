/*
 * weft.h: the C guest SDK for weft, over wit-bindgen's C bindings.
 *
 * Include it after the generated bindings of your world:
 *
 *     #include "activation_workflow.h"   // or "activity.h"
 *     #include "weft.h"
 *
 * It gives (on top of weft_json.h's byte buffer and JSON reader/writer):
 *   - payload, failure and log helpers, for both worlds;
 *   - for workflows (the `activation-workflow` world): a run is a state
 *     machine. You describe a workflow type with a `weft_workflow_t`
 *     ({name, size of its per-run state, start, step, queries, signals})
 *     and export the types with `WEFT_WORKFLOWS(&a, &b)` (updates too:
 *     validated, accepted, then handled). The SDK
 *     implements the world's exports: each `run` object holds one run's
 *     state (zeroed, `state_size` bytes); `activate` records what the
 *     activation brings (resolved handles, signals, cancellation), then
 *     calls `step` once, which advances the run until it waits and returns
 *     WEFT_WAITING, or ends it (WEFT_COMPLETED, WEFT_FAILED,
 *     WEFT_CONTINUE_AS_NEW). `WEFT_BEGIN`/`WEFT_AWAIT`/`WEFT_END` make a
 *     step function read as straight-line code (protothreads: a stored
 *     line number says where to resume). Many runs share one instance.
 *
 * Names follow the Rust SDK and Temporal's (see guest-examples/README.md):
 * `weft_start_activity`, `weft_start_timer`, `weft_start_child`,
 * `weft_signal_workflow`, ... Failures are retryable unless made with
 * `weft_non_retryable*`.
 *
 * Memory rules of the canonical ABI, as wit-bindgen C applies them:
 *   - what you pass to an import is borrowed: stack or static memory is fine;
 *   - what an import returns (a payload, a failure) is yours, on the heap;
 *   - what an export returns is freed by the bindings after the call, so
 *     every non-empty string or list in it must be heap memory (this file's
 *     constructors all allocate);
 *   - an export's arguments are the callee's: the SDK frees them.
 * So: `weft_complete`, `weft_fail` and `weft_continue_as_new` take over the
 * payloads and failures given to them; `weft_take_result` hands you what a
 * handle resolved with (free it, or give it on).
 *
 * By default every function is `static`: the header is the whole library.
 * A Zig guest (or another language) that wants the functions compiled once
 * in C defines WEFT_API empty in one C file that includes this header, and
 * reads the header with WEFT_DECLARATIONS_ONLY (prototypes, no bodies).
 * Out of memory traps (abort), which fails only the current task.
 */
#ifndef WEFT_H
#define WEFT_H

#include "weft_json.h"

#ifndef WEFT_API
#define WEFT_API WEFT_UNUSED static
#endif

/* The generated types carry the world's name; give them one name here. */
#if defined(__BINDINGS_ACTIVATION_WORKFLOW_H)
#define WEFT_WORKFLOW_WORLD 1
typedef activation_workflow_string_t weft_string_t;
typedef activation_workflow_tuple2_string_list_u8_t weft_metadata_entry_t;
#define weft_host_log_ weft_plugin_activation_host_log
#elif defined(__BINDINGS_ACTIVITY_H)
typedef activity_string_t weft_string_t;
typedef activity_tuple2_string_list_u8_t weft_metadata_entry_t;
#define weft_host_log_ weft_plugin_activity_host_log
#else
#error "include the generated activation_workflow.h or activity.h before weft.h"
#endif

typedef weft_plugin_types_payload_t weft_payload_t;
typedef weft_plugin_types_failure_t weft_failure_t;
/* A list of payloads you own (free it with weft_payloads_free). */
typedef weft_plugin_types_list_payload_t weft_payloads_t;

/* Arguments handed to guest code: borrowed for the call. */
typedef struct {
  const weft_payload_t *ptr;
  size_t len;
} weft_args_t;

/* ============================================================ prototypes */

/* ------------------------------------------------------------- strings */

/* A WIT string that borrows `s` (for arguments of imports). */
WEFT_API weft_string_t weft_str(const char *s);
/* A WIT string with its own heap copy of `len` bytes at `s`. */
WEFT_API weft_string_t weft_string_copy(const void *s, size_t len);
/* A WIT string with its own heap copy of the C string `s`. */
WEFT_API weft_string_t weft_string(const char *s);

/* ------------------------------------------------------------ payloads */

/* True when the payload's `encoding` metadata is `json/plain`. */
WEFT_API bool weft_payload_is_json(const weft_payload_t *payload);
/* A `json/plain` payload that takes over the bytes of `json` (the buffer is
 * left empty). Heap memory throughout: fit to return from an export. */
WEFT_API weft_payload_t weft_payload_json(weft_buf_t *json);
/* A `json/plain` payload holding a JSON string with the text `s`. */
WEFT_API weft_payload_t weft_payload_json_string(const char *s);
/* If the payload is a json/plain JSON string without NUL, appends its text
 * to `out` and NUL-terminates it (a C string). */
WEFT_API bool weft_payload_as_string(const weft_payload_t *payload, weft_buf_t *out);
/* If the payload is a json/plain JSON integer in 0..2^64-1, stores it. */
WEFT_API bool weft_payload_as_u64(const weft_payload_t *payload, uint64_t *n);
/* Frees a payload you own. */
WEFT_API void weft_payload_free(weft_payload_t *payload);
/* Frees a list of payloads you own. */
WEFT_API void weft_payloads_free(weft_payloads_t *payloads);

/* ------------------------------------------------------------ failures */

/* A retryable failure with no details (heap memory: fit to return). */
WEFT_API weft_failure_t weft_failure(const char *error_type, const char *message);
/* A failure Temporal must not retry. */
WEFT_API weft_failure_t weft_non_retryable(const char *error_type, const char *message);
/* Same two, taking the message from a buffer (which is freed). */
WEFT_API weft_failure_t weft_failure_buf(const char *error_type, weft_buf_t *message);
WEFT_API weft_failure_t weft_non_retryable_buf(const char *error_type, weft_buf_t *message);
/* Frees a failure you own. */
WEFT_API void weft_failure_free(weft_failure_t *failure);

/* ----------------------------------------------------------------- log */

enum {
  WEFT_TRACE = WEFT_PLUGIN_TYPES_LOG_LEVEL_TRACE,
  WEFT_DEBUG = WEFT_PLUGIN_TYPES_LOG_LEVEL_DEBUG,
  WEFT_INFO = WEFT_PLUGIN_TYPES_LOG_LEVEL_INFO,
  WEFT_WARN = WEFT_PLUGIN_TYPES_LOG_LEVEL_WARN,
  WEFT_ERROR = WEFT_PLUGIN_TYPES_LOG_LEVEL_ERROR,
};

/* Logs a line through the host (tagged with the run's or task's identity;
 * in a workflow, silent while replaying). */
WEFT_API void weft_log(int level, const char *message);
/* Logs the buffer's text and frees it. */
WEFT_API void weft_log_buf(int level, weft_buf_t *message);

#if defined(__BINDINGS_ACTIVITY_H)
/* ============================================================ activities */

/* Records progress with `details` (borrowed; NULL and 0 for none); true
 * once cancellation of the activity was requested. */
WEFT_API bool weft_heartbeat(const weft_payload_t *details, size_t count);
#endif

#if defined(WEFT_WORKFLOW_WORLD)
/* ============================================================ workflows */

/* Something a run started that history resolves (activity, timer, ...). */
typedef uint32_t weft_handle_t;

/* Where a run stands when its step function returns. */
typedef enum {
  /* Waiting on history (a WEFT_AWAIT whose condition is false). */
  WEFT_WAITING = 0,
  /* Ended with a result (weft_complete). */
  WEFT_COMPLETED,
  /* Ended with a failure (weft_fail). */
  WEFT_FAILED,
  /* Ended: start a fresh run with new arguments (weft_continue_as_new). */
  WEFT_CONTINUE_AS_NEW,
} weft_status_t;

/* One run, as the SDK keeps it (opaque to guest code). */
typedef struct weft_run weft_run_t;

/* Answers a query from the run's state, read-only: it must not start
 * anything. On success `*ret` is the answer; else `*err`. */
typedef bool (*weft_query_fn)(weft_run_t *run, const void *state, weft_args_t args,
                              weft_payload_t *ret, weft_failure_t *err);
/* Handles a signal (its arguments are borrowed for the call). It runs in
 * the activation that delivers the signal, before the step function. */
typedef void (*weft_signal_fn)(weft_run_t *run, void *state, weft_args_t args);

typedef struct {
  const char *name;
  weft_query_fn handler;
} weft_query_t;

typedef struct {
  const char *name;
  weft_signal_fn handler;
} weft_signal_t;

/* Validates an update before it is accepted (read-only, like a query):
 * false with `*err` rejects it, and nothing is recorded in history. */
typedef bool (*weft_update_validator_fn)(weft_run_t *run, const void *state, weft_args_t args,
                                         weft_failure_t *err);
/* Handles an accepted update `id` (a C string, borrowed for the call). It
 * answers with weft_complete_update, now or in a later activation (keep a
 * copy of `id`), and may start activities or timers meanwhile. */
typedef void (*weft_update_fn)(weft_run_t *run, void *state, const char *id, weft_args_t args);

typedef struct {
  const char *name;
  weft_update_fn handler;
  /* May be NULL: every update of this name is accepted. */
  weft_update_validator_fn validator;
} weft_update_t;

/* A workflow type. */
typedef struct {
  /* The workflow type name, e.g. "OrderWorkflow". */
  const char *name;
  /* Bytes of per-run state, zeroed at the start of each run. */
  size_t state_size;
  /* Called once per run, from the run's constructor, with its arguments
   * (borrowed: copy what you keep). Return WEFT_WAITING to go on (the first
   * step comes with the first activation), or end the run at once, e.g.
   * `return weft_fail(run, ...)` on invalid arguments. May be NULL. */
  weft_status_t (*start)(weft_run_t *run, void *state, weft_args_t args);
  /* Advances the run until it waits (WEFT_WAITING) or ends. */
  weft_status_t (*step)(weft_run_t *run, void *state);
  /* Frees what the state owns when the run is dropped. May be NULL. */
  void (*drop)(void *state);
  /* Query, signal and update handlers, each list ended by an entry whose
   * name is NULL. May be NULL. A signal with no handler is buffered
   * (weft_take_signal); an update with none is rejected. Handlers run in
   * the activation that delivers them, in history order, before `step`. */
  const weft_query_t *queries;
  const weft_signal_t *signals;
  const weft_update_t *updates;
} weft_workflow_t;

/* Export these workflow types (in one C file): WEFT_WORKFLOWS(&a, &b). */
#define WEFT_WORKFLOWS(...) \
  const weft_workflow_t *const weft_workflows_[] = {__VA_ARGS__, NULL}

/* Protothreads: a step function reads as straight-line code.
 *
 *   static weft_status_t step(weft_run_t *run, void *state) {
 *     my_state_t *s = state;
 *     WEFT_BEGIN(run);
 *     s->timer = weft_start_timer(1000);
 *     WEFT_AWAIT(run, weft_ready(run, s->timer));
 *     ...
 *     return weft_complete(run, weft_payload_json_string("done"));
 *     WEFT_END(run);
 *   }
 *
 * WEFT_AWAIT returns WEFT_WAITING while `cond` is false; the next
 * activation resumes right there. Local variables do not survive a
 * WEFT_AWAIT (the function returned): keep what must live in the state.
 * No `switch` of your own may span a WEFT_AWAIT, and one line holds at
 * most one WEFT_AWAIT. */
#define WEFT_BEGIN(run)    \
  switch (weft_line_(run)) { \
    case 0:
#define WEFT_AWAIT(run, cond)             \
  do {                                    \
    weft_set_line_(run, __LINE__);        \
    /* fall through */                    \
    case __LINE__:                        \
      if (!(cond)) return WEFT_WAITING;   \
  } while (0)
#define WEFT_END(run) \
  }                   \
  return weft_fail(run, weft_non_retryable("WorkflowEnded", "the step function ended without a result"))

/* How Temporal retries (zero fields: Temporal's defaults). */
typedef weft_plugin_workflow_options_retry_policy_t weft_retry_policy_t;

/* What cancelling an activity's handle waits for. */
typedef enum {
  WEFT_ACTIVITY_TRY_CANCEL = 0,
  WEFT_ACTIVITY_WAIT_CANCELLATION_COMPLETED,
  WEFT_ACTIVITY_ABANDON,
} weft_activity_cancellation_t;

/* How to run an activity. Zero-initialise it: every field unset takes the
 * default (the workflow's task queue, Temporal's retry policy, and a 60 s
 * start-to-close timeout unless a schedule-to-close one is given). Strings
 * are borrowed. */
typedef struct {
  const char *task_queue;
  uint64_t start_to_close_timeout_ms;
  uint64_t schedule_to_close_timeout_ms;
  uint64_t schedule_to_start_timeout_ms;
  uint64_t heartbeat_timeout_ms;
  const weft_retry_policy_t *retry_policy;
  weft_activity_cancellation_t cancellation;
  const char *activity_id;
} weft_activity_options_t;

/* How to run a local activity (zero: defaults, 60 s start-to-close). */
typedef struct {
  uint64_t start_to_close_timeout_ms;
  uint64_t schedule_to_close_timeout_ms;
  const weft_retry_policy_t *retry_policy;
  uint64_t local_retry_threshold_ms;
} weft_local_activity_options_t;

/* What happens to a child when its parent closes. */
typedef enum {
  WEFT_PARENT_CLOSE_TERMINATE = 0,
  WEFT_PARENT_CLOSE_ABANDON,
  WEFT_PARENT_CLOSE_REQUEST_CANCEL,
} weft_parent_close_policy_t;

/* What cancelling a child's handle waits for. */
typedef enum {
  WEFT_CHILD_TRY_CANCEL = 0,
  WEFT_CHILD_ABANDON,
  WEFT_CHILD_WAIT_CANCELLATION_COMPLETED,
  WEFT_CHILD_WAIT_CANCELLATION_REQUESTED,
} weft_child_cancellation_t;

/* How to start a child workflow (zero: defaults; strings borrowed). */
typedef struct {
  const char *workflow_id;
  const char *task_queue;
  uint64_t execution_timeout_ms;
  weft_parent_close_policy_t parent_close_policy;
  weft_child_cancellation_t cancellation;
} weft_child_options_t;

/* Facts about the run (free with weft_info_free). */
typedef weft_plugin_workflow_options_workflow_info_t weft_info_t;

/* --- starting things: each returns a handle that history resolves */

/* Schedules an activity with `args` (borrowed). */
WEFT_API weft_handle_t weft_start_activity(const char *activity_type, const weft_payload_t *args,
                                           size_t nargs, const weft_activity_options_t *options);
/* Runs a short activity in this worker; Temporal records a marker. */
WEFT_API weft_handle_t weft_start_local_activity(const char *activity_type,
                                                 const weft_payload_t *args, size_t nargs,
                                                 const weft_local_activity_options_t *options);
/* A durable timer of `ms` milliseconds of workflow time. */
WEFT_API weft_handle_t weft_start_timer(uint64_t ms);
/* Starts a child workflow: weft_child_started says once it started, then
 * the handle resolves with its result. */
WEFT_API weft_handle_t weft_start_child(const char *workflow_type, const weft_payload_t *args,
                                        size_t nargs, const weft_child_options_t *options);
/* Signals another workflow; resolves once delivered. */
WEFT_API weft_handle_t weft_signal_workflow(const char *workflow_id, const char *signal_name,
                                            const weft_payload_t *args, size_t nargs);
/* Asks another workflow to cancel; resolves once the request is delivered. */
WEFT_API weft_handle_t weft_cancel_workflow(const char *workflow_id);
/* Cancels what `h` stands for: a timer resolves with a CancelledError, an
 * activity or child as its options' cancellation says. */
WEFT_API void weft_cancel(weft_handle_t h);

/* --- outcomes */

/* True once history resolved `h` (and its outcome was not taken yet). */
WEFT_API bool weft_ready(weft_run_t *run, weft_handle_t h);
/* Takes the outcome of `h`, which must be ready: true with `*result` (if
 * not NULL; else freed), or false with `*failure` (same). Once only. */
WEFT_API bool weft_take_result(weft_run_t *run, weft_handle_t h, weft_payload_t *result,
                               weft_failure_t *failure);
/* True once history says whether child `h` started. */
WEFT_API bool weft_child_started(weft_run_t *run, weft_handle_t h);
/* Takes whether child `h` started (it must be known): true, or false with
 * `*failure` (if not NULL; else freed). */
WEFT_API bool weft_take_child_start(weft_run_t *run, weft_handle_t h, weft_failure_t *failure);

/* --- signals and cancellation */

/* True when a signal `name` with no handler is buffered. */
WEFT_API bool weft_signal_ready(weft_run_t *run, const char *name);
/* Takes the oldest buffered signal `name`: true with its arguments in
 * `*args` (if not NULL; else freed). */
WEFT_API bool weft_take_signal(weft_run_t *run, const char *name, weft_payloads_t *args);
/* True once cancellation of this run was requested. A run that never asks
 * is cancelled when requested; one that asks handles it itself and ends
 * with weft_fail(run, weft_cancelled_failure(...)) to end as cancelled. */
WEFT_API bool weft_cancel_requested(weft_run_t *run);
/* The failure a cancelled run (or operation) ends with: CancelledError. */
WEFT_API weft_failure_t weft_cancelled_failure(const char *what);

/* --- updates (the SDK accepts an update before calling its handler) */

/* Answers update `id` with `result` or `failure` (taken over; pass
 * exactly one, the other NULL). */
WEFT_API void weft_complete_update(const char *id, weft_payload_t *result, weft_failure_t *failure);
/* The raw answers, for guests that manage updates themselves. */
WEFT_API void weft_accept_update(const char *id);
WEFT_API void weft_reject_update(const char *id, weft_failure_t failure);

/* --- ending the run (each takes over what it is given) */

WEFT_API weft_status_t weft_complete(weft_run_t *run, weft_payload_t result);
WEFT_API weft_status_t weft_fail(weft_run_t *run, weft_failure_t failure);
/* Ends this run and starts a new one of the same type with `args` (the
 * payloads are taken over; the array itself is borrowed). */
WEFT_API weft_status_t weft_continue_as_new(weft_run_t *run, weft_payload_t *args, size_t nargs);

/* --- facts, time, randomness, versioning, metadata */

WEFT_API void weft_info(weft_info_t *info);
WEFT_API void weft_info_free(weft_info_t *info);
/* Workflow time: the activation's timestamp, ms since the Unix epoch. */
WEFT_API uint64_t weft_now_ms(void);
/* A deterministic random number from the run's seed. */
WEFT_API uint64_t weft_random(void);
WEFT_API bool weft_is_replaying(void);
/* True when this run takes the code introduced under patch `id`. */
WEFT_API bool weft_patched(const char *id);
WEFT_API void weft_deprecate_patch(const char *id);
/* Sets search attributes / memo fields `names[i]` = `values[i]` (borrowed). */
WEFT_API void weft_upsert_search_attributes(const char *const *names, const weft_payload_t *values,
                                            size_t count);
WEFT_API void weft_upsert_memo(const char *const *names, const weft_payload_t *values, size_t count);

/* Used by the protothread macros. */
WEFT_API int weft_line_(const weft_run_t *run);
WEFT_API void weft_set_line_(weft_run_t *run, int line);

#endif /* WEFT_WORKFLOW_WORLD */

#ifndef WEFT_DECLARATIONS_ONLY
/* ======================================================= implementation */

WEFT_API weft_string_t weft_str(const char *s) {
  return (weft_string_t){(uint8_t *)s, strlen(s)};
}

WEFT_API weft_string_t weft_string_copy(const void *s, size_t len) {
  uint8_t *ptr = len ? weft_alloc(len) : NULL;
  if (len) memcpy(ptr, s, len);
  return (weft_string_t){ptr, len};
}

WEFT_API weft_string_t weft_string(const char *s) {
  return weft_string_copy(s, strlen(s));
}

/* True when the WIT string `s` equals the C string `c`. */
WEFT_UNUSED static bool weft_str_eq_(weft_string_t s, const char *c) {
  return s.len == strlen(c) && (s.len == 0 || memcmp(s.ptr, c, s.len) == 0);
}

WEFT_API bool weft_payload_is_json(const weft_payload_t *payload) {
  for (size_t i = 0; i < payload->metadata.len; i++) {
    const weft_metadata_entry_t *entry = &payload->metadata.ptr[i];
    if (entry->f0.len == 8 && memcmp(entry->f0.ptr, "encoding", 8) == 0) {
      return entry->f1.len == 10 && memcmp(entry->f1.ptr, "json/plain", 10) == 0;
    }
  }
  return false;
}

WEFT_API weft_payload_t weft_payload_json(weft_buf_t *json) {
  weft_metadata_entry_t *entry = weft_alloc(sizeof *entry);
  entry->f0 = weft_string("encoding");
  weft_string_t value = weft_string("json/plain");
  entry->f1.ptr = value.ptr;
  entry->f1.len = value.len;
  weft_payload_t payload;
  payload.metadata.ptr = entry;
  payload.metadata.len = 1;
  payload.data.ptr = json->ptr;
  payload.data.len = json->len;
  *json = (weft_buf_t){0};
  return payload;
}

WEFT_API weft_payload_t weft_payload_json_string(const char *s) {
  weft_buf_t json = {0};
  weft_json_put_string(&json, (const uint8_t *)s, strlen(s));
  return weft_payload_json(&json);
}

WEFT_API bool weft_payload_as_string(const weft_payload_t *payload, weft_buf_t *out) {
  size_t start = out->len;
  if (!weft_payload_is_json(payload) ||
      !weft_json_as_string(payload->data.ptr, payload->data.len, out) ||
      memchr(out->ptr + start, 0, out->len - start)) {
    out->len = start;
    return false;
  }
  weft_buf_cstr(out);
  return true;
}

WEFT_API bool weft_payload_as_u64(const weft_payload_t *payload, uint64_t *n) {
  return weft_payload_is_json(payload) &&
         weft_json_as_u64(payload->data.ptr, payload->data.len, n);
}

WEFT_API void weft_payload_free(weft_payload_t *payload) {
  weft_plugin_types_payload_free(payload);
}

WEFT_API void weft_payloads_free(weft_payloads_t *payloads) {
  weft_plugin_types_list_payload_free(payloads);
}

/* A failure with no details. */
WEFT_UNUSED static weft_failure_t weft_failure_new_(const char *error_type, const char *message,
                                                    bool non_retryable) {
  weft_failure_t failure;
  failure.message = weft_string(message);
  failure.error_type = weft_string(error_type);
  failure.non_retryable = non_retryable;
  failure.details.ptr = NULL;
  failure.details.len = 0;
  return failure;
}

WEFT_API weft_failure_t weft_failure(const char *error_type, const char *message) {
  return weft_failure_new_(error_type, message, false);
}

WEFT_API weft_failure_t weft_non_retryable(const char *error_type, const char *message) {
  return weft_failure_new_(error_type, message, true);
}

WEFT_API weft_failure_t weft_failure_buf(const char *error_type, weft_buf_t *message) {
  weft_failure_t failure = weft_failure_new_(error_type, weft_buf_cstr(message), false);
  weft_buf_free(message);
  return failure;
}

WEFT_API weft_failure_t weft_non_retryable_buf(const char *error_type, weft_buf_t *message) {
  weft_failure_t failure = weft_failure_new_(error_type, weft_buf_cstr(message), true);
  weft_buf_free(message);
  return failure;
}

WEFT_API void weft_failure_free(weft_failure_t *failure) {
  weft_plugin_types_failure_free(failure);
}

WEFT_API void weft_log(int level, const char *message) {
  weft_string_t s = weft_str(message);
  weft_host_log_((weft_plugin_types_log_level_t)level, &s);
}

WEFT_API void weft_log_buf(int level, weft_buf_t *message) {
  weft_log(level, weft_buf_cstr(message));
  weft_buf_free(message);
}

#if defined(__BINDINGS_ACTIVITY_H)
WEFT_API bool weft_heartbeat(const weft_payload_t *details, size_t count) {
  weft_plugin_activity_host_list_payload_t list = {(weft_payload_t *)details, count};
  return weft_plugin_activity_host_heartbeat(&list);
}
#endif

#if defined(WEFT_WORKFLOW_WORLD)
/* ------------------------------------------------------ workflow runtime */

typedef exports_weft_plugin_activation_guest_job_t weft_job_t_;
typedef exports_weft_plugin_activation_guest_list_payload_t weft_export_payloads_t_;

/* What history gave for a handle, until the run takes it. */
typedef struct {
  weft_handle_t handle;
  /* A `child-started` job rather than a resolution. */
  bool child_start;
  bool is_err;
  weft_payload_t ok;
  weft_failure_t err;
} weft_outcome_t_;

/* A signal with no handler, until the run takes it. */
typedef struct {
  weft_string_t name;
  weft_export_payloads_t_ args;
} weft_buffered_signal_t_;

struct weft_run {
  const weft_workflow_t *workflow;
  void *state;
  /* Where the step function resumes (WEFT_AWAIT's line; 0: the start). */
  int line;
  weft_outcome_t_ *outcomes;
  size_t outcomes_len, outcomes_cap;
  weft_buffered_signal_t_ *signals;
  size_t signals_len, signals_cap;
  bool cancel_requested;
  /* The workflow asked about cancellation: it handles it itself. */
  bool handles_cancellation;
  /* How the run ended (WEFT_WAITING while it runs), and with what, until
   * activate hands it to the host. */
  weft_status_t end;
  bool end_handed_over;
  weft_payload_t result;
  weft_failure_t failure;
  weft_export_payloads_t_ next_args;
};

/* The resource's representation: the run, then its state. */
struct exports_weft_plugin_activation_guest_run_t {
  weft_run_t run;
  _Alignas(16) unsigned char state[];
};

/* The workflow types, from WEFT_WORKFLOWS. */
extern const weft_workflow_t *const weft_workflows_[];

WEFT_API int weft_line_(const weft_run_t *run) {
  return run->line;
}

WEFT_API void weft_set_line_(weft_run_t *run, int line) {
  run->line = line;
}

/* Grows `*ptr` (of `*cap` items of `size` bytes) to hold one more. */
WEFT_UNUSED static void weft_grow_(void **ptr, size_t *cap, size_t len, size_t size) {
  if (len < *cap) return;
  size_t cap2 = *cap ? *cap * 2 : 4;
  void *grown = realloc(*ptr, cap2 * size);
  if (!grown) abort();
  *ptr = grown;
  *cap = cap2;
}

/* The index of handle `h`'s outcome of that kind, or -1. */
WEFT_UNUSED static ptrdiff_t weft_find_outcome_(const weft_run_t *run, weft_handle_t h,
                                                bool child_start) {
  for (size_t i = 0; i < run->outcomes_len; i++) {
    if (run->outcomes[i].handle == h && run->outcomes[i].child_start == child_start) {
      return (ptrdiff_t)i;
    }
  }
  return -1;
}

/* Removes outcome `i`, keeping the others in order. */
WEFT_UNUSED static weft_outcome_t_ weft_remove_outcome_(weft_run_t *run, size_t i) {
  weft_outcome_t_ out = run->outcomes[i];
  memmove(&run->outcomes[i], &run->outcomes[i + 1],
          (run->outcomes_len - i - 1) * sizeof *run->outcomes);
  if (--run->outcomes_len == 0) { /* a parked run keeps no empty array */
    free(run->outcomes);
    run->outcomes = NULL;
    run->outcomes_cap = 0;
  }
  return out;
}

WEFT_API bool weft_ready(weft_run_t *run, weft_handle_t h) {
  return weft_find_outcome_(run, h, false) >= 0;
}

WEFT_API bool weft_take_result(weft_run_t *run, weft_handle_t h, weft_payload_t *result,
                               weft_failure_t *failure) {
  ptrdiff_t i = weft_find_outcome_(run, h, false);
  if (i < 0) abort(); /* a bug in the step function: it was not ready */
  weft_outcome_t_ out = weft_remove_outcome_(run, (size_t)i);
  if (out.is_err) {
    if (failure) *failure = out.err;
    else weft_failure_free(&out.err);
    return false;
  }
  if (result) *result = out.ok;
  else weft_payload_free(&out.ok);
  return true;
}

WEFT_API bool weft_child_started(weft_run_t *run, weft_handle_t h) {
  return weft_find_outcome_(run, h, true) >= 0;
}

WEFT_API bool weft_take_child_start(weft_run_t *run, weft_handle_t h, weft_failure_t *failure) {
  ptrdiff_t i = weft_find_outcome_(run, h, true);
  if (i < 0) abort();
  weft_outcome_t_ out = weft_remove_outcome_(run, (size_t)i);
  if (!out.is_err) return true;
  if (failure) *failure = out.err;
  else weft_failure_free(&out.err);
  return false;
}

WEFT_API bool weft_signal_ready(weft_run_t *run, const char *name) {
  for (size_t i = 0; i < run->signals_len; i++) {
    if (weft_str_eq_(run->signals[i].name, name)) return true;
  }
  return false;
}

WEFT_API bool weft_take_signal(weft_run_t *run, const char *name, weft_payloads_t *args) {
  for (size_t i = 0; i < run->signals_len; i++) {
    weft_buffered_signal_t_ *signal = &run->signals[i];
    if (!weft_str_eq_(signal->name, name)) continue;
    weft_payloads_t taken = {signal->args.ptr, signal->args.len};
    if (args) *args = taken;
    else weft_payloads_free(&taken);
    activation_workflow_string_free(&signal->name);
    memmove(signal, signal + 1, (run->signals_len - i - 1) * sizeof *signal);
    if (--run->signals_len == 0) {
      free(run->signals);
      run->signals = NULL;
      run->signals_cap = 0;
    }
    return true;
  }
  return false;
}

WEFT_API bool weft_cancel_requested(weft_run_t *run) {
  run->handles_cancellation = true;
  return run->cancel_requested;
}

WEFT_API weft_failure_t weft_cancelled_failure(const char *what) {
  weft_buf_t message = {0};
  weft_buf_puts(&message, what);
  weft_buf_puts(&message, " cancelled");
  return weft_non_retryable_buf("CancelledError", &message);
}

/* Records how the run ended; a second end is a bug in the guest. */
WEFT_UNUSED static weft_status_t weft_end_(weft_run_t *run, weft_status_t end) {
  if (run->end != WEFT_WAITING) abort();
  run->end = end;
  return end;
}

WEFT_API weft_status_t weft_complete(weft_run_t *run, weft_payload_t result) {
  run->result = result;
  return weft_end_(run, WEFT_COMPLETED);
}

WEFT_API weft_status_t weft_fail(weft_run_t *run, weft_failure_t failure) {
  run->failure = failure;
  return weft_end_(run, WEFT_FAILED);
}

WEFT_API weft_status_t weft_continue_as_new(weft_run_t *run, weft_payload_t *args, size_t nargs) {
  weft_payload_t *copy = nargs ? weft_alloc(nargs * sizeof *copy) : NULL;
  if (nargs) memcpy(copy, args, nargs * sizeof *copy);
  run->next_args.ptr = copy;
  run->next_args.len = nargs;
  return weft_end_(run, WEFT_CONTINUE_AS_NEW);
}

/* ---------------------------------------------------------- host calls */

/* Borrowed WIT option of a C string (NULL: none). */
WEFT_UNUSED static activation_workflow_option_string_t weft_opt_str_(const char *s) {
  activation_workflow_option_string_t o = {0};
  if (s) {
    o.is_some = true;
    o.val = weft_str(s);
  }
  return o;
}

/* WIT option of a duration (0: none). */
WEFT_UNUSED static activation_workflow_option_u64_t weft_opt_ms_(uint64_t ms) {
  return (activation_workflow_option_u64_t){ms != 0, ms};
}

WEFT_UNUSED static weft_plugin_workflow_options_option_retry_policy_t weft_opt_retry_(
    const weft_retry_policy_t *policy) {
  weft_plugin_workflow_options_option_retry_policy_t o;
  memset(&o, 0, sizeof o);
  if (policy) {
    o.is_some = true;
    o.val = *policy;
  }
  return o;
}

/* Activities default to a 60 s start-to-close timeout, as the Rust SDK's. */
#define WEFT_DEFAULT_START_TO_CLOSE_MS_ 60000

WEFT_API weft_handle_t weft_start_activity(const char *activity_type, const weft_payload_t *args,
                                           size_t nargs, const weft_activity_options_t *options) {
  weft_activity_options_t defaults = {0};
  if (!options) options = &defaults;
  weft_plugin_activation_host_activity_options_t raw;
  memset(&raw, 0, sizeof raw);
  raw.task_queue = weft_opt_str_(options->task_queue);
  uint64_t start_to_close = options->start_to_close_timeout_ms;
  if (!start_to_close && !options->schedule_to_close_timeout_ms) {
    start_to_close = WEFT_DEFAULT_START_TO_CLOSE_MS_;
  }
  raw.start_to_close_timeout_ms = weft_opt_ms_(start_to_close);
  raw.schedule_to_close_timeout_ms = weft_opt_ms_(options->schedule_to_close_timeout_ms);
  raw.schedule_to_start_timeout_ms = weft_opt_ms_(options->schedule_to_start_timeout_ms);
  raw.heartbeat_timeout_ms = weft_opt_ms_(options->heartbeat_timeout_ms);
  raw.retry_policy = weft_opt_retry_(options->retry_policy);
  static const weft_plugin_workflow_options_activity_cancellation_t cancellation[] = {
      WEFT_PLUGIN_WORKFLOW_OPTIONS_ACTIVITY_CANCELLATION_TRY_CANCEL,
      WEFT_PLUGIN_WORKFLOW_OPTIONS_ACTIVITY_CANCELLATION_WAIT_CANCELLATION_COMPLETED,
      WEFT_PLUGIN_WORKFLOW_OPTIONS_ACTIVITY_CANCELLATION_ABANDON,
  };
  raw.cancellation = cancellation[options->cancellation];
  raw.activity_id = weft_opt_str_(options->activity_id);
  weft_string_t type = weft_str(activity_type);
  weft_plugin_activation_host_list_payload_t list = {(weft_payload_t *)args, nargs};
  return weft_plugin_activation_host_start_activity(&type, &list, &raw);
}

WEFT_API weft_handle_t weft_start_local_activity(const char *activity_type,
                                                 const weft_payload_t *args, size_t nargs,
                                                 const weft_local_activity_options_t *options) {
  weft_local_activity_options_t defaults = {0};
  if (!options) options = &defaults;
  weft_plugin_activation_host_local_activity_options_t raw;
  memset(&raw, 0, sizeof raw);
  uint64_t start_to_close = options->start_to_close_timeout_ms;
  if (!start_to_close && !options->schedule_to_close_timeout_ms) {
    start_to_close = WEFT_DEFAULT_START_TO_CLOSE_MS_;
  }
  raw.start_to_close_timeout_ms = weft_opt_ms_(start_to_close);
  raw.schedule_to_close_timeout_ms = weft_opt_ms_(options->schedule_to_close_timeout_ms);
  raw.retry_policy = weft_opt_retry_(options->retry_policy);
  raw.local_retry_threshold_ms = weft_opt_ms_(options->local_retry_threshold_ms);
  weft_string_t type = weft_str(activity_type);
  weft_plugin_activation_host_list_payload_t list = {(weft_payload_t *)args, nargs};
  return weft_plugin_activation_host_start_local_activity(&type, &list, &raw);
}

WEFT_API weft_handle_t weft_start_timer(uint64_t ms) {
  return weft_plugin_activation_host_start_timer(ms);
}

WEFT_API weft_handle_t weft_start_child(const char *workflow_type, const weft_payload_t *args,
                                        size_t nargs, const weft_child_options_t *options) {
  weft_child_options_t defaults = {0};
  if (!options) options = &defaults;
  weft_plugin_activation_host_child_options_t raw;
  memset(&raw, 0, sizeof raw);
  raw.workflow_id = weft_opt_str_(options->workflow_id);
  raw.task_queue = weft_opt_str_(options->task_queue);
  raw.execution_timeout_ms = weft_opt_ms_(options->execution_timeout_ms);
  static const weft_plugin_workflow_options_parent_close_policy_t close[] = {
      WEFT_PLUGIN_WORKFLOW_OPTIONS_PARENT_CLOSE_POLICY_TERMINATE,
      WEFT_PLUGIN_WORKFLOW_OPTIONS_PARENT_CLOSE_POLICY_ABANDON,
      WEFT_PLUGIN_WORKFLOW_OPTIONS_PARENT_CLOSE_POLICY_REQUEST_CANCEL,
  };
  static const weft_plugin_workflow_options_child_cancellation_t cancellation[] = {
      WEFT_PLUGIN_WORKFLOW_OPTIONS_CHILD_CANCELLATION_TRY_CANCEL,
      WEFT_PLUGIN_WORKFLOW_OPTIONS_CHILD_CANCELLATION_ABANDON,
      WEFT_PLUGIN_WORKFLOW_OPTIONS_CHILD_CANCELLATION_WAIT_CANCELLATION_COMPLETED,
      WEFT_PLUGIN_WORKFLOW_OPTIONS_CHILD_CANCELLATION_WAIT_CANCELLATION_REQUESTED,
  };
  raw.parent_close_policy = close[options->parent_close_policy];
  raw.cancellation = cancellation[options->cancellation];
  weft_string_t type = weft_str(workflow_type);
  weft_plugin_activation_host_list_payload_t list = {(weft_payload_t *)args, nargs};
  return weft_plugin_activation_host_start_child(&type, &list, &raw);
}

WEFT_API weft_handle_t weft_signal_workflow(const char *workflow_id, const char *signal_name,
                                            const weft_payload_t *args, size_t nargs) {
  weft_string_t id = weft_str(workflow_id);
  weft_string_t name = weft_str(signal_name);
  weft_plugin_activation_host_list_payload_t list = {(weft_payload_t *)args, nargs};
  return weft_plugin_activation_host_signal_workflow(&id, &name, &list);
}

WEFT_API weft_handle_t weft_cancel_workflow(const char *workflow_id) {
  weft_string_t id = weft_str(workflow_id);
  return weft_plugin_activation_host_cancel_workflow(&id);
}

WEFT_API void weft_cancel(weft_handle_t h) {
  weft_plugin_activation_host_cancel(h);
}

WEFT_API void weft_accept_update(const char *id) {
  weft_string_t s = weft_str(id);
  weft_plugin_activation_host_accept_update(&s);
}

WEFT_API void weft_reject_update(const char *id, weft_failure_t failure) {
  weft_string_t s = weft_str(id);
  weft_plugin_activation_host_reject_update(&s, &failure);
  weft_failure_free(&failure);
}

WEFT_API void weft_complete_update(const char *id, weft_payload_t *result,
                                   weft_failure_t *failure) {
  weft_string_t s = weft_str(id);
  weft_plugin_activation_host_result_payload_failure_t outcome;
  memset(&outcome, 0, sizeof outcome);
  if (failure) {
    outcome.is_err = true;
    outcome.val.err = *failure;
  } else if (result) {
    outcome.val.ok = *result;
  }
  weft_plugin_activation_host_complete_update(&s, &outcome);
  weft_plugin_activation_host_result_payload_failure_free(&outcome);
}

WEFT_API void weft_info(weft_info_t *info) {
  weft_plugin_activation_host_info(info);
}

WEFT_API void weft_info_free(weft_info_t *info) {
  weft_plugin_workflow_options_workflow_info_free(info);
}

WEFT_API uint64_t weft_now_ms(void) {
  return weft_plugin_activation_host_now();
}

WEFT_API uint64_t weft_random(void) {
  return weft_plugin_activation_host_random();
}

WEFT_API bool weft_is_replaying(void) {
  return weft_plugin_activation_host_is_replaying();
}

WEFT_API bool weft_patched(const char *id) {
  weft_string_t s = weft_str(id);
  return weft_plugin_activation_host_patched(&s);
}

WEFT_API void weft_deprecate_patch(const char *id) {
  weft_string_t s = weft_str(id);
  weft_plugin_activation_host_deprecate_patch(&s);
}

/* Borrowed (name, value) pairs for upsert-search-attributes and -memo. */
WEFT_UNUSED static weft_plugin_activation_host_list_tuple2_string_payload_t weft_fields_(
    const char *const *names, const weft_payload_t *values, size_t count) {
  weft_plugin_activation_host_tuple2_string_payload_t *fields =
      weft_alloc(count * sizeof *fields);
  for (size_t i = 0; i < count; i++) {
    fields[i].f0 = weft_str(names[i]);
    fields[i].f1 = values[i];
  }
  return (weft_plugin_activation_host_list_tuple2_string_payload_t){fields, count};
}

WEFT_API void weft_upsert_search_attributes(const char *const *names, const weft_payload_t *values,
                                            size_t count) {
  weft_plugin_activation_host_list_tuple2_string_payload_t fields =
      weft_fields_(names, values, count);
  weft_plugin_activation_host_upsert_search_attributes(&fields);
  free(fields.ptr); /* the pairs only borrow */
}

WEFT_API void weft_upsert_memo(const char *const *names, const weft_payload_t *values,
                               size_t count) {
  weft_plugin_activation_host_list_tuple2_string_payload_t fields =
      weft_fields_(names, values, count);
  weft_plugin_activation_host_upsert_memo(&fields);
  free(fields.ptr);
}

/* ------------------------------------------------------------- exports */

/* `describe`: the workflow types; any number of runs per instance (each
 * run's state is its own). The list is freed by the bindings: heap. */
void exports_weft_plugin_activation_guest_describe(
    exports_weft_plugin_activation_guest_definition_t *ret) {
  size_t count = 0;
  while (weft_workflows_[count]) count++;
  ret->workflow_types.ptr = weft_alloc(count * sizeof(weft_string_t));
  ret->workflow_types.len = count;
  for (size_t i = 0; i < count; i++) {
    ret->workflow_types.ptr[i] = weft_string(weft_workflows_[i]->name);
  }
  ret->max_runs_per_instance = 0;
}

/* The run's constructor: state zeroed, then the type's `start`. */
exports_weft_plugin_activation_guest_own_run_t exports_weft_plugin_activation_guest_constructor_run(
    weft_string_t *workflow_type, weft_export_payloads_t_ *args) {
  const weft_workflow_t *workflow = NULL;
  for (size_t i = 0; weft_workflows_[i]; i++) {
    if (weft_str_eq_(*workflow_type, weft_workflows_[i]->name)) workflow = weft_workflows_[i];
  }
  size_t state_size = workflow ? workflow->state_size : 0;
  exports_weft_plugin_activation_guest_run_t *rep =
      calloc(1, sizeof *rep + state_size);
  if (!rep) abort();
  weft_run_t *run = &rep->run;
  run->workflow = workflow;
  run->state = rep->state;
  if (!workflow) {
    weft_buf_t message = {0};
    weft_buf_puts(&message, "this component does not offer workflow type ");
    weft_json_put_string(&message, workflow_type->ptr, workflow_type->len);
    weft_fail(run, weft_non_retryable_buf("UnknownWorkflowType", &message));
  } else if (workflow->start) {
    weft_args_t view = {args->ptr, args->len};
    workflow->start(run, run->state, view);
  }
  exports_weft_plugin_activation_guest_list_payload_free(args);
  activation_workflow_string_free(workflow_type);
  return exports_weft_plugin_activation_guest_run_new(rep);
}

/* Applies one job (taking over what it keeps; the rest is freed with the
 * job list). */
WEFT_UNUSED static void weft_apply_(weft_run_t *run, weft_job_t_ *job) {
  switch (job->tag) {
    case EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_JOB_RESOLVED:
    case EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_JOB_CHILD_STARTED: {
      weft_grow_((void **)&run->outcomes, &run->outcomes_cap, run->outcomes_len,
                 sizeof *run->outcomes);
      weft_outcome_t_ *out = &run->outcomes[run->outcomes_len++];
      memset(out, 0, sizeof *out);
      if (job->tag == EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_JOB_RESOLVED) {
        exports_weft_plugin_activation_guest_resolution_t *r = &job->val.resolved;
        out->handle = r->handle;
        out->is_err = r->outcome.is_err;
        if (r->outcome.is_err) out->err = r->outcome.val.err;
        else out->ok = r->outcome.val.ok;
        memset(&r->outcome, 0, sizeof r->outcome); /* taken over */
      } else {
        exports_weft_plugin_activation_guest_child_start_t *c = &job->val.child_started;
        out->handle = c->handle;
        out->child_start = true;
        out->is_err = c->outcome.is_err;
        if (c->outcome.is_err) out->err = c->outcome.val.err;
        memset(&c->outcome, 0, sizeof c->outcome);
      }
      break;
    }
    case EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_JOB_SIGNAL: {
      exports_weft_plugin_activation_guest_signal_t *s = &job->val.signal;
      const weft_signal_t *handlers = run->workflow ? run->workflow->signals : NULL;
      for (size_t i = 0; handlers && handlers[i].name; i++) {
        if (weft_str_eq_(s->name, handlers[i].name)) {
          if (run->end == WEFT_WAITING) {
            handlers[i].handler(run, run->state, (weft_args_t){s->args.ptr, s->args.len});
          }
          return;
        }
      }
      weft_grow_((void **)&run->signals, &run->signals_cap, run->signals_len,
                 sizeof *run->signals);
      run->signals[run->signals_len++] = (weft_buffered_signal_t_){s->name, s->args};
      memset(s, 0, sizeof *s);
      break;
    }
    case EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_JOB_UPDATE: {
      exports_weft_plugin_activation_guest_update_t *u = &job->val.update;
      const weft_update_t *handlers = run->workflow ? run->workflow->updates : NULL;
      const weft_update_t *handler = NULL;
      for (size_t i = 0; handlers && handlers[i].name; i++) {
        if (weft_str_eq_(u->name, handlers[i].name)) handler = &handlers[i];
      }
      weft_failure_t failure;
      if (!handler || run->end != WEFT_WAITING) {
        weft_buf_t message = {0};
        weft_buf_puts(&message, "this workflow handles no update named ");
        weft_json_put_string(&message, u->name.ptr, u->name.len);
        failure = weft_non_retryable_buf("UpdateNotRegistered", &message);
        weft_plugin_activation_host_reject_update(&u->id, &failure);
        weft_failure_free(&failure);
        break;
      }
      weft_args_t args = {u->args.ptr, u->args.len};
      /* A replayed update was accepted already: its validator must not
       * run again. */
      if (u->run_validator && handler->validator &&
          !handler->validator(run, run->state, args, &failure)) {
        weft_plugin_activation_host_reject_update(&u->id, &failure);
        weft_failure_free(&failure);
        break;
      }
      weft_plugin_activation_host_accept_update(&u->id);
      weft_buf_t id = {0};
      weft_buf_append(&id, u->id.ptr, u->id.len);
      handler->handler(run, run->state, weft_buf_cstr(&id), args);
      weft_buf_free(&id);
      break;
    }
    case EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_JOB_CANCEL_REQUESTED:
      run->cancel_requested = true;
      break;
  }
}

/* `activate`: apply the jobs, step the run, report where it stands. */
void exports_weft_plugin_activation_guest_method_run_activate(
    exports_weft_plugin_activation_guest_borrow_run_t self,
    exports_weft_plugin_activation_guest_list_job_t *jobs,
    exports_weft_plugin_activation_guest_run_status_t *ret) {
  weft_run_t *run = &self->run;
  if (run->end_handed_over) abort(); /* the host activates no ended run */
  for (size_t i = 0; i < jobs->len; i++) weft_apply_(run, &jobs->ptr[i]);
  exports_weft_plugin_activation_guest_list_job_free(jobs);
  if (run->end == WEFT_WAITING) {
    weft_status_t status = run->workflow->step(run, run->state);
    if (status != run->end) abort(); /* returned an end it did not record */
  }
  /* A run that does not handle cancellation is cancelled when asked, as
   * Temporal's SDKs cancel the workflow's main coroutine. */
  if (run->end == WEFT_WAITING && run->cancel_requested && !run->handles_cancellation) {
    weft_fail(run, weft_cancelled_failure("workflow"));
  }
  memset(ret, 0, sizeof *ret);
  switch (run->end) {
    case WEFT_WAITING:
      ret->tag = EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_RUN_STATUS_WAITING;
      return;
    case WEFT_COMPLETED:
      ret->tag = EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_RUN_STATUS_COMPLETED;
      ret->val.completed.val.ok = run->result;
      break;
    case WEFT_FAILED:
      ret->tag = EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_RUN_STATUS_COMPLETED;
      ret->val.completed.is_err = true;
      ret->val.completed.val.err = run->failure;
      break;
    case WEFT_CONTINUE_AS_NEW:
      ret->tag = EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_RUN_STATUS_CONTINUE_AS_NEW;
      ret->val.continue_as_new = run->next_args;
      break;
  }
  /* The bindings free what was returned after the call. */
  run->end_handed_over = true;
}

/* `query`: the handler the workflow type registered for `name`. */
bool exports_weft_plugin_activation_guest_method_run_query(
    exports_weft_plugin_activation_guest_borrow_run_t self, weft_string_t *name,
    weft_export_payloads_t_ *args, weft_payload_t *ret, weft_failure_t *err) {
  weft_run_t *run = &self->run;
  const weft_query_t *queries = run->workflow ? run->workflow->queries : NULL;
  bool ok = false;
  bool found = false;
  for (size_t i = 0; queries && queries[i].name; i++) {
    if (weft_str_eq_(*name, queries[i].name)) {
      found = true;
      ok = queries[i].handler(run, run->state, (weft_args_t){args->ptr, args->len}, ret, err);
      break;
    }
  }
  if (!found) {
    weft_buf_t message = {0};
    weft_buf_puts(&message, "query ");
    weft_json_put_string(&message, name->ptr, name->len);
    weft_buf_puts(&message, " has no handler: this run answers ");
    if (!queries || !queries[0].name) weft_buf_puts(&message, "none");
    for (size_t i = 0; queries && queries[i].name; i++) {
      if (i) weft_buf_puts(&message, ", ");
      weft_buf_puts(&message, queries[i].name);
    }
    *err = weft_non_retryable_buf("QueryNotRegistered", &message);
  }
  exports_weft_plugin_activation_guest_list_payload_free(args);
  activation_workflow_string_free(name);
  return ok;
}

/* The run's destructor: everything the run holds is freed. */
void exports_weft_plugin_activation_guest_run_destructor(
    exports_weft_plugin_activation_guest_run_t *rep) {
  weft_run_t *run = &rep->run;
  if (run->workflow && run->workflow->drop) run->workflow->drop(run->state);
  for (size_t i = 0; i < run->outcomes_len; i++) {
    weft_payload_free(&run->outcomes[i].ok);
    weft_failure_free(&run->outcomes[i].err);
  }
  free(run->outcomes);
  for (size_t i = 0; i < run->signals_len; i++) {
    activation_workflow_string_free(&run->signals[i].name);
    exports_weft_plugin_activation_guest_list_payload_free(&run->signals[i].args);
  }
  free(run->signals);
  if (!run->end_handed_over) {
    weft_payload_free(&run->result);
    weft_failure_free(&run->failure);
    exports_weft_plugin_activation_guest_list_payload_free(&run->next_args);
  }
  free(rep);
}

#endif /* WEFT_WORKFLOW_WORLD */
#endif /* WEFT_DECLARATIONS_ONLY */

#endif /* WEFT_H */
