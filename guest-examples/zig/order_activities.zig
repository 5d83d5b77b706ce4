//! CreateOrder and ChargePayment in Zig: a weft activity component (see
//! ../ORDER.md).
//!
//! Orders are JSON files in /orders, a directory the host preopens for this
//! component when its config grants it. Files and the environment go through
//! wasi-libc (WASI preview 1, which `cargo xtask componentize` adapts to the
//! WASI p2 the host links); without a grant there is no file to reach.
//!
//! A reactor: no `main`. The host calls the exported functions.

const std = @import("std");
const weft = @import("weft");
const c = weft.c;

/// Zig's default panic handler writes to stderr; log through the host.
pub const panic = weft.panic;

const orders_dir = "/orders";

extern "c" fn strerror(errnum: c_int) [*:0]const u8;

/// The last C library error, e.g. "No such file or directory".
fn lastError() []const u8 {
    return std.mem.span(strerror(std.c._errno().*));
}

/// A made-up but deterministic price: the same order id always costs the same.
fn amountCents(order_id: []const u8) u64 {
    var sum: u64 = 0;
    for (order_id) |byte| sum += byte;
    return sum % 9000 + 1000;
}

/// `/orders/<id>.json`, NUL-terminated; only for ids `orderIdArg` validated.
fn orderPath(order_id: []const u8) [:0]u8 {
    return std.fmt.allocPrintSentinel(weft.gpa, orders_dir ++ "/{s}.json", .{order_id}, 0) catch weft.oom();
}

/// Reports progress once; fails the attempt if cancellation was requested.
fn checkCancelled() ?weft.Failure {
    if (weft.heartbeat(&.{})) return weft.nonRetryable("Cancelled", "activity was cancelled", .{});
    return null;
}

/// What both activities return.
const Summary = struct {
    order_id: []const u8,
    status: []const u8,
    amount_cents: u64,
    currency: std.json.Value,
};

/// Writes /orders/<id>.json and returns the created order's summary.
fn createOrder(order_id: []const u8) weft.Outcome {
    if (checkCancelled()) |failure| return .{ .err = failure };
    const amount = amountCents(order_id);
    // Granted in config (`env = { ORDER_CURRENCY = ... }`); without the
    // grant the variable does not exist in the sandbox.
    const currency: []const u8 = if (std.c.getenv("ORDER_CURRENCY")) |value| std.mem.span(value) else "USD";
    const order = std.json.Stringify.valueAlloc(weft.gpa, .{
        .order_id = order_id,
        .amount_cents = amount,
        .currency = currency,
    }, .{}) catch weft.oom();
    defer weft.gpa.free(order);

    const path = orderPath(order_id);
    defer weft.gpa.free(path);
    const file = std.c.fopen(path, "w") orelse
        return .{ .err = weft.failure("IoError", "cannot write {s}: {s}", .{ path, lastError() }) };
    const written = std.c.fwrite(order.ptr, 1, order.len, file);
    // Retryable: a full disk or a transient error may clear up.
    if (std.c.fclose(file) != 0 or written != order.len) {
        return .{ .err = weft.failure("IoError", "cannot write {s}: {s}", .{ path, lastError() }) };
    }
    weft.log(.info, "created order {s} ({d} cents) in {s}", .{ order_id, amount, path });
    return .{ .ok = weft.jsonPayload(Summary{
        .order_id = order_id,
        .status = "created",
        .amount_cents = amount,
        .currency = .{ .string = currency },
    }) };
}

/// Reads the whole file at `path`, or null with the C library's errno set.
fn readFile(path: [:0]const u8) ?[]u8 {
    const file = std.c.fopen(path, "r") orelse return null;
    defer _ = std.c.fclose(file);
    var text: std.ArrayList(u8) = .empty;
    var chunk: [512]u8 = undefined;
    while (true) {
        const n = std.c.fread(&chunk, 1, chunk.len, file);
        if (n == 0) break;
        text.appendSlice(weft.gpa, chunk[0..n]) catch weft.oom();
    }
    return text.toOwnedSlice(weft.gpa) catch weft.oom();
}

