// @weft/workflow: weft's workflow SDK for TypeScript and JavaScript, shaped
// like the Temporal TypeScript SDK's `@temporalio/workflow`: the same names,
// types, options and failures, on weft's activation world. A workflow
// module exports its workflows as async functions:
//
//   import { proxyActivities, sleep } from '@weft/workflow';
//   import type * as activities from './activities';
//   const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });
//   export async function Greet(name: string): Promise<string> {
//     await sleep('1 second');
//     return await greet(name);
//   }
//
// and the build (build.sh) compiles it with tsc and componentizes an entry
// module that hands the exports to `activationGuest`. The component imports
// no WASI: time (`Date`, `Date.now()`) and `Math.random()` are replaced with
// the run's workflow time and seeded randomness, and `console` logs through
// the host, as the TypeScript SDK's sandbox does.

import * as host from 'weft:plugin/activation-host@0.1.0';
import { encode, type Failure } from './payload.js';
import { type Duration, msToNumber, optionalMs } from './duration.js';
import { ActivityFailure, ChildWorkflowFailure, ContinueAsNew, fromWit } from './failure.js';
import { maybeRun, run, type BlockedCondition } from './executor.js';
import { CancellationScope, registerSleepImplementation } from './cancellation-scope.js';

export { activationGuest } from './executor.js';
export { CancellationScope, RootCancellationScope, type CancellationScopeOptions } from './cancellation-scope.js';
export type { Duration } from './duration.js';
export {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  ContinueAsNew,
  TemporalFailure,
  isCancellation,
} from './failure.js';

// ---- determinism: time and randomness come from the run's history ----

const NativeDate = globalThis.Date;
const workflowNow = (): number => Number(host.now());

/** `Date` whose current time is the activation's workflow time. */
class WorkflowDate extends NativeDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(workflowNow());
    else super(...(args as [string]));
  }

  static now(): number {
    return workflowNow();
  }
}
globalThis.Date = WorkflowDate as DateConstructor;

Math.random = () => Number(host.random() >> BigInt(11)) / 2 ** 53;

// ---- types, as @temporalio/workflow names them ----

/** A workflow function. */
export type Workflow = (...args: any[]) => Promise<any>;
/** What a workflow function resolves with. */
export type WorkflowResultType<T extends Workflow> = ReturnType<T> extends Promise<infer R> ? R : never;
/** Activities by name, without types. */
export type UntypedActivities = Record<string, (...args: any[]) => Promise<any>>;
/** The proxy `proxyActivities<typeof activities>()` returns. */
export type ActivityInterfaceFor<T> = {
  [K in keyof T]: T[K] extends (...args: infer P) => infer R ? (...args: P) => Promise<Awaited<R>> : never;
};

/** How Temporal retries (`RetryPolicy` of @temporalio/common). */
export interface RetryPolicy {
  initialInterval?: Duration;
  backoffCoefficient?: number;
  maximumInterval?: Duration;
  maximumAttempts?: number;
  nonRetryableErrorTypes?: string[];
}

/** `ActivityCancellationType` of @temporalio/common. */
export const ActivityCancellationType = Object.freeze({
  TRY_CANCEL: 'try-cancel',
  WAIT_CANCELLATION_COMPLETED: 'wait-cancellation-completed',
  ABANDON: 'abandon',
} as const);
export type ActivityCancellationType = (typeof ActivityCancellationType)[keyof typeof ActivityCancellationType];

/** Options of `proxyActivities` (`ActivityOptions` of @temporalio/common). */
export interface ActivityOptions {
  taskQueue?: string;
  startToCloseTimeout?: Duration;
  scheduleToCloseTimeout?: Duration;
  scheduleToStartTimeout?: Duration;
  heartbeatTimeout?: Duration;
  retry?: RetryPolicy;
  cancellationType?: ActivityCancellationType;
  activityId?: string;
}

/** Options of `proxyLocalActivities`. */
export interface LocalActivityOptions {
  startToCloseTimeout?: Duration;
  scheduleToCloseTimeout?: Duration;
  retry?: RetryPolicy;
  localRetryThreshold?: Duration;
}

// ---- activities ----

function retryPolicy(retry: RetryPolicy | undefined): host.RetryPolicy | undefined {
  if (!retry) return undefined;
  return {
    initialIntervalMs: optionalMs(retry.initialInterval) ?? BigInt(0),
    backoffCoefficient: retry.backoffCoefficient ?? 0,
    maximumIntervalMs: optionalMs(retry.maximumInterval) ?? BigInt(0),
    maximumAttempts: retry.maximumAttempts ?? 0,
    nonRetryableErrorTypes: retry.nonRetryableErrorTypes ?? [],
  };
}

