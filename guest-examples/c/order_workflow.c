/*
 * OrderWorkflow in C: a weft workflow component (see ../ORDER.md).
 *
 * Creates an order with the CreateOrder activity, gives the customer a grace
 * period (one second unless the third argument says) to send the
 * `cancel-order` signal, then charges the order with ChargePayment. The
 * `status` query follows each step.
 *
 * Straight-line code: `weft_execute_activity` and `weft_wait_any` block
 * until a later workflow activation resolves what they wait on. The module
 * imports nothing but weft:plugin/workflow-host: no clock, no randomness,
 * no files, so every replay takes the same path.
 */
#include "workflow.h"
#include "weft.h"

#define ORDER_WORKFLOW "OrderWorkflow"
/* Task queue of the order activities unless the second argument says. */
#define DEFAULT_ACTIVITY_QUEUE "ORDER_ACTIVITY_Q"
#define ACTIVITY_TIMEOUT_MS 60000
/* The grace period unless the third argument says, and the longest it may
 * ask for (a day). */
#define DEFAULT_GRACE_MS 1000
#define MAX_GRACE_MS 86400000

/* Publishes the `status` query's answer, a JSON string. */
static void set_status(const char *status) {
  weft_buf_t json = {0};
  weft_json_put_string(&json, (const uint8_t *)status, strlen(status));
  weft_set_query_json("status", weft_buf_cstr(&json));
  weft_buf_free(&json);
}

/* Logs `order <id>: <what>`. */
static void log_step(const char *order_id, const char *what) {
  weft_buf_t line = {0};
  weft_buf_puts(&line, "order ");
  weft_buf_puts(&line, order_id);
  weft_buf_puts(&line, ": ");
  weft_buf_puts(&line, what);
  weft_log_buf(WEFT_INFO, &line);
}

/* Decodes argument `index` (a json/plain JSON string) into `out` (a C
 * string: a NUL in the text would cut it, so it is refused). */
static bool string_arg(const weft_payload_t *args, size_t index, weft_buf_t *out,
                       weft_failure_t *err) {
  if (!weft_payload_is_json(&args[index]) ||
      !weft_json_as_string(args[index].data.ptr, args[index].data.len, out) ||
      (out->len && memchr(out->ptr, 0, out->len))) {
    weft_buf_t message = {0};
    weft_buf_puts(&message, "argument ");
    weft_buf_put_u64(&message, index + 1);
    weft_buf_puts(&message, " must be a json/plain JSON string");
    *err = weft_failure_buf("InvalidInput", &message, true);
    return false;
  }
  weft_buf_cstr(out);
  return true;
}

/* Decodes argument `index`, the grace period: a JSON integer from 1 to
 * MAX_GRACE_MS. */
static bool grace_arg(const weft_payload_t *args, size_t index, uint64_t *grace_ms,
                      weft_failure_t *err) {
  if (!weft_payload_is_json(&args[index]) ||
      !weft_json_as_u64(args[index].data.ptr, args[index].data.len, grace_ms) || *grace_ms < 1 ||
      *grace_ms > MAX_GRACE_MS) {
    weft_buf_t message = {0};
    weft_buf_puts(&message, "argument ");
    weft_buf_put_u64(&message, index + 1);
    weft_buf_puts(&message, " (grace_ms) must be a JSON integer from 1 to ");
    weft_buf_put_u64(&message, MAX_GRACE_MS);
    *err = weft_failure_buf("InvalidInput", &message, true);
    return false;
  }
  return true;
}

/* Runs one order activity with the order id as its argument. On success
 * appends the activity's JSON result to `out`; otherwise `*err` is the
 * activity's failure as received (its type, message and retryability). */
static bool run_activity(const char *activity_type, const char *order_id, const char *queue,
                         weft_buf_t *out, weft_failure_t *err) {
  weft_plugin_workflow_host_activity_options_t options =
      weft_activity_options(queue, ACTIVITY_TIMEOUT_MS);
  weft_payload_t arg = weft_payload_json_string(order_id);
  weft_payload_t result;
  bool ok = weft_execute_activity(activity_type, arg, &options, &result, err);
  weft_plugin_types_payload_free(&arg);
  if (!ok) return false;
  ok = weft_payload_is_json(&result) && weft_json_valid(result.data.ptr, result.data.len);
  if (ok) {
    weft_buf_append(out, result.data.ptr, result.data.len);
  } else {
    weft_buf_t message = {0};
    weft_buf_puts(&message, activity_type);
    weft_buf_puts(&message, " returned a payload that is not json/plain JSON");
    *err = weft_failure_buf("InvalidPayload", &message, true);
  }
  weft_plugin_types_payload_free(&result);
  return ok;
}

