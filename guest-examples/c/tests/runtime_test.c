/*
 * Tests of weft.h's workflow runtime (the activation world's exports),
 * compiled natively by ../test.sh with wit-bindgen's generated glue and
 * stub host imports: runs are constructed, activated with jobs as the host
 * would deliver them, queried and dropped, and every allocation is counted
 * (the linker wraps malloc, calloc, realloc and free) so that a leak per
 * run fails the test.
 */
#include <stdio.h>

#include "activation_workflow.h"
#include "check.h"
#include "weft.h"

/* ------------------------------------------------- allocation counting */

static long live = 0;
void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void __real_free(void *);
void *__wrap_malloc(size_t n) {
  void *p = __real_malloc(n);
  if (p) live++;
  return p;
}
void *__wrap_calloc(size_t n, size_t size) {
  void *p = __real_calloc(n, size);
  if (p) live++;
  return p;
}
void *__wrap_realloc(void *old, size_t n) {
  void *p = __real_realloc(old, n);
  if (!old && p) live++;
  return p;
}
void __wrap_free(void *p) {
  if (p) live--;
  __real_free(p);
}

/* ---------------------------------------------------- host stubs */

/* The resource table: the glue casts reps to 32 bits (wasm32), so the
 * linker sends its `run_new` here. */
static exports_weft_plugin_activation_guest_run_t *reps[1024];
static int32_t nreps = 0;
exports_weft_plugin_activation_guest_own_run_t __wrap_exports_weft_plugin_activation_guest_run_new(
    exports_weft_plugin_activation_guest_run_t *rep) {
  reps[nreps] = rep;
  return (exports_weft_plugin_activation_guest_own_run_t){nreps++};
}

static int32_t next_handle = 1;
static int32_t cancelled_handle = 0;
static int rejected_updates = 0, accepted_updates = 0, completed_updates = 0;
static int started_timers = 0, started_activities = 0;

int32_t __wasm_import_weft_plugin_activation_host_start_activity(uint8_t *p) {
  started_activities++;
  return next_handle++;
}
int32_t __wasm_import_weft_plugin_activation_host_start_local_activity(uint8_t *p) {
  return next_handle++;
}
int32_t __wasm_import_weft_plugin_activation_host_start_timer(int64_t ms) {
  started_timers++;
  return next_handle++;
}
int32_t __wasm_import_weft_plugin_activation_host_start_child(uint8_t *a, size_t b, uint8_t *c,
                                                              size_t d, int32_t e, uint8_t *f,
                                                              size_t g, int32_t h, uint8_t *i,
                                                              size_t j, int32_t k, int64_t l,
                                                              int32_t m, int32_t n) {
  return next_handle++;
}
int32_t __wasm_import_weft_plugin_activation_host_signal_workflow(uint8_t *a, size_t b, uint8_t *c,
                                                                  size_t d, uint8_t *e, size_t f) {
  return next_handle++;
}
int32_t __wasm_import_weft_plugin_activation_host_cancel_workflow(uint8_t *a, size_t b) {
  return next_handle++;
}
void __wasm_import_weft_plugin_activation_host_cancel(int32_t h) {
  cancelled_handle = h;
}
void __wasm_import_weft_plugin_activation_host_info(uint8_t *p) {
  memset(p, 0, 11 * sizeof(void *));
}
int64_t __wasm_import_weft_plugin_activation_host_now(void) {
  return 0;
}
int64_t __wasm_import_weft_plugin_activation_host_random(void) {
  return 4;
}
int32_t __wasm_import_weft_plugin_activation_host_is_replaying(void) {
  return 0;
}
void __wasm_import_weft_plugin_activation_host_log(int32_t level, uint8_t *p, size_t n) {}
int32_t __wasm_import_weft_plugin_activation_host_patched(uint8_t *a, size_t b) {
  return 1;
}
void __wasm_import_weft_plugin_activation_host_deprecate_patch(uint8_t *a, size_t b) {}
void __wasm_import_weft_plugin_activation_host_upsert_search_attributes(uint8_t *a, size_t b) {}
void __wasm_import_weft_plugin_activation_host_upsert_memo(uint8_t *a, size_t b) {}
void __wasm_import_weft_plugin_activation_host_accept_update(uint8_t *a, size_t b) {
  accepted_updates++;
}
void __wasm_import_weft_plugin_activation_host_reject_update(uint8_t *a, size_t b, uint8_t *c,
                                                             size_t d, uint8_t *e, size_t f,
                                                             int32_t g, uint8_t *h, size_t i) {
  rejected_updates++;
}
void __wasm_import_weft_plugin_activation_host_complete_update(uint8_t *a, size_t b, int32_t c,
                                                               uint8_t *d, size_t e, uint8_t *f,
                                                               size_t g, int32_t h, uint8_t *i,
                                                               size_t j) {
  completed_updates++;
}
void __wasm_import_exports_weft_plugin_activation_guest_run_drop(int32_t h) {}
int32_t __wasm_import_exports_weft_plugin_activation_guest_run_new(int32_t rep) {
  return 0;
}
int32_t __wasm_import_exports_weft_plugin_activation_guest_run_rep(int32_t h) {
  return 0;
}
/* Defined by the wasm-only `*_component_type.o`. */
void __component_type_object_force_link_activation_workflow(void) {}