function activityOptions(options: ActivityOptions): host.ActivityOptions {
  return {
    taskQueue: options.taskQueue,
    startToCloseTimeoutMs: optionalMs(options.startToCloseTimeout),
    scheduleToCloseTimeoutMs: optionalMs(options.scheduleToCloseTimeout),
    scheduleToStartTimeoutMs: optionalMs(options.scheduleToStartTimeout),
    heartbeatTimeoutMs: optionalMs(options.heartbeatTimeout),
    retryPolicy: retryPolicy(options.retry),
    cancellation: options.cancellationType ?? ActivityCancellationType.TRY_CANCEL,
    activityId: options.activityId,
  };
}

/**
 * Starts something a later activation resolves, in the current
 * CancellationScope, as the TypeScript SDK does: in a scope already
 * cancelled it starts nothing and rejects with the scope's failure; when a
 * cancellable scope is cancelled, `onCancel` cancels it (the host then
 * resolves the handle as its cancellation type says).
 */
function startInScope<T>(
  start: () => number,
  wrap: (failure: Failure, handle: number) => unknown,
  onCancel: (handle: number, reject: (err: unknown) => void) => void,
): Promise<T> {
  const state = run();
  return new Promise<T>((resolve, reject) => {
    const scope = CancellationScope.current();
    if (scope.consideredCancelled) {
      scope.cancelRequested.catch(reject);
      return;
    }
    const handle = start();
    state.pending.set(handle, { resolve, reject: (failure) => reject(wrap(failure, handle)) });
    if (scope.cancellable) {
      scope.cancelRequested.catch((err) => {
        if (state.pending.has(handle)) onCancel(handle, reject.bind(null, err));
      });
    }
  });
}

/** Activities and children: the host resolves the handle once cancelled. */
const cancelHandle = (handle: number): void => {
  run();
  host.cancel(handle);
};

function scheduleActivity(activityType: string, args: unknown[], options: ActivityOptions): Promise<unknown> {
  return startInScope(
    () => host.startActivity(activityType, args.map(encode), activityOptions(options)),
    // The activity id is the handle unless set, as weft schedules it.
    (failure, handle) => new ActivityFailure(`activity ${activityType} failed`, activityType, options.activityId ?? String(handle), fromWit(failure)),
    cancelHandle,
  );
}

function scheduleLocalActivity(activityType: string, args: unknown[], options: LocalActivityOptions): Promise<unknown> {
  return startInScope(
    () =>
      host.startLocalActivity(activityType, args.map(encode), {
        startToCloseTimeoutMs: optionalMs(options.startToCloseTimeout),
        scheduleToCloseTimeoutMs: optionalMs(options.scheduleToCloseTimeout),
        retryPolicy: retryPolicy(options.retry),
        localRetryThresholdMs: optionalMs(options.localRetryThreshold),
      }),
    (failure, handle) => new ActivityFailure(`local activity ${activityType} failed`, activityType, String(handle), fromWit(failure)),
    cancelHandle,
  );
}

function proxy<A>(schedule: (activityType: string, args: unknown[]) => Promise<unknown>): ActivityInterfaceFor<A> {
  return new Proxy({} as ActivityInterfaceFor<A>, {
    get(_, activityType) {
      if (typeof activityType !== 'string') return undefined;
      return (...args: unknown[]) => schedule(activityType, args);
    },
  });
}

function checkTimeouts(options: { startToCloseTimeout?: Duration; scheduleToCloseTimeout?: Duration }): void {
  if (options.startToCloseTimeout === undefined && options.scheduleToCloseTimeout === undefined) {
    // The TypeScript SDK's message.
    throw new TypeError('Required either scheduleToCloseTimeout or startToCloseTimeout');
  }
}

/**
 * Activities by name: `proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' }).greet(name)`
 * schedules activity `greet` and resolves with its result, or rejects with
 * an ActivityFailure whose `cause` is the activity's failure.
 */
export function proxyActivities<A = UntypedActivities>(options: ActivityOptions): ActivityInterfaceFor<A> {
  if (options === undefined) throw new TypeError('options must be defined');
  // As in the TypeScript SDK, the timeouts are checked when an activity is called.
  return proxy<A>((activityType, args) => {
    checkTimeouts(options);
    return scheduleActivity(activityType, args, options);
  });
}

