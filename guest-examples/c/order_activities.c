/*
 * CreateOrder and ChargePayment in C: a weft activity component (see
 * ../ORDER.md).
 *
 * Orders are JSON files in /orders, a directory the host preopens for this
 * component when its config grants it. Files and the environment go through
 * wasi-libc (WASI preview 1), which `cargo xtask componentize` adapts to the
 * WASI p2 the host links; without a grant, there is no file to reach.
 *
 * A reactor: no `main`. The host calls the exported functions; wasi-libc's
 * constructors (which find the preopened directories) run in `_initialize`.
 */
#include <errno.h>
#include <stdio.h>

#include "activity.h"
#include "weft.h"

#define ORDERS_DIR "/orders"

/* A made-up but deterministic price: the same order id always costs the
 * same. */
static uint64_t amount_cents(const char *order_id) {
  uint64_t sum = 0;
  for (const unsigned char *p = (const unsigned char *)order_id; *p; p++) sum += *p;
  return sum % 9000 + 1000;
}

/* `/orders/<id>.json`; only for ids that `order_id_arg` validated. */
static void order_path(weft_buf_t *path, const char *order_id) {
  weft_buf_puts(path, ORDERS_DIR "/");
  weft_buf_puts(path, order_id);
  weft_buf_puts(path, ".json");
  weft_buf_cstr(path);
}

/* Reports progress once; fails the attempt if cancellation was requested. */
static bool heartbeat(weft_failure_t *err) {
  if (weft_heartbeat(NULL, 0)) {
    *err = weft_non_retryable("Cancelled", "activity was cancelled");
    return false;
  }
  return true;
}

/* A failure whose message is `<what> <path>: <strerror(errno)>`. */
static weft_failure_t io_failure(const char *error_type, const char *what, const char *path,
                                 bool non_retryable) {
  const char *reason = strerror(errno);
  weft_buf_t message = {0};
  weft_buf_puts(&message, what);
  weft_buf_puts(&message, " ");
  weft_buf_puts(&message, path);
  weft_buf_puts(&message, ": ");
  weft_buf_puts(&message, reason);
  return non_retryable ? weft_non_retryable_buf(error_type, &message)
                       : weft_failure_buf(error_type, &message);
}

/* Appends `{"order_id":..,"status":..,"amount_cents":..,"currency":..}`;
 * `currency_json` is JSON text. */
static void put_summary(weft_buf_t *out, const char *order_id, const char *status,
                        uint64_t amount, const uint8_t *currency_json, size_t currency_len) {
  weft_buf_puts(out, "{");
  weft_json_put_key(out, "order_id");
  weft_json_put_string(out, (const uint8_t *)order_id, strlen(order_id));
  weft_buf_puts(out, ",");
  weft_json_put_key(out, "status");
  weft_json_put_string(out, (const uint8_t *)status, strlen(status));
  weft_buf_puts(out, ",");
  weft_json_put_key(out, "amount_cents");
  weft_buf_put_u64(out, amount);
  weft_buf_puts(out, ",");
  weft_json_put_key(out, "currency");
  weft_buf_append(out, currency_json, currency_len);
  weft_buf_puts(out, "}");
}

/* Writes /orders/<id>.json and returns the created order's summary. */
static bool create_order(const char *order_id, weft_buf_t *out, weft_failure_t *err) {
  if (!heartbeat(err)) return false;
  uint64_t amount = amount_cents(order_id);
  /* Granted in config (`env = { ORDER_CURRENCY = ... }`); without the grant
   * the variable does not exist in the sandbox. */
  const char *currency = getenv("ORDER_CURRENCY");
  if (!currency) currency = "USD";
  weft_buf_t currency_json = {0};
  weft_json_put_string(&currency_json, (const uint8_t *)currency, strlen(currency));

  weft_buf_t order = {0};
  weft_buf_puts(&order, "{");
  weft_json_put_key(&order, "order_id");
  weft_json_put_string(&order, (const uint8_t *)order_id, strlen(order_id));
  weft_buf_puts(&order, ",");
  weft_json_put_key(&order, "amount_cents");
  weft_buf_put_u64(&order, amount);
  weft_buf_puts(&order, ",");
  weft_json_put_key(&order, "currency");
  weft_buf_append(&order, currency_json.ptr, currency_json.len);
  weft_buf_puts(&order, "}");

  weft_buf_t path = {0};
  order_path(&path, order_id);
  FILE *file = fopen((const char *)path.ptr, "w");
  bool ok = file != NULL;
  if (ok) {
    ok = fwrite(order.ptr, 1, order.len, file) == order.len;
    ok = fclose(file) == 0 && ok;
  }
  if (ok) {
    weft_buf_t line = {0};
    weft_buf_puts(&line, "created order ");
    weft_buf_puts(&line, order_id);
    weft_buf_puts(&line, " (");
    weft_buf_put_u64(&line, amount);
    weft_buf_puts(&line, " cents) in ");
    weft_buf_puts(&line, (const char *)path.ptr);
    weft_log_buf(WEFT_INFO, &line);
    put_summary(out, order_id, "created", amount, currency_json.ptr, currency_json.len);
  } else {
    /* Retryable: a full disk or a transient error may clear up. */
    *err = io_failure("IoError", "cannot write", (const char *)path.ptr, false);
  }
  weft_buf_free(&path);
  weft_buf_free(&order);
  weft_buf_free(&currency_json);
  return ok;
}

/* Reads the whole file at `path` into `out`; false with errno on error. */
static bool read_file(const char *path, weft_buf_t *out) {
  FILE *file = fopen(path, "r");
  if (!file) return false;
  char chunk[512];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, file)) > 0) weft_buf_append(out, chunk, n);
  bool ok = !ferror(file);
  fclose(file);
  return ok;
}