/* ------------------------------------------------- the workflows */

/* "Test": an activity, then a timer raced by signal `stop`; query `n`
 * counts the activations; `cancel` is handled by asking. */
typedef struct {
  weft_buf_t name;
  weft_handle_t activity, timer;
  bool stop;
  uint64_t n;
  bool watch_cancel;
} test_t;

static weft_status_t test_start(weft_run_t *run, void *state, weft_args_t args) {
  test_t *t = state;
  if (args.len != 1 || !weft_payload_as_string(&args.ptr[0], &t->name)) {
    return weft_fail(run, weft_non_retryable("InvalidInput", "one JSON string"));
  }
  t->watch_cancel = strcmp((const char *)t->name.ptr, "watch") == 0;
  return WEFT_WAITING;
}

static weft_status_t test_step(weft_run_t *run, void *state) {
  test_t *t = state;
  weft_failure_t err;
  weft_payload_t result;
  t->n++;
  if (t->watch_cancel && weft_cancel_requested(run)) {
    return weft_fail(run, weft_cancelled_failure("test"));
  }
  WEFT_BEGIN(run);
  t->activity = weft_start_activity("A", NULL, 0, NULL);
  WEFT_AWAIT(run, weft_ready(run, t->activity));
  if (!weft_take_result(run, t->activity, &result, &err)) return weft_fail(run, err);
  weft_payload_free(&result);
  t->timer = weft_start_timer(1000);
  WEFT_AWAIT(run, weft_ready(run, t->timer) || t->stop);
  if (!weft_ready(run, t->timer)) {
    weft_cancel(t->timer);
    return weft_fail(run, weft_non_retryable("Stopped", "stopped"));
  }
  weft_take_result(run, t->timer, NULL, NULL);
  if (weft_signal_ready(run, "again")) {
    weft_payloads_t args;
    CHECK(weft_take_signal(run, "again", &args) && args.len == 1);
    weft_payloads_free(&args);
    CHECK(!weft_signal_ready(run, "again"));
    weft_payload_t next[1] = {weft_payload_json_string("next")};
    return weft_continue_as_new(run, next, 1);
  }
  return weft_complete(run, weft_payload_json_string((const char *)t->name.ptr));
  WEFT_END(run);
}

static void test_stop(weft_run_t *run, void *state, weft_args_t args) {
  ((test_t *)state)->stop = true;
}

