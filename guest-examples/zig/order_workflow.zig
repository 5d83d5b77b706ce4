//! OrderWorkflow in Zig: a weft workflow component (see ../ORDER.md).
//!
//! Creates an order with the CreateOrder activity, gives the customer a grace
//! period (one second unless the third argument says) to send the
//! `cancel-order` signal, then charges the order with ChargePayment. The
//! `status` query reads the run's state.
//!
//! A run is a state machine (world `activation-workflow`): the SDK calls
//! `step` at each activation; it switches on the run's `stage` and returns
//! `.waiting` until history resolves what the stage waits on. Everything a
//! run keeps lives in its `State`, so one instance hosts many runs. The
//! module imports nothing but weft:plugin/activation-host, so every replay
//! takes the same path.

const std = @import("std");
const weft = @import("weft");

/// Zig's default panic handler would import WASI (stderr); log instead.
pub const panic = weft.panic;

/// Task queue of the order activities unless the second argument says.
const default_activity_queue = "ORDER_ACTIVITY_Q";
const activity_timeout_ms = 60_000;
/// The grace period unless the third argument says, and the longest it may
/// ask for (a day).
const default_grace_ms: u64 = 1_000;
const max_grace_ms: u64 = 86_400_000;

/// Where a run stands: what it does next, or waits on.
const Stage = enum { create, creating, grace, charging };

/// One run's state.
const State = struct {
    stage: Stage = .create,
    /// Heap copies, set by `start` (null until then).
    order_id: ?[:0]u8 = null,
    queue: ?[:0]u8 = null,
    grace_ms: u64 = default_grace_ms,
    /// The `status` query's answer (null before step 1).
    status: ?[]const u8 = null,
    /// A `cancel-order` signal came.
    cancel_signalled: bool = false,
    activity: weft.Handle = 0,
    timer: weft.Handle = 0,
    /// CreateOrder's result, once it completed.
    created: ?std.json.Parsed(std.json.Value) = null,
};

/// Argument `index` as a string (heap copy), or an `InvalidInput` failure.
fn stringArg(args: []const weft.Payload, index: usize) union(enum) { ok: [:0]u8, err: weft.Failure } {
    const parsed = weft.parseJson([]const u8, &args[index]) catch return .{
        .err = weft.nonRetryable("InvalidInput", "argument {d} must be a json/plain JSON string", .{index + 1}),
    };
    defer parsed.deinit();
    return .{ .ok = weft.gpa.dupeSentinel(u8, parsed.value, 0) catch weft.oom() };
}

/// Argument `index` as the grace period: a JSON integer from 1 to
/// `max_grace_ms`, or null.
fn graceArg(args: []const weft.Payload, index: usize) ?u64 {
    // As a JSON value: parsing to u64 directly would take `1000.0` too.
    const parsed = weft.parseJson(std.json.Value, &args[index]) catch return null;
    defer parsed.deinit();
    const ms = switch (parsed.value) {
        .integer => |i| i,
        else => return null,
    };
    if (ms < 1 or ms > max_grace_ms) return null;
    return @intCast(ms);
}

/// Checks and keeps the arguments: `[order_id]`, `[order_id, queue]` or
/// `[order_id, queue, grace_ms]`.
fn start(run: *weft.Run, state: *State, args: []const weft.Payload) weft.Status {
    state.* = .{};
    if (args.len < 1 or args.len > 3) {
        return weft.fail(run, weft.nonRetryable("InvalidInput", "expected the order id and optionally the activity task queue and the grace period, got {d} arguments", .{args.len}));
    }
    state.order_id = switch (stringArg(args, 0)) {
        .ok => |s| s,
        .err => |f| return weft.fail(run, f),
    };
    state.queue = if (args.len < 2) weft.gpa.dupeSentinel(u8, default_activity_queue, 0) catch weft.oom() else switch (stringArg(args, 1)) {
        .ok => |s| s,
        .err => |f| return weft.fail(run, f),
    };
    if (args.len == 3) {
        state.grace_ms = graceArg(args, 2) orelse return weft.fail(run, weft.nonRetryable("InvalidInput", "argument 3 (grace_ms) must be a JSON integer from 1 to {d}", .{max_grace_ms}));
    }
    return .waiting;
}

