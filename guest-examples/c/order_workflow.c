/*
 * OrderWorkflow in C: a weft workflow component (see ../ORDER.md).
 *
 * Creates an order with the CreateOrder activity, gives the customer a grace
 * period (one second unless the third argument says) to send the
 * `cancel-order` signal, then charges the order with ChargePayment. The
 * `status` query reads the run's state.
 *
 * A run is a state machine (world `activation-workflow`): the SDK calls
 * `order_step` at each activation, and WEFT_AWAIT returns until history
 * resolves what it waits on; the next activation resumes there. Everything
 * a run keeps lives in its `order_t`, so one instance hosts many runs. The
 * module imports nothing but weft:plugin/activation-host: no clock, no
 * randomness, no files, so every replay takes the same path.
 */
#include "activation_workflow.h"
#include "weft.h"

/* Task queue of the order activities unless the second argument says. */
#define DEFAULT_ACTIVITY_QUEUE "ORDER_ACTIVITY_Q"
#define ACTIVITY_TIMEOUT_MS 60000
/* The grace period unless the third argument says, and the longest it may
 * ask for (a day). */
#define DEFAULT_GRACE_MS 1000
#define MAX_GRACE_MS 86400000

/* One run's state. */
typedef struct {
  weft_buf_t order_id; /* C strings */
  weft_buf_t queue;
  uint64_t grace_ms;
  /* The `status` query's answer (a static string; NULL before step 1). */
  const char *status;
  /* A `cancel-order` signal came. */
  bool cancel_signalled;
  /* What the run waits on. */
  weft_handle_t activity;
  weft_handle_t timer;
  /* The result, written as the activities complete. */
  weft_buf_t output;
} order_t;

/* Logs `order <id>: <what>`. */
static void log_step(const order_t *order, const char *what) {
  weft_buf_t line = {0};
  weft_buf_puts(&line, "order ");
  weft_buf_puts(&line, (const char *)order->order_id.ptr);
  weft_buf_puts(&line, ": ");
  weft_buf_puts(&line, what);
  weft_log_buf(WEFT_INFO, &line);
}

/* An InvalidInput failure about argument `index` (0-based). */
static weft_failure_t invalid_arg(size_t index, const char *what) {
  weft_buf_t message = {0};
  weft_buf_puts(&message, "argument ");
  weft_buf_put_u64(&message, index + 1);
  weft_buf_puts(&message, what);
  return weft_non_retryable_buf("InvalidInput", &message);
}

/* Checks and keeps the arguments: `[order_id]`, `[order_id, queue]` or
 * `[order_id, queue, grace_ms]`. */
static weft_status_t order_start(weft_run_t *run, void *state, weft_args_t args) {
  order_t *order = state;
  if (args.len < 1 || args.len > 3) {
    weft_buf_t message = {0};
    weft_buf_puts(&message,
                  "expected the order id and optionally the activity task queue and the grace "
                  "period, got ");
    weft_buf_put_u64(&message, args.len);
    weft_buf_puts(&message, " arguments");
    return weft_fail(run, weft_non_retryable_buf("InvalidInput", &message));
  }
  const char *must_be_string = " must be a json/plain JSON string";
  if (!weft_payload_as_string(&args.ptr[0], &order->order_id)) {
    return weft_fail(run, invalid_arg(0, must_be_string));
  }
  if (args.len >= 2 ? !weft_payload_as_string(&args.ptr[1], &order->queue)
                    : (weft_buf_puts(&order->queue, DEFAULT_ACTIVITY_QUEUE), false)) {
    return weft_fail(run, invalid_arg(1, must_be_string));
  }
  weft_buf_cstr(&order->queue);
  order->grace_ms = DEFAULT_GRACE_MS;
  if (args.len == 3 && (!weft_payload_as_u64(&args.ptr[2], &order->grace_ms) ||
                        order->grace_ms < 1 || order->grace_ms > MAX_GRACE_MS)) {
    weft_buf_t what = {0};
    weft_buf_puts(&what, " (grace_ms) must be a JSON integer from 1 to ");
    weft_buf_put_u64(&what, MAX_GRACE_MS);
    weft_failure_t failure = invalid_arg(2, weft_buf_cstr(&what));
    weft_buf_free(&what);
    return weft_fail(run, failure);
  }
  return WEFT_WAITING;
}

/* Schedules one order activity with the order id as its argument. */
static weft_handle_t start_order_activity(const order_t *order, const char *activity_type) {
  weft_payload_t arg = weft_payload_json_string((const char *)order->order_id.ptr);
  weft_activity_options_t options = {
      .task_queue = (const char *)order->queue.ptr,
      .start_to_close_timeout_ms = ACTIVITY_TIMEOUT_MS,
  };
  weft_handle_t handle = weft_start_activity(activity_type, &arg, 1, &options);
  weft_payload_free(&arg);
  return handle;
}

