//! weft.zig: the Zig guest SDK for weft, over wit-bindgen's C bindings.
//!
//! The build translates (`zig translate-c`) into the module `bindings`
//! either the generated `activity.h`, or, for a workflow, `weft_zig.h`:
//! the generated `activation_workflow.h` and the C SDK's `weft.h`
//! (declarations only), whose runtime `weft_sdk.c` compiles once. This
//! module picks the world from it. It gives strings, payloads (Temporal's
//! JSON converter, `encoding: json/plain`, through `std.json`), failures
//! (retryable unless made with `nonRetryable`), logging, a panic handler
//! that logs through the host, and, in a workflow, the C SDK's model: a run
//! is a state machine (`Workflow`: a state type, `start` and `step`, query
//! and signal handlers) whose `step` the SDK calls at each activation. The
//! names are the C SDK's in Zig's case (`weft_start_activity` is
//! `weft.startActivity`); guest-examples/README.md maps them across the
//! five languages.
//!
//! Memory: the bindings free what an export returns with C `free`, so all of
//! it is allocated with `gpa` (`std.heap.c_allocator`). What is passed to an
//! import is only borrowed. Running out of memory traps, which fails only the
//! current task.
//!
//! A guest's root file must say `pub const panic = weft.panic;`: Zig's
//! default panic handler writes to stderr, which is a WASI import a
//! workflow may not have.

const std = @import("std");

/// The raw bindings (wit-bindgen C, translated by `zig translate-c`).
pub const c = @import("bindings");

/// True in the `activation-workflow` world, false in the `activity` world.
pub const is_workflow = @hasDecl(c, "weft_plugin_activation_host_log");

/// The allocator whose memory the bindings may free.
pub const gpa = std.heap.c_allocator;

/// A WIT string (UTF-8 bytes, not NUL-terminated).
pub const String = if (is_workflow) c.activation_workflow_string_t else c.activity_string_t;
const MetadataEntry = if (is_workflow) c.activation_workflow_tuple2_string_list_u8_t else c.activity_tuple2_string_list_u8_t;
const StringList = if (is_workflow) c.activation_workflow_list_string_t else c.activity_list_string_t;
/// A Temporal payload: metadata and data bytes.
pub const Payload = c.weft_plugin_types_payload_t;
/// A failure (a Temporal ApplicationFailure).
pub const Failure = c.weft_plugin_types_failure_t;

/// What an activity or a workflow run ends with.
pub const Outcome = union(enum) {
    ok: Payload,
    err: Failure,
};

/// Traps after an allocation failure.
pub fn oom() noreturn {
    @panic("out of memory");
}

// ---------------------------------------------------------------- strings

/// A WIT string that borrows `s` (for arguments of imports).
pub fn str(s: []const u8) String {
    return .{ .ptr = @constCast(s.ptr), .len = s.len };
}

/// The bytes of a WIT string.
pub fn slice(s: anytype) []const u8 {
    if (s.len == 0) return "";
    return s.ptr[0..s.len];
}

/// A WIT string with its own copy of `s` (fit to return from an export).
pub fn ownedString(s: []const u8) String {
    const copy = gpa.dupe(u8, s) catch oom();
    return .{ .ptr = copy.ptr, .len = copy.len };
}

/// A heap list of owned strings, as `workflow-types`/`activity-types` return.
pub fn stringList(comptime names: []const []const u8) StringList {
    const list = gpa.alloc(String, names.len) catch oom();
    inline for (names, 0..) |name, i| list[i] = ownedString(name);
    return .{ .ptr = list.ptr, .len = list.len };
}

// -------------------------------------------------------------------- log

/// Severity of a log line.
pub const Level = enum(u8) { trace, debug, info, warn, err };

/// Logs a formatted line through the host, tagged with the run's or the
/// task's identity. In a workflow it is silent while replaying.
pub fn log(level: Level, comptime fmt: []const u8, args: anytype) void {
    const line = std.fmt.allocPrint(gpa, fmt, args) catch oom();
    defer gpa.free(line);
    var s = str(line);
    if (is_workflow) {
        c.weft_plugin_activation_host_log(@backingInt(level), &s);
    } else {
        c.weft_plugin_activity_host_log(@backingInt(level), &s);
    }
}

