//! weft.zig: a small Zig guest SDK for weft, over wit-bindgen's C bindings.
//!
//! The build translates the generated `workflow.h` or `activity.h` with
//! `zig translate-c` into the module `bindings`; this module picks the world
//! from it. It gives strings, payloads (Temporal's JSON converter,
//! `encoding: json/plain`, through `std.json`), failures, logging, a panic
//! handler that logs through the host, and, in a workflow, activities,
//! timers, signals and queries.
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

/// True in the `workflow` world, false in the `activity` world.
pub const is_workflow = @hasDecl(c, "weft_plugin_workflow_host_log");

/// The allocator whose memory the bindings may free.
pub const gpa = std.heap.c_allocator;

/// A WIT string (UTF-8 bytes, not NUL-terminated).
pub const String = if (is_workflow) c.workflow_string_t else c.activity_string_t;
const MetadataEntry = if (is_workflow) c.workflow_tuple2_string_list_u8_t else c.activity_tuple2_string_list_u8_t;
const StringList = if (is_workflow) c.workflow_list_string_t else c.activity_list_string_t;
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
        c.weft_plugin_workflow_host_log(@backingInt(level), &s);
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
        c.weft_plugin_workflow_host_log(@backingInt(Level.err), &s);
    } else {
        c.weft_plugin_activity_host_log(@backingInt(Level.err), &s);
    }
    @trap();
}

// --------------------------------------------------------------- failures

/// A failure with a formatted message and no details.
pub fn failure(error_type: []const u8, non_retryable: bool, comptime fmt: []const u8, args: anytype) Failure {
    const message = std.fmt.allocPrint(gpa, fmt, args) catch oom();
    return .{
        .message = .{ .ptr = message.ptr, .len = message.len },
        .error_type = ownedString(error_type),
        .non_retryable = non_retryable,
        .details = .{ .ptr = null, .len = 0 },
    };
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
pub fn complete(outcome: Outcome, ret: *Payload, err: *Failure) bool {
    switch (outcome) {
        .ok => |payload| {
            ret.* = payload;
            return true;
        },
        .err => |fail| {
            err.* = fail;
            return false;
        },
    }
}

// -------------------------------------------------------------- workflows

/// A pending operation of a workflow run (activity, timer, signal, ...).
pub const Handle = u32;

/// How to run an activity; unset fields take Temporal's defaults.
pub const ActivityOptions = struct {
    task_queue: ?[]const u8 = null,
    start_to_close_timeout_ms: ?u64 = null,
    schedule_to_close_timeout_ms: ?u64 = null,
    heartbeat_timeout_ms: ?u64 = null,
};

/// Schedules an activity and returns at once with its handle.
pub fn startActivity(activity_type: []const u8, args: []const Payload, options: ActivityOptions) Handle {
    comptime std.debug.assert(is_workflow);
    var raw = std.mem.zeroes(c.weft_plugin_workflow_host_activity_options_t);
    if (options.task_queue) |queue| raw.task_queue = .{ .is_some = true, .val = str(queue) };
    if (options.start_to_close_timeout_ms) |ms| raw.start_to_close_timeout_ms = .{ .is_some = true, .val = ms };
    if (options.schedule_to_close_timeout_ms) |ms| raw.schedule_to_close_timeout_ms = .{ .is_some = true, .val = ms };
    if (options.heartbeat_timeout_ms) |ms| raw.heartbeat_timeout_ms = .{ .is_some = true, .val = ms };
    raw.cancellation = c.WEFT_PLUGIN_WORKFLOW_HOST_ACTIVITY_CANCELLATION_TRY_CANCEL;
    var name = str(activity_type);
    var list = c.weft_plugin_workflow_host_list_payload_t{ .ptr = @constCast(args.ptr), .len = args.len };
    return c.weft_plugin_workflow_host_start_activity(&name, &list, &raw);
}

/// Blocks until `handle` is done and returns its outcome (yours to free).
pub fn result(handle: Handle) Outcome {
    var ok: Payload = undefined;
    var err: Failure = undefined;
    if (c.weft_plugin_workflow_host_result(handle, &ok, &err)) return .{ .ok = ok };
    return .{ .err = err };
}

/// Starts a timer of `ms` milliseconds of workflow time.
pub fn startTimer(ms: u64) Handle {
    return c.weft_plugin_workflow_host_start_timer(ms);
}

/// A handle that resolves with the next signal named `name`.
pub fn nextSignal(name: []const u8) Handle {
    var s = str(name);
    return c.weft_plugin_workflow_host_next_signal(&s);
}

/// Blocks until one of `handles` is done; returns the first done one.
pub fn waitAny(handles: []const Handle) Handle {
    var list = c.weft_plugin_workflow_host_list_handle_t{ .ptr = @constCast(handles.ptr), .len = handles.len };
    return c.weft_plugin_workflow_host_wait_any(&list);
}

/// Cancels what `handle` stands for (a timer, an activity, a signal wait).
pub fn cancel(handle: Handle) void {
    c.weft_plugin_workflow_host_cancel(handle);
}

/// Publishes `value` (as JSON) as the answer to query `name`.
pub fn setQuery(name: []const u8, value: anytype) void {
    var payload = jsonPayload(value);
    defer freePayload(&payload);
    var s = str(name);
    c.weft_plugin_workflow_host_set_query_result(&s, &payload);
}

// ------------------------------------------------------------- activities

/// Records progress; true once cancellation of the activity was requested.
pub fn heartbeat() bool {
    comptime std.debug.assert(!is_workflow);
    var none = c.weft_plugin_activity_host_list_payload_t{ .ptr = null, .len = 0 };
    return c.weft_plugin_activity_host_heartbeat(&none);
}