/** Activities run in this worker, recorded as markers (the worker must serve them). */
export function proxyLocalActivities<A = UntypedActivities>(options: LocalActivityOptions): ActivityInterfaceFor<A> {
  if (options === undefined) throw new TypeError('options must be defined');
  return proxy<A>((activityType, args) => {
    checkTimeouts(options);
    return scheduleLocalActivity(activityType, args, options);
  });
}

// ---- timers and conditions ----

/**
 * A durable timer: resolves after `ms` (a number of ms or '1 minute') of
 * workflow time; at least 1 ms, as in the TypeScript SDK. Cancelling its
 * scope cancels the timer and rejects at once.
 */
export function sleep(ms: Duration): Promise<void> {
  const state = run();
  return startInScope<void>(
    () => host.startTimer(BigInt(Math.max(1, msToNumber(ms)))),
    fromWit,
    (handle, reject) => {
      state.pending.delete(handle);
      cancelHandle(handle);
      reject(undefined);
    },
  ).then(() => undefined);
}
registerSleepImplementation(sleep);

function conditionInner(fn: () => boolean): Promise<void> {
  const state = run();
  return new Promise<void>((resolve, reject) => {
    const scope = CancellationScope.current();
    if (scope.consideredCancelled) {
      scope.cancelRequested.catch(reject);
      return;
    }
    const entry: BlockedCondition = { fn, resolve };
    if (scope.cancellable) {
      scope.cancelRequested.catch((err) => {
        state.conditions.delete(entry);
        reject(err);
      });
    }
    // Evaluated at once, as in the TypeScript SDK.
    if (fn()) {
      resolve();
      return;
    }
    state.conditions.add(entry);
  });
}

/**
 * Resolves once `fn()` is true. With a timeout: resolves true if it became
 * true first, false if the timeout (a durable timer) came first; the loser
 * is cancelled.
 */
export function condition(fn: () => boolean, timeout: Duration): Promise<boolean>;
export function condition(fn: () => boolean): Promise<void>;
export function condition(fn: () => boolean, timeout?: Duration): Promise<void | boolean> {
  run();
  if (timeout === undefined) return conditionInner(fn);
  const scope = new CancellationScope({ cancellable: true });
  return scope.run(async () => {
    try {
      return await Promise.race([sleep(timeout).then(() => false), conditionInner(fn).then(() => true)]);
    } finally {
      scope.cancel();
    }
  });
}

// ---- signals, queries, updates ----

/** A signal definition: `setHandler(def, handler)`, `handle.signal(def, ...args)`. */
export interface SignalDefinition<Args extends any[] = [], Name extends string = string> {
  type: 'signal';
  name: Name;
  /** Only for types. */
  __args?: Args;
}

/** A query definition: `setHandler(def, (...args) => value)`. */
export interface QueryDefinition<Ret, Args extends any[] = [], Name extends string = string> {
  type: 'query';
  name: Name;
  __args?: Args;
  __ret?: Ret;
}

/** An update definition: `setHandler(def, async (...args) => value, { validator })`. */
export interface UpdateDefinition<Ret, Args extends any[] = [], Name extends string = string> {
  type: 'update';
  name: Name;
  __args?: Args;
  __ret?: Ret;
}

export function defineSignal<Args extends any[] = [], Name extends string = string>(name: Name): SignalDefinition<Args, Name> {
  return { type: 'signal', name };
}

export function defineQuery<Ret, Args extends any[] = [], Name extends string = string>(name: Name): QueryDefinition<Ret, Args, Name> {
  return { type: 'query', name };
}

export function defineUpdate<Ret, Args extends any[] = [], Name extends string = string>(name: Name): UpdateDefinition<Ret, Args, Name> {
  return { type: 'update', name };
}

/** Options of an update handler. */
export interface UpdateHandlerOptions<Args extends any[]> {
  /** Runs before the update is accepted (not on replay); throwing rejects it. */
  validator?: (...args: Args) => void;
  description?: string;
}

/**
 * Sets (or with `undefined`, removes) the handler of a signal, query or
 * update. Signals and updates that came before their handler are delivered
 * now, in order. Query handlers are synchronous and read-only.
 */
