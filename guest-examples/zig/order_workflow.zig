//! OrderWorkflow in Zig: a weft workflow component (see ../ORDER.md).
//!
//! Creates an order with the CreateOrder activity, gives the customer a grace
//! period (one second unless the third argument says) to send the
//! `cancel-order` signal, then charges the order with ChargePayment. The `status` query follows each step.
//!
//! Straight-line code: `weft.result` and `weft.waitAny` block until a later
//! workflow activation resolves what they wait on. The module imports
//! nothing but weft:plugin/workflow-host, so every replay takes the same path.

const std = @import("std");
const weft = @import("weft");
const c = weft.c;

/// Zig's default panic handler would import WASI (stderr); log instead.
pub const panic = weft.panic;

const order_workflow = "OrderWorkflow";
/// Task queue of the order activities unless the second argument says.
const default_activity_queue = "ORDER_ACTIVITY_Q";
const activity_timeout_ms = 60_000;
/// The grace period unless the third argument says, and the longest it may
/// ask for (a day).
const default_grace_ms: u64 = 1_000;
const max_grace_ms: u64 = 86_400_000;

/// Runs one order activity with the order id as its argument. Its result is
/// parsed as JSON; its failure is returned as received.
fn runActivity(activity_type: []const u8, order_id: []const u8, queue: []const u8) union(enum) {
    ok: std.json.Parsed(std.json.Value),
    err: weft.Failure,
} {
    var arg = weft.jsonPayload(order_id);
    defer weft.freePayload(&arg);
    const handle = weft.startActivity(activity_type, &.{arg}, .{
        .task_queue = queue,
        .start_to_close_timeout_ms = activity_timeout_ms,
    });
    switch (weft.result(handle)) {
        .err => |failure| return .{ .err = failure },
        .ok => |payload_| {
            var payload = payload_;
            defer weft.freePayload(&payload);
            const value = weft.parseJson(std.json.Value, &payload) catch return .{
                .err = weft.failure("InvalidPayload", true, "{s} returned a payload that is not json/plain JSON", .{activity_type}),
            };
            return .{ .ok = value };
        },
    }
}

/// The workflow itself.
fn orderWorkflow(order_id: []const u8, queue: []const u8, grace_ms: u64) weft.Outcome {
    // 1-2. Create the order.
    weft.setQuery("status", "creating");
    weft.log(.info, "order {s}: creating order", .{order_id});
    const created = switch (runActivity("CreateOrder", order_id, queue)) {
        .ok => |value| value,
        .err => |failure| {
            weft.setQuery("status", "failed");
            return .{ .err = failure };
        },
    };
    defer created.deinit();

    // 3. Grace period: the timer or the `cancel-order` signal, first wins.
    weft.setQuery("status", "grace");
    const timer = weft.startTimer(grace_ms);
    const signal = weft.nextSignal("cancel-order");
    if (weft.waitAny(&.{ timer, signal }) == signal) {
        weft.cancel(timer);
        weft.setQuery("status", "cancelled");
        weft.log(.info, "order {s}: cancelled by the customer", .{order_id});
        return .{ .err = weft.failure("OrderCancelled", true, "order {s} cancelled", .{order_id}) };
    }
    // The timer fired: stop waiting for the signal (no command is involved).
    weft.cancel(signal);

    // 4. Charge it.
    weft.setQuery("status", "charging");
    weft.log(.info, "order {s}: charging payment", .{order_id});
    const charged = switch (runActivity("ChargePayment", order_id, queue)) {
        .ok => |value| value,
        .err => |failure| {
            weft.setQuery("status", "failed");
            return .{ .err = failure };
        },
    };
    defer charged.deinit();

    // 5. Done: the activity results are embedded as JSON values.
    weft.setQuery("status", "completed");
    weft.log(.info, "order {s}: completed", .{order_id});
    return .{ .ok = weft.jsonPayload(.{
        .order_id = order_id,
        .create_order = created.value,
        .charge_payment = charged.value,
    }) };
}

/// Argument `index` as a string, or an `InvalidInput` failure.
fn stringArg(args: []const weft.Payload, index: usize) union(enum) {
    ok: std.json.Parsed([]const u8),
    err: weft.Failure,
} {
    const parsed = weft.parseJson([]const u8, &args[index]) catch return .{
        .err = weft.failure("InvalidInput", true, "argument {d} must be a json/plain JSON string", .{index + 1}),
    };
    return .{ .ok = parsed };
}

/// Argument `index` as the grace period: a JSON integer from 1 to
/// `max_grace_ms`, or an `InvalidInput` failure.
fn graceArg(args: []const weft.Payload, index: usize) union(enum) {
    ok: u64,
    err: weft.Failure,
} {
    // As a JSON value: parsing to u64 directly would take `1000.0` too.
    const ms: ?i64 = if (weft.parseJson(std.json.Value, &args[index])) |parsed| blk: {
        defer parsed.deinit();
        break :blk switch (parsed.value) {
            .integer => |i| i,
            else => null,
        };
    } else |_| null;
    if (ms) |value| if (value >= 1 and value <= max_grace_ms) return .{ .ok = @intCast(value) };
    return .{ .err = weft.failure("InvalidInput", true, "argument {d} (grace_ms) must be a JSON integer from 1 to {d}", .{ index + 1, max_grace_ms }) };
}

/// Checks the arguments, `[order_id]`, `[order_id, activity_task_queue]` or
/// `[order_id, activity_task_queue, grace_ms]`.
fn run(workflow_type: []const u8, args: []const weft.Payload) weft.Outcome {
    if (!std.mem.eql(u8, workflow_type, order_workflow)) {
        return .{ .err = weft.failure("UnknownWorkflowType", true, "this component does not offer workflow type \"{s}\"", .{workflow_type}) };
    }
    if (args.len < 1 or args.len > 3) {
        return .{ .err = weft.failure("InvalidInput", true, "expected the order id and optionally the activity task queue and the grace period, got {d} arguments", .{args.len}) };
    }
    const order_id = switch (stringArg(args, 0)) {
        .ok => |parsed| parsed,
        .err => |failure| return .{ .err = failure },
    };
    defer order_id.deinit();
    if (args.len == 1) return orderWorkflow(order_id.value, default_activity_queue, default_grace_ms);
    const queue = switch (stringArg(args, 1)) {
        .ok => |parsed| parsed,
        .err => |failure| return .{ .err = failure },
    };
    defer queue.deinit();
    const grace_ms = if (args.len == 2) default_grace_ms else switch (graceArg(args, 2)) {
        .ok => |ms| ms,
        .err => |failure| return .{ .err = failure },
    };
    return orderWorkflow(order_id.value, queue.value, grace_ms);
}

// The exports the generated C bindings call.

export fn exports_weft_plugin_workflow_guest_workflow_types(ret: *c.workflow_list_string_t) void {
    ret.* = weft.stringList(&.{order_workflow});
}

export fn exports_weft_plugin_workflow_guest_run(
    workflow_type: *weft.String,
    args: *c.exports_weft_plugin_workflow_guest_list_payload_t,
    ret: *weft.Payload,
    err: *weft.Failure,
) bool {
    // The arguments are ours: free them once the run is over.
    defer c.exports_weft_plugin_workflow_guest_list_payload_free(args);
    defer c.workflow_string_free(workflow_type);
    const payloads: []const weft.Payload = if (args.len == 0) &.{} else args.ptr[0..args.len];
    return weft.complete(run(weft.slice(workflow_type.*), payloads), ret, err);
}