static bool test_query_n(weft_run_t *run, const void *state, weft_args_t args,
                         weft_payload_t *ret, weft_failure_t *err) {
  weft_buf_t json = {0};
  weft_buf_put_u64(&json, ((const test_t *)state)->n);
  *ret = weft_payload_json(&json);
  return true;
}

/* Update `bump`: refused once stopped; else counts and answers at once. */
static bool test_bump_valid(weft_run_t *run, const void *state, weft_args_t args,
                            weft_failure_t *err) {
  if (!((const test_t *)state)->stop) return true;
  *err = weft_non_retryable("Stopped", "no bumps once stopped");
  return false;
}

static void test_bump(weft_run_t *run, void *state, const char *id, weft_args_t args) {
  test_t *t = state;
  t->n += 100;
  weft_buf_t json = {0};
  weft_buf_put_u64(&json, t->n);
  weft_payload_t result = weft_payload_json(&json);
  weft_complete_update(id, &result, NULL);
}

static void test_drop(void *state) {
  weft_buf_free(&((test_t *)state)->name);
}

static const weft_query_t test_queries[] = {{"n", test_query_n}, {NULL, NULL}};
static const weft_signal_t test_signals[] = {{"stop", test_stop}, {NULL, NULL}};
static const weft_update_t test_updates[] = {{"bump", test_bump, test_bump_valid},
                                             {NULL, NULL, NULL}};
static const weft_workflow_t test_workflow = {
    .name = "Test",
    .state_size = sizeof(test_t),
    .start = test_start,
    .step = test_step,
    .drop = test_drop,
    .queries = test_queries,
    .signals = test_signals,
    .updates = test_updates,
};

WEFT_WORKFLOWS(&test_workflow);

/* -------------------------------------------------------- helpers */

typedef exports_weft_plugin_activation_guest_run_t rep_t;
typedef exports_weft_plugin_activation_guest_job_t job_t;
typedef exports_weft_plugin_activation_guest_list_job_t jobs_t;
typedef exports_weft_plugin_activation_guest_run_status_t status_t;

/* A run of `type` with one JSON string argument, as the host constructs it
 * (everything on the heap: the constructor owns its arguments). */
static rep_t *construct(const char *type, const char *arg) {
  weft_string_t t = weft_string(type);
  exports_weft_plugin_activation_guest_list_payload_t args = {weft_alloc(sizeof(weft_payload_t)), 1};
  args.ptr[0] = weft_payload_json_string(arg);
  exports_weft_plugin_activation_guest_own_run_t own =
      exports_weft_plugin_activation_guest_constructor_run(&t, &args);
  return reps[own.__handle];
}

static job_t resolved(weft_handle_t h, bool ok) {
  job_t job = {.tag = EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_JOB_RESOLVED};
  job.val.resolved.handle = h;
  job.val.resolved.outcome.is_err = !ok;
  if (ok) job.val.resolved.outcome.val.ok = weft_payload_json_string("done");
  else job.val.resolved.outcome.val.err = weft_failure("Boom", "it failed");
  return job;
}

static job_t signal(const char *name) {
  job_t job = {.tag = EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_JOB_SIGNAL};
  job.val.signal.name = weft_string(name);
  job.val.signal.args.ptr = weft_alloc(sizeof(weft_payload_t));
  job.val.signal.args.len = 1;
  job.val.signal.args.ptr[0] = weft_payload_json_string("x");
  return job;
}

static job_t update(const char *name) {
  job_t job = {.tag = EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_JOB_UPDATE};
  job.val.update.id = weft_string("u1");
  job.val.update.name = weft_string(name);
  job.val.update.run_validator = true;
  return job;
}

static job_t cancel_requested(void) {
  return (job_t){.tag = EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_JOB_CANCEL_REQUESTED};
}

/* Activates `rep` with `n` jobs; returns the status tag (and for an end,
 * whether it is an error and its error type or first argument's JSON). */