/* The workflow itself; `order_id` and `queue` are C strings. */
static bool order_workflow(const char *order_id, const char *queue, uint64_t grace_ms,
                           weft_payload_t *ret, weft_failure_t *err) {
  weft_buf_t output = {0};
  weft_buf_puts(&output, "{");
  weft_json_put_key(&output, "order_id");
  weft_json_put_string(&output, (const uint8_t *)order_id, strlen(order_id));

  /* 1-2. Create the order. */
  set_status("creating");
  log_step(order_id, "creating order");
  weft_buf_puts(&output, ",");
  weft_json_put_key(&output, "create_order");
  if (!run_activity("CreateOrder", order_id, queue, &output, err)) {
    set_status("failed");
    weft_buf_free(&output);
    return false;
  }

  /* 3. Grace period: the timer or the `cancel-order` signal, first wins. */
  set_status("grace");
  weft_handle_t handles[2];
  handles[0] = weft_plugin_workflow_host_start_timer(grace_ms);
  handles[1] = weft_next_signal("cancel-order");
  if (weft_wait_any(handles, 2) == handles[1]) {
    weft_plugin_workflow_host_cancel(handles[0]);
    set_status("cancelled");
    log_step(order_id, "cancelled by the customer");
    weft_buf_t message = {0};
    weft_buf_puts(&message, "order ");
    weft_buf_puts(&message, order_id);
    weft_buf_puts(&message, " cancelled");
    *err = weft_failure_buf("OrderCancelled", &message, true);
    weft_buf_free(&output);
    return false;
  }
  /* The timer fired: stop waiting for the signal (no command is involved). */
  weft_plugin_workflow_host_cancel(handles[1]);

  /* 4. Charge it. */
  set_status("charging");
  log_step(order_id, "charging payment");
  weft_buf_puts(&output, ",");
  weft_json_put_key(&output, "charge_payment");
  if (!run_activity("ChargePayment", order_id, queue, &output, err)) {
    set_status("failed");
    weft_buf_free(&output);
    return false;
  }
  weft_buf_puts(&output, "}");

  /* 5. Done. */
  set_status("completed");
  log_step(order_id, "completed");
  *ret = weft_payload_json(&output);
  return true;
}

/* Export `workflow-types`: the list is freed by the bindings, so heap. */
void exports_weft_plugin_workflow_guest_workflow_types(workflow_list_string_t *ret) {
  ret->len = 1;
  ret->ptr = weft_alloc(sizeof(workflow_string_t));
  ret->ptr[0] = weft_string(ORDER_WORKFLOW);
}

/* Export `run`: one workflow run from start to end. */
bool exports_weft_plugin_workflow_guest_run(workflow_string_t *workflow_type,
                                            exports_weft_plugin_workflow_guest_list_payload_t *args,
                                            exports_weft_plugin_workflow_guest_payload_t *ret,
                                            exports_weft_plugin_workflow_guest_failure_t *err) {
  bool ok = false;
  weft_buf_t order_id = {0};
  weft_buf_t queue = {0};
  uint64_t grace_ms = DEFAULT_GRACE_MS;
  if (workflow_type->len != strlen(ORDER_WORKFLOW) ||
      memcmp(workflow_type->ptr, ORDER_WORKFLOW, workflow_type->len) != 0) {
    weft_buf_t message = {0};
    weft_buf_puts(&message, "this component does not offer workflow type ");
    weft_json_put_string(&message, workflow_type->ptr, workflow_type->len);
    *err = weft_failure_buf("UnknownWorkflowType", &message, true);
  } else if (args->len < 1 || args->len > 3) {
    weft_buf_t message = {0};
    weft_buf_puts(&message,
                  "expected the order id and optionally the activity task queue and the grace "
                  "period, got ");
    weft_buf_put_u64(&message, args->len);
    weft_buf_puts(&message, " arguments");
    *err = weft_failure_buf("InvalidInput", &message, true);
  } else if (string_arg(args->ptr, 0, &order_id, err) &&
             (args->len < 2 || string_arg(args->ptr, 1, &queue, err)) &&
             (args->len < 3 || grace_arg(args->ptr, 2, &grace_ms, err))) {
    const char *queue_name = args->len >= 2 ? (const char *)queue.ptr : DEFAULT_ACTIVITY_QUEUE;
    ok = order_workflow((const char *)order_id.ptr, queue_name, grace_ms, ret, err);
  }
  weft_buf_free(&order_id);
  weft_buf_free(&queue);
  exports_weft_plugin_workflow_guest_list_payload_free(args);
  workflow_string_free(workflow_type);
  return ok;
}