/// The panic handler guests install with `pub const panic = weft.panic;`:
/// logs the message through the host, then traps (failing only the task).
pub const panic = std.debug.FullPanic(panicHandler);

fn panicHandler(message: []const u8, _: ?usize) noreturn {
    var s = str(message);
    if (is_workflow) {
        c.weft_plugin_activation_host_log(@backingInt(Level.err), &s);
    } else {
        c.weft_plugin_activity_host_log(@backingInt(Level.err), &s);
    }
    @trap();
}

// --------------------------------------------------------------- failures

/// A retryable failure with a formatted message and no details.
pub fn failure(error_type: []const u8, comptime fmt: []const u8, args: anytype) Failure {
    return newFailure(error_type, false, fmt, args);
}

/// A failure Temporal must not retry.
pub fn nonRetryable(error_type: []const u8, comptime fmt: []const u8, args: anytype) Failure {
    return newFailure(error_type, true, fmt, args);
}

fn newFailure(error_type: []const u8, non_retryable: bool, comptime fmt: []const u8, args: anytype) Failure {
    const message = std.fmt.allocPrint(gpa, fmt, args) catch oom();
    return .{
        .message = .{ .ptr = message.ptr, .len = message.len },
        .error_type = ownedString(error_type),
        .non_retryable = non_retryable,
        .details = .{ .ptr = null, .len = 0 },
    };
}

/// Frees a failure you own.
pub fn freeFailure(f: *Failure) void {
    c.weft_plugin_types_failure_free(f);
}

// --------------------------------------------------------------- payloads

/// True when the payload's `encoding` metadata is `json/plain`.
pub fn isJson(payload: *const Payload) bool {
    if (payload.metadata.len == 0) return false;
    for (payload.metadata.ptr[0..payload.metadata.len]) |entry| {
        if (std.mem.eql(u8, slice(entry.f0), "encoding")) {
            return std.mem.eql(u8, slice(entry.f1), "json/plain");
        }
    }
    return false;
}

/// A `json/plain` payload holding `value` as JSON (heap memory: fit to
/// return from an export). Strings become JSON strings, structs objects,
/// `std.json.Value`s themselves.
pub fn jsonPayload(value: anytype) Payload {
    const data = std.json.Stringify.valueAlloc(gpa, value, .{}) catch oom();
    const entry = gpa.create(MetadataEntry) catch oom();
    entry.f0 = ownedString("encoding");
    const encoding = gpa.dupe(u8, "json/plain") catch oom();
    entry.f1 = .{ .ptr = encoding.ptr, .len = encoding.len };
    return .{
        .metadata = .{ .ptr = entry, .len = 1 },
        .data = .{ .ptr = data.ptr, .len = data.len },
    };
}

/// Decodes a `json/plain` payload as a `T`; call `deinit` on the result.
/// Unknown object fields are ignored.
pub fn parseJson(comptime T: type, payload: *const Payload) error{InvalidPayload}!std.json.Parsed(T) {
    if (!isJson(payload)) return error.InvalidPayload;
    return std.json.parseFromSlice(T, gpa, slice(payload.data), .{
        .ignore_unknown_fields = true,
    }) catch error.InvalidPayload;
}

/// Frees a payload the host returned (or one made by `jsonPayload`).
pub fn freePayload(payload: *Payload) void {
    c.weft_plugin_types_payload_free(payload);
}

/// Stores `outcome` where an export's bindings expect it; returns whether
/// it is `ok` (the export's return value).
pub fn exportOutcome(outcome: Outcome, ret: *Payload, err: *Failure) bool {
    switch (outcome) {
        .ok => |payload| {
            ret.* = payload;
            return true;
        },
        .err => |f| {
            err.* = f;
            return false;
        },
    }
}

// -------------------------------------------------------------- workflows
//
// The C SDK's runtime (weft.h, compiled once by weft_sdk.c) implements the
// world's exports; these are its calls in Zig. Each call that reads the
// run's own state takes the `*Run` the SDK hands to `start` and `step`.

/// One run, as the SDK keeps it.
pub const Run = if (is_workflow) c.weft_run_t else void;

/// Something a run started that history resolves (activity, timer, ...).
pub const Handle = u32;