/* Takes the resolved activity's outcome: on success appends `,"key":
 * <result>` to the output and returns true; otherwise `*err` is the
 * activity's failure as received (type, message, retryability). */
static bool take_activity(weft_run_t *run, order_t *order, const char *activity_type,
                          const char *key, weft_failure_t *err) {
  weft_payload_t result;
  if (!weft_take_result(run, order->activity, &result, err)) return false;
  bool ok = weft_payload_is_json(&result) && weft_json_valid(result.data.ptr, result.data.len);
  if (ok) {
    weft_buf_puts(&order->output, ",");
    weft_json_put_key(&order->output, key);
    weft_buf_append(&order->output, result.data.ptr, result.data.len);
  } else {
    weft_buf_t message = {0};
    weft_buf_puts(&message, activity_type);
    weft_buf_puts(&message, " returned a payload that is not json/plain JSON");
    *err = weft_non_retryable_buf("InvalidPayload", &message);
  }
  weft_payload_free(&result);
  return ok;
}

/* The workflow, one activation at a time. */
static weft_status_t order_step(weft_run_t *run, void *state) {
  order_t *order = state;
  weft_failure_t err;
  WEFT_BEGIN(run);

  /* 1-2. Create the order. */
  order->status = "creating";
  log_step(order, "creating order");
  order->activity = start_order_activity(order, "CreateOrder");
  WEFT_AWAIT(run, weft_ready(run, order->activity));
  weft_buf_puts(&order->output, "{");
  weft_json_put_key(&order->output, "order_id");
  weft_json_put_string(&order->output, order->order_id.ptr, order->order_id.len);
  if (!take_activity(run, order, "CreateOrder", "create_order", &err)) {
    order->status = "failed";
    return weft_fail(run, err);
  }

  /* 3. Grace period: the timer or the `cancel-order` signal, first wins
   * (the timer when both are in one activation, as in the Rust example). */
  order->status = "grace";
  order->timer = weft_start_timer(order->grace_ms);
  WEFT_AWAIT(run, weft_ready(run, order->timer) || order->cancel_signalled);
  if (!weft_ready(run, order->timer)) {
    weft_cancel(order->timer);
    order->status = "cancelled";
    log_step(order, "cancelled by the customer");
    weft_buf_t message = {0};
    weft_buf_puts(&message, "order ");
    weft_buf_puts(&message, (const char *)order->order_id.ptr);
    weft_buf_puts(&message, " cancelled");
    return weft_fail(run, weft_non_retryable_buf("OrderCancelled", &message));
  }
  weft_take_result(run, order->timer, NULL, NULL);

  /* 4. Charge it. */
  order->status = "charging";
  log_step(order, "charging payment");
  order->activity = start_order_activity(order, "ChargePayment");
  WEFT_AWAIT(run, weft_ready(run, order->activity));
  if (!take_activity(run, order, "ChargePayment", "charge_payment", &err)) {
    order->status = "failed";
    return weft_fail(run, err);
  }
  weft_buf_puts(&order->output, "}");

  /* 5. Done. */
  order->status = "completed";
  log_step(order, "completed");
  return weft_complete(run, weft_payload_json(&order->output));

  WEFT_END(run);
}

/* Signal `cancel-order` (any payload). */
static void on_cancel_order(weft_run_t *run, void *state, weft_args_t args) {
  ((order_t *)state)->cancel_signalled = true;
}

/* Query `status`: where the run stands, a JSON string. */
static bool query_status(weft_run_t *run, const void *state, weft_args_t args,
                         weft_payload_t *ret, weft_failure_t *err) {
  const order_t *order = state;
  if (!order->status) {
    *err = weft_failure("NoStatus", "the order has not started");
    return false;
  }
  *ret = weft_payload_json_string(order->status);
  return true;
}

static void order_drop(void *state) {
  order_t *order = state;
  weft_buf_free(&order->order_id);
  weft_buf_free(&order->queue);
  weft_buf_free(&order->output);
}

static const weft_query_t order_queries[] = {{"status", query_status}, {NULL, NULL}};
static const weft_signal_t order_signals[] = {{"cancel-order", on_cancel_order}, {NULL, NULL}};

static const weft_workflow_t order_workflow = {
    .name = "OrderWorkflow",
    .state_size = sizeof(order_t),
    .start = order_start,
    .step = order_step,
    .drop = order_drop,
    .queries = order_queries,
    .signals = order_signals,
};

WEFT_WORKFLOWS(&order_workflow);