export function setHandler<Ret, Args extends any[]>(def: QueryDefinition<Ret, Args>, handler: ((...args: Args) => Ret) | undefined, options?: { description?: string }): void;
export function setHandler<Args extends any[]>(def: SignalDefinition<Args>, handler: ((...args: Args) => void | Promise<void>) | undefined, options?: { description?: string }): void;
export function setHandler<Ret, Args extends any[]>(def: UpdateDefinition<Ret, Args>, handler: ((...args: Args) => Ret | Promise<Ret>) | undefined, options?: UpdateHandlerOptions<Args>): void;
export function setHandler(
  def: SignalDefinition<any[]> | QueryDefinition<any, any[]> | UpdateDefinition<any, any[]>,
  handler: ((...args: any[]) => any) | undefined,
  options: UpdateHandlerOptions<any[]> = {},
): void {
  const state = run();
  const name = def.name;
  switch (def.type) {
    case 'signal':
      if (handler === undefined) {
        state.signalHandlers.delete(name);
        return;
      }
      state.signalHandlers.set(name, handler);
      for (const signal of state.bufferedSignals.filter((s) => s.name === name)) {
        state.bufferedSignals.splice(state.bufferedSignals.indexOf(signal), 1);
        state.deliverSignal(signal);
      }
      return;
    case 'query':
      if (handler === undefined) state.queryHandlers.delete(name);
      else state.queryHandlers.set(name, handler);
      return;
    case 'update':
      if (handler === undefined) {
        state.updateHandlers.delete(name);
        return;
      }
      state.updateHandlers.set(name, { handler, validator: options.validator });
      for (const update of state.bufferedUpdates.filter((u) => u.name === name)) {
        state.bufferedUpdates.splice(state.bufferedUpdates.indexOf(update), 1);
        state.deliverUpdate(update);
      }
      return;
    default:
      throw new TypeError(`setHandler: ${JSON.stringify(def)} is not a signal, query or update definition`);
  }
}

// ---- children and other workflows ----

/** `ParentClosePolicy` of @temporalio/common. */
export const ParentClosePolicy = Object.freeze({
  TERMINATE: 'terminate',
  ABANDON: 'abandon',
  REQUEST_CANCEL: 'request-cancel',
} as const);
export type ParentClosePolicy = (typeof ParentClosePolicy)[keyof typeof ParentClosePolicy];

/** `ChildWorkflowCancellationType` of @temporalio/common. */
export const ChildWorkflowCancellationType = Object.freeze({
  ABANDON: 'abandon',
  TRY_CANCEL: 'try-cancel',
  WAIT_CANCELLATION_COMPLETED: 'wait-cancellation-completed',
  WAIT_CANCELLATION_REQUESTED: 'wait-cancellation-requested',
} as const);
export type ChildWorkflowCancellationType = (typeof ChildWorkflowCancellationType)[keyof typeof ChildWorkflowCancellationType];

/** Options of `startChild` / `executeChild`. */
export interface ChildWorkflowOptions<Args extends any[] = any[]> {
  args?: Args;
  workflowId?: string;
  taskQueue?: string;
  workflowExecutionTimeout?: Duration;
  parentClosePolicy?: ParentClosePolicy;
  cancellationType?: ChildWorkflowCancellationType;
}

/** A started child: its id and its result. */
export interface ChildWorkflowHandle<T extends Workflow> {
  workflowId: string;
  result(): Promise<WorkflowResultType<T>>;
  signal<Args extends any[]>(def: SignalDefinition<Args> | string, ...args: Args): Promise<void>;
}

/** A workflow of this namespace, by id. */
export interface ExternalWorkflowHandle {
  workflowId: string;
  runId?: string;
  signal<Args extends any[]>(def: SignalDefinition<Args> | string, ...args: Args): Promise<void>;
  cancel(): Promise<void>;
}

const typeName = (workflow: string | Workflow): string => (typeof workflow === 'function' ? workflow.name : workflow);

/**
 * Starts a child workflow (a type name or the workflow function); resolves
 * once it started. Its id is a uuid4 unless `workflowId` says, as in the
 * TypeScript SDK.
 */
export async function startChild<T extends Workflow>(workflow: string | T, options: ChildWorkflowOptions<Parameters<T>> = {}): Promise<ChildWorkflowHandle<T>> {
  const state = run();
  const workflowType = typeName(workflow);
  const workflowId = options.workflowId ?? uuid4();
  const wrap = (failure: Failure) => new ChildWorkflowFailure(`child workflow ${workflowType} failed`, workflowType, workflowId, fromWit(failure));
  let started!: Promise<void>;
  const result = startInScope<WorkflowResultType<T>>(
    () => {
      const handle = host.startChild(workflowType, (options.args ?? []).map(encode), {
        workflowId,
        taskQueue: options.taskQueue,
        executionTimeoutMs: optionalMs(options.workflowExecutionTimeout),
        parentClosePolicy: options.parentClosePolicy ?? ParentClosePolicy.TERMINATE,
        cancellation: options.cancellationType ?? ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      });
      started = new Promise<void>((resolve, reject) => state.childStarts.set(handle, { resolve, reject: (f) => reject(wrap(f)) }));
      return handle;
    },
    wrap,
    cancelHandle,
  );
  result.catch(() => {}); // awaited through `result()`, or not at all
  // In a scope already cancelled nothing starts: the result's rejection says why.
  await (started ?? result);
  return {
    workflowId,
    result: () => result,
    signal: (def, ...args) => getExternalWorkflowHandle(workflowId).signal(def, ...args),
  };
}