/* Reads the order back and "charges" the amount stored in it. */
static bool charge_payment(const char *order_id, weft_buf_t *out, weft_failure_t *err) {
  if (!heartbeat(err)) return false;
  if (strstr(order_id, "decline")) {
    weft_buf_t message = {0};
    weft_buf_puts(&message, "payment for order ");
    weft_buf_puts(&message, order_id);
    weft_buf_puts(&message, " declined");
    *err = weft_non_retryable_buf("PaymentDeclined", &message);
    return false;
  }
  weft_buf_t path = {0};
  order_path(&path, order_id);
  weft_buf_t text = {0};
  bool ok = read_file((const char *)path.ptr, &text);
  if (!ok && errno == ENOENT) {
    weft_buf_t message = {0};
    weft_buf_puts(&message, "order ");
    weft_buf_puts(&message, order_id);
    weft_buf_puts(&message, " does not exist (");
    weft_buf_puts(&message, (const char *)path.ptr);
    weft_buf_puts(&message, " not found); run CreateOrder first");
    *err = weft_non_retryable_buf("OrderNotFound", &message);
  } else if (!ok) {
    *err = io_failure("IoError", "cannot read", (const char *)path.ptr, false);
  }

  const uint8_t *amount_json, *currency_json;
  size_t amount_len, currency_len;
  uint64_t amount;
  if (ok) {
    ok = weft_json_valid(text.ptr, text.len) &&
         weft_json_get(text.ptr, text.len, "amount_cents", &amount_json, &amount_len) &&
         weft_json_as_u64(amount_json, amount_len, &amount);
    if (!ok) {
      weft_buf_t message = {0};
      weft_buf_puts(&message, (const char *)path.ptr);
      weft_buf_puts(&message, " is not a JSON object with a numeric amount_cents");
      *err = weft_non_retryable_buf("CorruptOrder", &message);
    }
  }
  if (ok) {
    if (!weft_json_get(text.ptr, text.len, "currency", &currency_json, &currency_len)) {
      currency_json = (const uint8_t *)"null", currency_len = 4;
    }
    weft_buf_t line = {0};
    weft_buf_puts(&line, "charged ");
    weft_buf_put_u64(&line, amount);
    weft_buf_puts(&line, " cents (");
    weft_buf_append(&line, currency_json, currency_len);
    weft_buf_puts(&line, ") for order ");
    weft_buf_puts(&line, order_id);
    weft_log_buf(WEFT_INFO, &line);
    put_summary(out, order_id, "charged", amount, currency_json, currency_len);
  }
  weft_buf_free(&text);
  weft_buf_free(&path);
  return ok;
}

/* The one argument both activities take: an order id, as a JSON string,
 * made only of [A-Za-z0-9_-] so that it cannot name a path outside
 * /orders. */
static bool order_id_arg(const exports_weft_plugin_activity_guest_list_payload_t *args,
                         weft_buf_t *order_id, weft_failure_t *err) {
  bool ok = args->len == 1 && weft_payload_is_json(&args->ptr[0]) &&
            weft_json_as_string(args->ptr[0].data.ptr, args->ptr[0].data.len, order_id) &&
            order_id->len > 0;
  for (size_t i = 0; ok && i < order_id->len; i++) {
    uint8_t c = order_id->ptr[i];
    ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-';
  }
  if (!ok) {
    *err = weft_non_retryable("InvalidOrderId",
                              "expected one argument, the order id: a JSON string of A-Z, a-z, "
                              "0-9, '_' and '-'");
    return false;
  }
  weft_buf_cstr(order_id);
  return true;
}

/* Export `activity-types`: the list is freed by the bindings, so heap. */
void exports_weft_plugin_activity_guest_activity_types(activity_list_string_t *ret) {
  ret->len = 2;
  ret->ptr = weft_alloc(2 * sizeof(activity_string_t));
  ret->ptr[0] = weft_string("CreateOrder");
  ret->ptr[1] = weft_string("ChargePayment");
}

/* Export `execute`: one activity task. */
bool exports_weft_plugin_activity_guest_execute(
    activity_string_t *activity_type, exports_weft_plugin_activity_guest_list_payload_t *args,
    exports_weft_plugin_activity_guest_payload_t *ret,
    exports_weft_plugin_activity_guest_failure_t *err) {
  weft_buf_t type = {0};
  weft_buf_append(&type, activity_type->ptr, activity_type->len);
  weft_buf_cstr(&type);
  bool create = strcmp((const char *)type.ptr, "CreateOrder") == 0;
  bool charge = strcmp((const char *)type.ptr, "ChargePayment") == 0;

  bool ok = false;
  weft_buf_t order_id = {0};
  weft_buf_t output = {0};
  if (!create && !charge) {
    weft_buf_t message = {0};
    weft_buf_puts(&message, "this component does not offer activity type ");
    weft_json_put_string(&message, activity_type->ptr, activity_type->len);
    *err = weft_non_retryable_buf("UnknownActivityType", &message);
  } else if (order_id_arg(args, &order_id, err)) {
    const char *id = (const char *)order_id.ptr;
    ok = create ? create_order(id, &output, err) : charge_payment(id, &output, err);
  }
  if (ok) *ret = weft_payload_json(&output);
  weft_buf_free(&output);
  weft_buf_free(&order_id);
  weft_buf_free(&type);
  exports_weft_plugin_activity_guest_list_payload_free(args);
  activity_string_free(activity_type);
  return ok;
}