/// Where a run stands when `step` returns: `waiting` (on history), or
/// what `complete`, `fail` and `continueAsNew` returned.
pub const Status = enum(c_uint) {
    waiting = 0,
    completed,
    failed,
    continue_as_new,
};

/// A workflow type, for `exportWorkflows`. `State` is the per-run state:
/// the SDK allocates it zeroed; `start` must set every field (`state.* =
/// .{...}`) before anything reads it. `def` has:
/// - `.name`: the workflow type, e.g. "OrderWorkflow";
/// - `.start`: `fn (*Run, *State, []const Payload) Status`, with the run's
///   arguments (borrowed: copy what you keep); return `.waiting` to go on,
///   or end the run (`return weft.fail(run, ...)`);
/// - `.step`: `fn (*Run, *State) Status`, called at each activation: it
///   advances the run until it waits (`.waiting`) or ends;
/// - optional `.drop`: `fn (*State) void`, frees what the state owns;
/// - optional `.queries`: `.{ .{ "name", fn (*Run, *const State, []const Payload) Outcome } }`;
/// - optional `.signals`: `.{ .{ "name", fn (*Run, *State, []const Payload) void } }`
///   (a signal with no handler is buffered: `signalReady`, `takeSignal`);
/// - optional `.updates`: `.{ .{ "name", handler, validator } }`, the handler
///   `fn (*Run, *State, id: [:0]const u8, []const Payload) void` (it answers
///   with `completeUpdate`, now or later), the validator `null` or
///   `fn (*Run, *const State, []const Payload) ?Failure` (a failure rejects
///   the update; it runs before the update is accepted).
pub fn Workflow(comptime State: type, comptime def: anytype) c.weft_workflow_t {
    const D = @TypeOf(def);
    const T = struct {
        fn state(p: ?*anyopaque) *State {
            return @ptrCast(@alignCast(p.?));
        }
        fn start(run: ?*Run, s: ?*anyopaque, args: c.weft_args_t) callconv(.c) c.weft_status_t {
            return @intFromEnum(def.start(run.?, state(s), argSlice(args)));
        }
        fn step(run: ?*Run, s: ?*anyopaque) callconv(.c) c.weft_status_t {
            return @intFromEnum(def.step(run.?, state(s)));
        }
        fn drop(s: ?*anyopaque) callconv(.c) void {
            if (@hasField(D, "drop")) def.drop(state(s));
        }
        fn Query(comptime handler: anytype) type {
            return struct {
                fn call(run: ?*Run, s: ?*const anyopaque, args: c.weft_args_t, ret: [*c]Payload, err: [*c]Failure) callconv(.c) bool {
                    const st: *const State = @ptrCast(@alignCast(s.?));
                    switch (handler(run.?, st, argSlice(args))) {
                        .ok => |p| {
                            ret.* = p;
                            return true;
                        },
                        .err => |f| {
                            err.* = f;
                            return false;
                        },
                    }
                }
            };
        }
        fn Signal(comptime handler: anytype) type {
            return struct {
                fn call(run: ?*Run, s: ?*anyopaque, args: c.weft_args_t) callconv(.c) void {
                    handler(run.?, state(s), argSlice(args));
                }
            };
        }
        const queries = if (@hasField(D, "queries")) blk: {
            var list: [def.queries.len + 1]c.weft_query_t = undefined;
            for (def.queries, 0..) |q, i| list[i] = .{ .name = q[0], .handler = &Query(q[1]).call };
            list[def.queries.len] = .{ .name = null, .handler = null };
            break :blk list;
        } else [_]c.weft_query_t{.{ .name = null, .handler = null }};
        fn Update(comptime handler: anytype) type {
            return struct {
                fn call(run: ?*Run, s: ?*anyopaque, id: [*c]const u8, args: c.weft_args_t) callconv(.c) void {
                    handler(run.?, state(s), std.mem.span(@as([*:0]const u8, @ptrCast(id))), argSlice(args));
                }
            };
        }
        fn Validator(comptime validator: anytype) type {
            return struct {
                fn call(run: ?*Run, s: ?*const anyopaque, args: c.weft_args_t, err: [*c]Failure) callconv(.c) bool {
                    const st: *const State = @ptrCast(@alignCast(s.?));
                    if (validator(run.?, st, argSlice(args))) |f| {
                        err.* = f;
                        return false;
                    }
                    return true;
                }
            };
        }
        const updates = if (@hasField(D, "updates")) blk: {
            var list: [def.updates.len + 1]c.weft_update_t = undefined;
            for (def.updates, 0..) |u, i| list[i] = .{
                .name = u[0],
                .handler = &Update(u[1]).call,
                .validator = if (@TypeOf(u[2]) == @TypeOf(null)) null else &Validator(u[2]).call,
            };
            list[def.updates.len] = .{ .name = null, .handler = null, .validator = null };
            break :blk list;
        } else [_]c.weft_update_t{.{ .name = null, .handler = null, .validator = null }};
        const signals = if (@hasField(D, "signals")) blk: {
            var list: [def.signals.len + 1]c.weft_signal_t = undefined;
            for (def.signals, 0..) |q, i| list[i] = .{ .name = q[0], .handler = &Signal(q[1]).call };
            list[def.signals.len] = .{ .name = null, .handler = null };
            break :blk list;
        } else [_]c.weft_signal_t{.{ .name = null, .handler = null }};
    };
    return .{
        .name = def.name,
        .state_size = @sizeOf(State),
        .start = &T.start,
        .step = &T.step,
        .drop = &T.drop,
        .queries = &T.queries,
        .signals = &T.signals,
        .updates = &T.updates,
    };
}