/// Reads the order back and "charges" the amount stored in it.
fn chargePayment(order_id: []const u8) weft.Outcome {
    if (checkCancelled()) |failure| return .{ .err = failure };
    if (std.mem.indexOf(u8, order_id, "decline") != null) {
        return .{ .err = weft.nonRetryable("PaymentDeclined", "payment for order {s} declined", .{order_id}) };
    }
    const path = orderPath(order_id);
    defer weft.gpa.free(path);
    const text = readFile(path) orelse {
        if (std.c._errno().* == @backingInt(std.c.E.NOENT)) {
            return .{ .err = weft.nonRetryable("OrderNotFound", "order {s} does not exist ({s} not found); run CreateOrder first", .{ order_id, path }) };
        }
        return .{ .err = weft.failure("IoError", "cannot read {s}: {s}", .{ path, lastError() }) };
    };
    defer weft.gpa.free(text);
    const Order = struct { amount_cents: u64, currency: std.json.Value = .null };
    const order = std.json.parseFromSlice(Order, weft.gpa, text, .{ .ignore_unknown_fields = true }) catch
        return .{ .err = weft.nonRetryable("CorruptOrder", "{s} is not a JSON object with a numeric amount_cents", .{path}) };
    defer order.deinit();
    const currency = switch (order.value.currency) {
        .string => |s| s,
        else => "?",
    };
    weft.log(.info, "charged {d} cents ({s}) for order {s}", .{ order.value.amount_cents, currency, order_id });
    return .{ .ok = weft.jsonPayload(Summary{
        .order_id = order_id,
        .status = "charged",
        .amount_cents = order.value.amount_cents,
        .currency = order.value.currency,
    }) };
}

/// The one argument both activities take: an order id, as a JSON string,
/// made only of [A-Za-z0-9_-] so that it cannot name a path outside /orders.
fn orderIdArg(args: []const weft.Payload) ?std.json.Parsed([]const u8) {
    if (args.len != 1) return null;
    const parsed = weft.parseJson([]const u8, &args[0]) catch return null;
    const valid = parsed.value.len > 0 and for (parsed.value) |byte| {
        if (!std.ascii.isAlphanumeric(byte) and byte != '_' and byte != '-') break false;
    } else true;
    if (!valid) {
        parsed.deinit();
        return null;
    }
    return parsed;
}

fn execute(activity_type: []const u8, args: []const weft.Payload) weft.Outcome {
    const create = std.mem.eql(u8, activity_type, "CreateOrder");
    if (!create and !std.mem.eql(u8, activity_type, "ChargePayment")) {
        return .{ .err = weft.nonRetryable("UnknownActivityType", "this component does not offer activity type \"{s}\"", .{activity_type}) };
    }
    const order_id = orderIdArg(args) orelse return .{
        .err = weft.nonRetryable("InvalidOrderId", "expected one argument, the order id: a JSON string of A-Z, a-z, 0-9, '_' and '-'", .{}),
    };
    defer order_id.deinit();
    return if (create) createOrder(order_id.value) else chargePayment(order_id.value);
}

// The exports the generated C bindings call.

export fn exports_weft_plugin_activity_guest_activity_types(ret: *c.activity_list_string_t) void {
    ret.* = weft.stringList(&.{ "CreateOrder", "ChargePayment" });
}

export fn exports_weft_plugin_activity_guest_execute(
    activity_type: *weft.String,
    args: *c.exports_weft_plugin_activity_guest_list_payload_t,
    ret: *weft.Payload,
    err: *weft.Failure,
) bool {
    // The arguments are ours: free them once the task is over.
    defer c.exports_weft_plugin_activity_guest_list_payload_free(args);
    defer c.activity_string_free(activity_type);
    const payloads: []const weft.Payload = if (args.len == 0) &.{} else args.ptr[0..args.len];
    return weft.exportOutcome(execute(weft.slice(activity_type.*), payloads), ret, err);
}