static int activate(rep_t *rep, job_t *jobs, size_t n, char *what, size_t what_len) {
  jobs_t list = {n ? weft_alloc(n * sizeof(job_t)) : NULL, n};
  if (n) memcpy(list.ptr, jobs, n * sizeof(job_t));
  status_t status;
  exports_weft_plugin_activation_guest_method_run_activate(rep, &list, &status);
  if (what) what[0] = 0;
  if (what && status.tag == EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_RUN_STATUS_COMPLETED) {
    const activation_workflow_string_t *s =
        status.val.completed.is_err ? &status.val.completed.val.err.error_type : NULL;
    const weft_payload_t *p = status.val.completed.is_err ? NULL : &status.val.completed.val.ok;
    const uint8_t *text = s ? s->ptr : p->data.ptr;
    size_t len = s ? s->len : p->data.len;
    snprintf(what, what_len, "%s%.*s", s ? "err " : "ok ", (int)len, (const char *)text);
  }
  if (what && status.tag == EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_RUN_STATUS_CONTINUE_AS_NEW) {
    const weft_payload_t *p = &status.val.continue_as_new.ptr[0];
    snprintf(what, what_len, "%.*s", (int)p->data.len, (const char *)p->data.ptr);
  }
  int tag = status.tag;
  exports_weft_plugin_activation_guest_run_status_free(&status); /* the post-return */
  return tag;
}

/* Queries `name`: the answer's JSON, or "err <type>". */
static void query(rep_t *rep, const char *name, char *out, size_t out_len) {
  weft_string_t n = weft_string(name);
  exports_weft_plugin_activation_guest_list_payload_t args = {NULL, 0};
  weft_payload_t ret;
  weft_failure_t err;
  if (exports_weft_plugin_activation_guest_method_run_query(rep, &n, &args, &ret, &err)) {
    snprintf(out, out_len, "%.*s", (int)ret.data.len, (const char *)ret.data.ptr);
    weft_payload_free(&ret);
  } else {
    snprintf(out, out_len, "err %.*s", (int)err.error_type.len, (const char *)err.error_type.ptr);
    weft_failure_free(&err);
  }
}

static void drop(rep_t *rep) {
  exports_weft_plugin_activation_guest_run_destructor(rep);
}

enum {
  WAITING = EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_RUN_STATUS_WAITING,
  COMPLETED = EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_RUN_STATUS_COMPLETED,
  CONTINUE_AS_NEW = EXPORTS_WEFT_PLUGIN_ACTIVATION_GUEST_RUN_STATUS_CONTINUE_AS_NEW,
};

/* ---------------------------------------------------------- tests */

static void test_describe(void) {
  exports_weft_plugin_activation_guest_definition_t def;
  exports_weft_plugin_activation_guest_describe(&def);
  CHECK(def.workflow_types.len == 1 && def.max_runs_per_instance == 0);
  CHECK(weft_str_eq_(def.workflow_types.ptr[0], "Test"));
  activation_workflow_list_string_free(&def.workflow_types);
}

/* The happy path, through the timer; queries before and after the end. */
static void test_completes(void) {
  char what[64];
  rep_t *run = construct("Test", "hi");
  query(run, "n", what, sizeof what);
  CHECK(strcmp(what, "0") == 0);
  CHECK(activate(run, NULL, 0, what, sizeof what) == WAITING);
  weft_handle_t activity = (weft_handle_t)next_handle - 1;
  CHECK(activate(run, NULL, 0, what, sizeof what) == WAITING); /* nothing new */
  job_t jobs[] = {resolved(activity, true)};
  CHECK(activate(run, jobs, 1, what, sizeof what) == WAITING);
  weft_handle_t timer = (weft_handle_t)next_handle - 1;
  job_t fired[] = {resolved(timer, true)};
  CHECK(activate(run, fired, 1, what, sizeof what) == COMPLETED);
  CHECK(strcmp(what, "ok \"hi\"") == 0);
  query(run, "n", what, sizeof what);
  CHECK(strcmp(what, "4") == 0);
  query(run, "nope", what, sizeof what);
  CHECK(strcmp(what, "err QueryNotRegistered") == 0);
  drop(run);
}