/** Starts a child workflow and resolves with its result. */
export async function executeChild<T extends Workflow>(workflow: string | T, options: ChildWorkflowOptions<Parameters<T>> = {}): Promise<WorkflowResultType<T>> {
  const child = await startChild(workflow, options);
  return child.result();
}

/** Another workflow of this namespace, by id: signal it or ask it to cancel. */
export function getExternalWorkflowHandle(workflowId: string, runId?: string): ExternalWorkflowHandle {
  return {
    workflowId,
    runId,
    signal(def, ...args) {
      const state = run();
      const name = typeof def === 'string' ? def : def.name;
      return state.await(host.signalWorkflow(workflowId, name, args.map(encode)), fromWit).then(() => undefined);
    },
    cancel() {
      const state = run();
      return state.await(host.cancelWorkflow(workflowId), fromWit).then(() => undefined);
    },
  };
}

// ---- the run ----

/** Facts about the run (the fields weft has of `WorkflowInfo`). */
export interface WorkflowInfo {
  workflowType: string;
  workflowId: string;
  runId: string;
  namespace: string;
  taskQueue: string;
  attempt: number;
  /** Not for workflow logic: whether history is being replayed, and workflow time. */
  unsafe: { readonly isReplaying: boolean; now(): number };
}

/** Facts about the run: workflowType, workflowId, runId, namespace, taskQueue, attempt, unsafe. */
export function workflowInfo(): WorkflowInfo {
  run();
  return {
    ...host.info(),
    unsafe: {
      get isReplaying() {
        return isReplaying();
      },
      now: workflowNow,
    },
  };
}

/** True while the host replays history. */
export function isReplaying(): boolean {
  run();
  return host.isReplaying();
}

/** A deterministic random RFC 4122 version 4 UUID. */
export function uuid4(): string {
  run();
  const hex = (host.random().toString(16).padStart(16, '0') + host.random().toString(16).padStart(16, '0')).split('');
  hex[12] = '4';
  hex[16] = '89ab'[parseInt(hex[16], 16) & 3];
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

/** True when this run takes the code introduced under patch `patchId`. */
export function patched(patchId: string): boolean {
  run();
  return host.patched(patchId);
}

/** Every run takes the code of patch `patchId` now. */
export function deprecatePatch(patchId: string): void {
  run();
  host.deprecatePatch(patchId);
}

/** Sets search attributes: `{ name: [values] }` (a single value is taken too). */
export function upsertSearchAttributes(attributes: Record<string, unknown>): void {
  run();
  host.upsertSearchAttributes(Object.entries(attributes).map(([k, v]) => [k, encode(v)]));
}

/** Sets memo fields: `{ name: value }`. */
export function upsertMemo(fields: Record<string, unknown>): void {
  run();
  host.upsertMemo(Object.entries(fields).map(([k, v]) => [k, encode(v)]));
}

/** Ends this run and starts a fresh one of the same type with `args`. Never resolves. */
export function continueAsNew<F extends Workflow>(...args: Parameters<F>): Promise<never> {
  run();
  return Promise.reject(new ContinueAsNew(args.map(encode)));
}

function logAt(level: host.LogLevel) {
  return (message: string, attributes?: Record<string, unknown>): void => {
    if (maybeRun() === null) return;
    host.log(level, attributes === undefined ? String(message) : `${message} ${JSON.stringify(attributes)}`);
  };
}

/** The workflow logger (silent while replaying): `log.info(message, attributes?)`. */
export const log = Object.freeze({
  trace: logAt('trace'),
  debug: logAt('debug'),
  info: logAt('info'),
  warn: logAt('warn'),
  error: logAt('error'),
});

// `console` logs through the host, as the TypeScript SDK's sandbox routes it
// to the worker's logger.
const consoleAt = (level: host.LogLevel) => (...args: unknown[]) => {
  if (maybeRun() === null) return;
  host.log(level, args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' '));
};

function safeJson(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

globalThis.console = {
  log: consoleAt('info'),
  info: consoleAt('info'),
  debug: consoleAt('debug'),
  trace: consoleAt('trace'),
  warn: consoleAt('warn'),
  error: consoleAt('error'),
};