/// Exports these workflow types (once, from the root file's `comptime`
/// block): `comptime { weft.exportWorkflows(&.{&order_workflow}); }`.
pub fn exportWorkflows(comptime workflows: []const *const c.weft_workflow_t) void {
    const T = struct {
        const list = blk: {
            var l: [workflows.len + 1]?*const c.weft_workflow_t = undefined;
            for (workflows, 0..) |w, i| l[i] = w;
            l[workflows.len] = null;
            break :blk l;
        };
    };
    @export(&T.list, .{ .name = "weft_workflows_" });
}

fn argSlice(args: c.weft_args_t) []const Payload {
    if (args.len == 0) return &.{};
    return args.ptr[0..args.len];
}

/// What cancelling an activity's handle waits for.
pub const ActivityCancellation = enum(c_uint) { try_cancel = 0, wait_cancellation_completed, abandon };

/// How to run an activity. Unset: the workflow's task queue, Temporal's
/// retry policy, a 60 s start-to-close timeout unless a schedule-to-close
/// one is given.
pub const ActivityOptions = struct {
    task_queue: ?[:0]const u8 = null,
    start_to_close_timeout_ms: u64 = 0,
    schedule_to_close_timeout_ms: u64 = 0,
    schedule_to_start_timeout_ms: u64 = 0,
    heartbeat_timeout_ms: u64 = 0,
    retry_policy: ?*const c.weft_retry_policy_t = null,
    cancellation: ActivityCancellation = .try_cancel,
    activity_id: ?[:0]const u8 = null,
};

/// How to run a local activity (unset: defaults, 60 s start-to-close).
pub const LocalActivityOptions = struct {
    start_to_close_timeout_ms: u64 = 0,
    schedule_to_close_timeout_ms: u64 = 0,
    retry_policy: ?*const c.weft_retry_policy_t = null,
    local_retry_threshold_ms: u64 = 0,
};

/// What happens to a child when its parent closes.
pub const ParentClosePolicy = enum(c_uint) { terminate = 0, abandon, request_cancel };
/// What cancelling a child's handle waits for.
pub const ChildCancellation = enum(c_uint) { try_cancel = 0, abandon, wait_cancellation_completed, wait_cancellation_requested };

/// How to start a child workflow (unset: defaults).
pub const ChildOptions = struct {
    workflow_id: ?[:0]const u8 = null,
    task_queue: ?[:0]const u8 = null,
    execution_timeout_ms: u64 = 0,
    parent_close_policy: ParentClosePolicy = .terminate,
    cancellation: ChildCancellation = .try_cancel,
};

fn cstr(s: ?[:0]const u8) [*c]const u8 {
    return if (s) |v| v.ptr else null;
}