/* A handled signal wins the race: the timer is cancelled. Unhandled
 * signals and an update (refused) in the same activation. */
static void test_signal_wins(void) {
  char what[64];
  rep_t *run = construct("Test", "s");
  CHECK(activate(run, NULL, 0, NULL, 0) == WAITING);
  job_t jobs[] = {signal("other"), update("u"), resolved((weft_handle_t)next_handle - 1, true)};
  int before = rejected_updates;
  CHECK(activate(run, jobs, 3, NULL, 0) == WAITING);
  CHECK(rejected_updates == before + 1);
  weft_handle_t timer = (weft_handle_t)next_handle - 1;
  job_t stop[] = {signal("stop"), signal("other")};
  CHECK(activate(run, stop, 2, what, sizeof what) == COMPLETED);
  CHECK(strcmp(what, "err Stopped") == 0);
  CHECK(cancelled_handle == (int32_t)timer);
  drop(run); /* buffered signals freed */
}

/* An activity failure passes through; a resolution never taken (the timer
 * of a dropped run) is freed with the run. */
static void test_failure_and_pending(void) {
  char what[64];
  rep_t *run = construct("Test", "f");
  CHECK(activate(run, NULL, 0, NULL, 0) == WAITING);
  job_t jobs[] = {resolved((weft_handle_t)next_handle - 1, false)};
  CHECK(activate(run, jobs, 1, what, sizeof what) == COMPLETED);
  CHECK(strcmp(what, "err Boom") == 0);
  drop(run);

  run = construct("Test", "p");
  CHECK(activate(run, NULL, 0, NULL, 0) == WAITING);
  job_t two[] = {resolved((weft_handle_t)next_handle - 1, true), resolved(999, true)};
  CHECK(activate(run, two, 2, NULL, 0) == WAITING);
  drop(run); /* mid-run, with handle 999's outcome never taken */
}

/* Updates: a handled one is validated, accepted and answered before the
 * step; a replayed one skips its validator; an unknown one is rejected. */
static void test_updates_handled(void) {
  char what[64];
  rep_t *run = construct("Test", "u");
  CHECK(activate(run, NULL, 0, NULL, 0) == WAITING);
  int accepted = accepted_updates, completed = completed_updates, rejected = rejected_updates;
  job_t bump[] = {update("bump"), update("nope")};
  CHECK(activate(run, bump, 2, NULL, 0) == WAITING);
  CHECK(accepted_updates == accepted + 1 && completed_updates == completed + 1);
  CHECK(rejected_updates == rejected + 1);
  query(run, "n", what, sizeof what);
  CHECK(strcmp(what, "102") == 0); /* two steps and one bump */
  drop(run);

  /* Once stopped (set here directly: the run still waits on its
   * activity), the validator refuses, except for a replayed update. */
  run = construct("Test", "v");
  CHECK(activate(run, NULL, 0, NULL, 0) == WAITING);
  ((test_t *)run->state)->stop = true;
  job_t replayed[] = {update("bump"), update("bump")};
  replayed[0].val.update.run_validator = false;
  accepted = accepted_updates, rejected = rejected_updates;
  CHECK(activate(run, replayed, 2, NULL, 0) == WAITING);
  CHECK(accepted_updates == accepted + 1 && rejected_updates == rejected + 1);
  drop(run);
}

/* Continue-as-new with the buffered `again` signal. */
static void test_continue_as_new(void) {
  char what[64];
  rep_t *run = construct("Test", "c");
  CHECK(activate(run, NULL, 0, NULL, 0) == WAITING);
  job_t jobs[] = {signal("again"), resolved((weft_handle_t)next_handle - 1, true)};
  CHECK(activate(run, jobs, 2, NULL, 0) == WAITING);
  job_t fired[] = {resolved((weft_handle_t)next_handle - 1, true)};
  CHECK(activate(run, fired, 1, what, sizeof what) == CONTINUE_AS_NEW);
  CHECK(strcmp(what, "\"next\"") == 0);
  drop(run);
}