/// Schedules one order activity with the order id as its argument.
fn startOrderActivity(state: *const State, activity_type: [:0]const u8) weft.Handle {
    var arg = weft.jsonPayload(state.order_id.?);
    defer weft.freePayload(&arg);
    return weft.startActivity(activity_type, &.{arg}, .{
        .task_queue = state.queue.?,
        .start_to_close_timeout_ms = activity_timeout_ms,
    });
}

/// The resolved activity's result as JSON, or its failure as received.
fn takeActivity(run: *weft.Run, state: *const State, activity_type: []const u8) union(enum) {
    ok: std.json.Parsed(std.json.Value),
    err: weft.Failure,
} {
    switch (weft.takeResult(run, state.activity)) {
        .err => |f| return .{ .err = f },
        .ok => |payload_| {
            var payload = payload_;
            defer weft.freePayload(&payload);
            const value = weft.parseJson(std.json.Value, &payload) catch return .{
                .err = weft.nonRetryable("InvalidPayload", "{s} returned a payload that is not json/plain JSON", .{activity_type}),
            };
            return .{ .ok = value };
        },
    }
}

/// The workflow, one activation at a time: each stage either moves on to
/// the next or returns `.waiting`.
fn step(run: *weft.Run, state: *State) weft.Status {
    while (true) switch (state.stage) {
        // 1-2. Create the order.
        .create => {
            state.status = "creating";
            weft.log(.info, "order {s}: creating order", .{state.order_id.?});
            state.activity = startOrderActivity(state, "CreateOrder");
            state.stage = .creating;
        },
        .creating => {
            if (!weft.ready(run, state.activity)) return .waiting;
            state.created = switch (takeActivity(run, state, "CreateOrder")) {
                .ok => |value| value,
                .err => |f| {
                    state.status = "failed";
                    return weft.fail(run, f);
                },
            };
            // 3. Grace period: the timer or the `cancel-order` signal.
            state.status = "grace";
            state.timer = weft.startTimer(state.grace_ms);
            state.stage = .grace;
        },
        .grace => {
            // The timer wins when both are in one activation.
            if (!weft.ready(run, state.timer)) {
                if (!state.cancel_signalled) return .waiting;
                weft.cancel(state.timer);
                state.status = "cancelled";
                weft.log(.info, "order {s}: cancelled by the customer", .{state.order_id.?});
                return weft.fail(run, weft.nonRetryable("OrderCancelled", "order {s} cancelled", .{state.order_id.?}));
            }
            weft.discardResult(run, state.timer);
            // 4. Charge it.
            state.status = "charging";
            weft.log(.info, "order {s}: charging payment", .{state.order_id.?});
            state.activity = startOrderActivity(state, "ChargePayment");
            state.stage = .charging;
        },
        .charging => {
            if (!weft.ready(run, state.activity)) return .waiting;
            const charged = switch (takeActivity(run, state, "ChargePayment")) {
                .ok => |value| value,
                .err => |f| {
                    state.status = "failed";
                    return weft.fail(run, f);
                },
            };
            defer charged.deinit();
            // 5. Done: the activity results are embedded as JSON values.
            state.status = "completed";
            weft.log(.info, "order {s}: completed", .{state.order_id.?});
            return weft.complete(run, weft.jsonPayload(.{
                .order_id = state.order_id.?,
                .create_order = state.created.?.value,
                .charge_payment = charged.value,
            }));
        },
    };
}

/// Signal `cancel-order` (any payload).
fn onCancelOrder(_: *weft.Run, state: *State, _: []const weft.Payload) void {
    state.cancel_signalled = true;
}

/// Query `status`: where the run stands, a JSON string.
fn queryStatus(_: *weft.Run, state: *const State, _: []const weft.Payload) weft.Outcome {
    const status = state.status orelse return .{ .err = weft.failure("NoStatus", "the order has not started", .{}) };
    return .{ .ok = weft.jsonPayload(status) };
}

fn drop(state: *State) void {
    if (state.order_id) |s| weft.gpa.free(s);
    if (state.queue) |s| weft.gpa.free(s);
    if (state.created) |created| created.deinit();
}

const order_workflow = weft.Workflow(State, .{
    .name = "OrderWorkflow",
    .start = start,
    .step = step,
    .drop = drop,
    .queries = .{.{ "status", queryStatus }},
    .signals = .{.{ "cancel-order", onCancelOrder }},
});

comptime {
    weft.exportWorkflows(&.{&order_workflow});
}