/// Schedules an activity with `args` (borrowed).
pub fn startActivity(activity_type: [:0]const u8, args: []const Payload, options: ActivityOptions) Handle {
    var raw = c.weft_activity_options_t{
        .task_queue = cstr(options.task_queue),
        .start_to_close_timeout_ms = options.start_to_close_timeout_ms,
        .schedule_to_close_timeout_ms = options.schedule_to_close_timeout_ms,
        .schedule_to_start_timeout_ms = options.schedule_to_start_timeout_ms,
        .heartbeat_timeout_ms = options.heartbeat_timeout_ms,
        .retry_policy = options.retry_policy,
        .cancellation = @intFromEnum(options.cancellation),
        .activity_id = cstr(options.activity_id),
    };
    return c.weft_start_activity(activity_type.ptr, args.ptr, args.len, &raw);
}

/// Runs a short activity in this worker; Temporal records a marker.
pub fn startLocalActivity(activity_type: [:0]const u8, args: []const Payload, options: LocalActivityOptions) Handle {
    var raw = c.weft_local_activity_options_t{
        .start_to_close_timeout_ms = options.start_to_close_timeout_ms,
        .schedule_to_close_timeout_ms = options.schedule_to_close_timeout_ms,
        .retry_policy = options.retry_policy,
        .local_retry_threshold_ms = options.local_retry_threshold_ms,
    };
    return c.weft_start_local_activity(activity_type.ptr, args.ptr, args.len, &raw);
}

/// A durable timer of `ms` milliseconds of workflow time.
pub fn startTimer(ms: u64) Handle {
    return c.weft_start_timer(ms);
}

/// Starts a child workflow: `childStarted` says once it started, then the
/// handle resolves with its result.
pub fn startChild(workflow_type: [:0]const u8, args: []const Payload, options: ChildOptions) Handle {
    var raw = c.weft_child_options_t{
        .workflow_id = cstr(options.workflow_id),
        .task_queue = cstr(options.task_queue),
        .execution_timeout_ms = options.execution_timeout_ms,
        .parent_close_policy = @intFromEnum(options.parent_close_policy),
        .cancellation = @intFromEnum(options.cancellation),
    };
    return c.weft_start_child(workflow_type.ptr, args.ptr, args.len, &raw);
}

/// Signals another workflow; resolves once delivered.
pub fn signalWorkflow(workflow_id: [:0]const u8, signal_name: [:0]const u8, args: []const Payload) Handle {
    return c.weft_signal_workflow(workflow_id.ptr, signal_name.ptr, args.ptr, args.len);
}

/// Asks another workflow to cancel; resolves once the request is delivered.
pub fn cancelWorkflow(workflow_id: [:0]const u8) Handle {
    return c.weft_cancel_workflow(workflow_id.ptr);
}

/// Cancels what `handle` stands for: a timer resolves with a
/// `CancelledError`, an activity or child as its options say.
pub fn cancel(handle: Handle) void {
    c.weft_cancel(handle);
}

/// True once history resolved `handle` (and its outcome was not taken).
pub fn ready(run: *Run, handle: Handle) bool {
    return c.weft_ready(run, handle);
}

/// Takes the outcome of `handle`, which must be `ready` (yours to free).
pub fn takeResult(run: *Run, handle: Handle) Outcome {
    var ok: Payload = undefined;
    var err: Failure = undefined;
    if (c.weft_take_result(run, handle, &ok, &err)) return .{ .ok = ok };
    return .{ .err = err };
}

/// Drops the outcome of `handle`, which must be `ready`.
pub fn discardResult(run: *Run, handle: Handle) void {
    _ = c.weft_take_result(run, handle, null, null);
}

/// True once history says whether child `handle` started.
pub fn childStarted(run: *Run, handle: Handle) bool {
    return c.weft_child_started(run, handle);
}

/// Whether child `handle` started (it must be known): null, or why not.
pub fn takeChildStart(run: *Run, handle: Handle) ?Failure {
    var err: Failure = undefined;
    if (c.weft_take_child_start(run, handle, &err)) return null;
    return err;
}

/// True when a signal `name` with no handler is buffered.
pub fn signalReady(run: *Run, name: [:0]const u8) bool {
    return c.weft_signal_ready(run, name.ptr);
}