/* Cancellation: a run that never asks is cancelled; one that asks ends
 * as it chooses. Unknown types and invalid arguments end at once. */
static void test_cancel_and_refusals(void) {
  char what[64];
  rep_t *run = construct("Test", "x");
  CHECK(activate(run, NULL, 0, NULL, 0) == WAITING);
  job_t cancel[] = {cancel_requested()};
  CHECK(activate(run, cancel, 1, what, sizeof what) == COMPLETED);
  CHECK(strcmp(what, "err CancelledError") == 0);
  drop(run);

  run = construct("Test", "watch");
  CHECK(activate(run, NULL, 0, NULL, 0) == WAITING);
  job_t cancel2[] = {cancel_requested()};
  CHECK(activate(run, cancel2, 1, what, sizeof what) == COMPLETED);
  CHECK(strcmp(what, "err CancelledError") == 0);
  drop(run);

  run = construct("Nope", "x");
  CHECK(activate(run, NULL, 0, what, sizeof what) == COMPLETED);
  CHECK(strcmp(what, "err UnknownWorkflowType") == 0);
  query(run, "n", what, sizeof what);
  CHECK(strcmp(what, "err QueryNotRegistered") == 0);
  drop(run);

  /* An argument that is not a JSON string. */
  weft_string_t t = weft_string("Test");
  weft_buf_t json = {0};
  weft_buf_puts(&json, "7");
  exports_weft_plugin_activation_guest_list_payload_t args = {weft_alloc(sizeof(weft_payload_t)), 1};
  args.ptr[0] = weft_payload_json(&json);
  run = reps[exports_weft_plugin_activation_guest_constructor_run(&t, &args).__handle];
  CHECK(activate(run, NULL, 0, what, sizeof what) == COMPLETED);
  CHECK(strcmp(what, "err InvalidInput") == 0);
  drop(run);
}

/* Many runs interleaved in one instance keep their states apart. */
static void test_many_runs(void) {
  enum { RUNS = 200 };
  static rep_t *runs[RUNS];
  static weft_handle_t activities[RUNS];
  char name[16], what[64];
  for (int i = 0; i < RUNS; i++) {
    snprintf(name, sizeof name, "r%d", i);
    nreps = 0; /* the table only needs the newest */
    runs[i] = construct("Test", name);
    CHECK(activate(runs[i], NULL, 0, NULL, 0) == WAITING);
    activities[i] = (weft_handle_t)next_handle - 1;
  }
  for (int i = RUNS - 1; i >= 0; i--) {
    job_t jobs[] = {resolved(activities[i], true)};
    CHECK(activate(runs[i], jobs, 1, NULL, 0) == WAITING);
    job_t fired[] = {resolved((weft_handle_t)next_handle - 1, true)};
    CHECK(activate(runs[i], fired, 1, what, sizeof what) == COMPLETED);
    snprintf(name, sizeof name, "ok \"r%d\"", i);
    CHECK(strcmp(what, name) == 0);
  }
  for (int i = 0; i < RUNS; i++) drop(runs[i]);
}

int main(void) {
  long start = live;
  test_describe();
  test_completes();
  test_signal_wins();
  test_failure_and_pending();
  test_updates_handled();
  test_continue_as_new();
  test_cancel_and_refusals();
  test_many_runs();
  if (live != start) {
    fprintf(stderr, "weft.h runtime: %ld allocations not freed\n", live - start);
    failures++;
  }
  if (failures) {
    fprintf(stderr, "weft.h runtime: %d checks failed\n", failures);
    return 1;
  }
  printf("weft.h runtime: all checks passed, no allocation left\n");
  return 0;
}