/// Takes the oldest buffered signal `name`, with its arguments (free them
/// with `freePayloads`).
pub fn takeSignal(run: *Run, name: [:0]const u8) ?c.weft_payloads_t {
    var args: c.weft_payloads_t = undefined;
    if (c.weft_take_signal(run, name.ptr, &args)) return args;
    return null;
}

/// Frees payloads you own.
pub fn freePayloads(payloads: *c.weft_payloads_t) void {
    c.weft_payloads_free(payloads);
}

/// True once cancellation of this run was requested. A run that never
/// asks is cancelled when requested; one that asks handles it itself.
pub fn cancelRequested(run: *Run) bool {
    return c.weft_cancel_requested(run);
}

/// The failure a cancelled run or operation ends with: `CancelledError`.
pub fn cancelledFailure(what: [:0]const u8) Failure {
    return c.weft_cancelled_failure(what.ptr);
}

/// Answers update `id` with its outcome (taken over).
pub fn completeUpdate(id: [:0]const u8, outcome: Outcome) void {
    switch (outcome) {
        .ok => |p| {
            var payload = p;
            c.weft_complete_update(id.ptr, &payload, null);
        },
        .err => |f| {
            var err = f;
            c.weft_complete_update(id.ptr, null, &err);
        },
    }
}

/// The raw answers, for guests that manage updates themselves.
pub fn acceptUpdate(id: [:0]const u8) void {
    c.weft_accept_update(id.ptr);
}

/// Rejects update `id` (before accepting it) with `f` (taken over).
pub fn rejectUpdate(id: [:0]const u8, f: Failure) void {
    c.weft_reject_update(id.ptr, f);
}

/// Ends the run with `result` (taken over).
pub fn complete(run: *Run, result: Payload) Status {
    return @enumFromInt(c.weft_complete(run, result));
}

/// Ends the run with `failure` (taken over).
pub fn fail(run: *Run, f: Failure) Status {
    return @enumFromInt(c.weft_fail(run, f));
}

/// Ends this run and starts a new one of the same type with `args` (the
/// payloads are taken over).
pub fn continueAsNew(run: *Run, args: []Payload) Status {
    return @enumFromInt(c.weft_continue_as_new(run, args.ptr, args.len));
}

/// Facts about the run (free with `c.weft_info_free`).
pub fn info() c.weft_info_t {
    var i: c.weft_info_t = undefined;
    c.weft_info(&i);
    return i;
}

/// Workflow time: the activation's timestamp, ms since the Unix epoch.
pub fn nowMs() u64 {
    return c.weft_now_ms();
}

/// A deterministic random number from the run's seed.
pub fn random() u64 {
    return c.weft_random();
}

/// True while the host replays history.
pub fn isReplaying() bool {
    return c.weft_is_replaying();
}

/// True when this run takes the code introduced under patch `id`.
pub fn patched(id: [:0]const u8) bool {
    return c.weft_patched(id.ptr);
}

/// Marks patch `id` deprecated.
pub fn deprecatePatch(id: [:0]const u8) void {
    c.weft_deprecate_patch(id.ptr);
}

/// Sets search attributes `names[i]` = `values[i]` (borrowed).
pub fn upsertSearchAttributes(names: []const [*:0]const u8, values: []const Payload) void {
    std.debug.assert(names.len == values.len);
    c.weft_upsert_search_attributes(@ptrCast(names.ptr), values.ptr, names.len);
}

/// Sets memo fields `names[i]` = `values[i]` (borrowed).
pub fn upsertMemo(names: []const [*:0]const u8, values: []const Payload) void {
    std.debug.assert(names.len == values.len);
    c.weft_upsert_memo(@ptrCast(names.ptr), values.ptr, names.len);
}

// ------------------------------------------------------------- activities

/// Records progress with `details` (borrowed); true once cancellation of
/// the activity was requested.
pub fn heartbeat(details: []const Payload) bool {
    comptime std.debug.assert(!is_workflow);
    var list = c.weft_plugin_activity_host_list_payload_t{ .ptr = @constCast(details.ptr), .len = details.len };
    return c.weft_plugin_activity_host_heartbeat(&list);
}
