// weft's workflow SDK for JavaScript, shaped like the Temporal TypeScript
// SDK's `@temporalio/workflow`: the same names, options and failures, on
// weft's activation world. A workflow module exports its workflows as async
// functions:
//
//   import { proxyActivities, sleep } from './weft/workflow.js';
//   const { Hello } = proxyActivities({ startToCloseTimeout: '1 minute' });
//   export async function Greet(name) {
//     await sleep('1 second');
//     return await Hello(name);
//   }
//
// and the build (build.sh) componentizes an entry module that hands them to
// `activationGuest`. The component imports no WASI: time (`Date`,
// `Date.now()`) and `Math.random()` are replaced with the run's workflow
// time and seeded randomness, as the TypeScript SDK's sandbox does.

import * as host from 'weft:plugin/activation-host@0.1.0';
import { encode } from './payload.js';
import { msToNumber, optionalMs } from './duration.js';
import { ActivityFailure, CancelledFailure, ChildWorkflowFailure, ContinueAsNew, fromWit } from './failure.js';
import { maybeRun, run } from './executor.js';

export { activationGuest } from './executor.js';
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
const workflowNow = () => Number(host.now());

/** `Date` whose current time is the activation's workflow time. */
class WorkflowDate extends NativeDate {
  constructor(...args) {
    if (args.length === 0) super(workflowNow());
    else super(...args);
  }

  static now() {
    return workflowNow();
  }
}
globalThis.Date = WorkflowDate;

Math.random = () => Number(host.random() >> 11n) / 2 ** 53;

// ---- activities ----

/** `ActivityCancellationType` of @temporalio/common. */
export const ActivityCancellationType = Object.freeze({
  TRY_CANCEL: 'try-cancel',
  WAIT_CANCELLATION_COMPLETED: 'wait-cancellation-completed',
  ABANDON: 'abandon',
});

function retryPolicy(retry) {
  if (!retry) return undefined;
  return {
    initialIntervalMs: optionalMs(retry.initialInterval) ?? 0n,
    backoffCoefficient: retry.backoffCoefficient ?? 0,
    maximumIntervalMs: optionalMs(retry.maximumInterval) ?? 0n,
    maximumAttempts: retry.maximumAttempts ?? 0,
    nonRetryableErrorTypes: retry.nonRetryableErrorTypes ?? [],
  };
}

function activityOptions(options) {
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

/** Waits on `handle`, which the run's cancellation cancels. */
function cancellable(state, handle, wrap) {
  const promise = state.await(handle, wrap);
  if (state.cancelRequested) {
    host.cancel(handle);
  } else {
    const onCancel = () => host.cancel(handle);
    state.cancelListeners.add(onCancel);
    promise.then(
      () => state.cancelListeners.delete(onCancel),
      () => state.cancelListeners.delete(onCancel),
    );
  }
  return promise;
}

function scheduleActivity(activityType, args, options) {
  const state = run();
  const handle = host.startActivity(activityType, args.map(encode), activityOptions(options));
  const wrap = (failure) => new ActivityFailure(`activity ${activityType} failed`, activityType, options.activityId ?? String(handle), fromWit(failure));
  return cancellable(state, handle, wrap);
}

function scheduleLocalActivity(activityType, args, options) {
  const state = run();
  const handle = host.startLocalActivity(activityType, args.map(encode), {
    startToCloseTimeoutMs: optionalMs(options.startToCloseTimeout),
    scheduleToCloseTimeoutMs: optionalMs(options.scheduleToCloseTimeout),
    retryPolicy: retryPolicy(options.retry),
    localRetryThresholdMs: optionalMs(options.localRetryThreshold),
  });
  return state.await(handle, (failure) => new ActivityFailure(`local activity ${activityType} failed`, activityType, String(handle), fromWit(failure)));
}

function proxy(schedule, options) {
  return new Proxy(
    {},
    {
      get(_, activityType) {
        if (typeof activityType !== 'string') return undefined;
        return (...args) => schedule(activityType, args, options);
      },
    },
  );
}

/**
 * Activities by name: `proxyActivities({ startToCloseTimeout: '1 minute' }).CreateOrder(id)`
 * schedules activity `CreateOrder` and resolves with its result, or rejects
 * with an ActivityFailure whose `cause` is the activity's failure.
 */
export function proxyActivities(options = {}) {
  if (options.startToCloseTimeout === undefined && options.scheduleToCloseTimeout === undefined) {
    throw new TypeError('proxyActivities needs startToCloseTimeout or scheduleToCloseTimeout');
  }
  return proxy(scheduleActivity, options);
}

/** Activities run in this worker, recorded as markers (the worker must serve them). */
export function proxyLocalActivities(options = {}) {
  if (options.startToCloseTimeout === undefined && options.scheduleToCloseTimeout === undefined) {
    throw new TypeError('proxyLocalActivities needs startToCloseTimeout or scheduleToCloseTimeout');
  }
  return proxy(scheduleLocalActivity, options);
}

// ---- timers and conditions ----

/** A durable timer: resolves after `duration` (ms or '1 minute') of workflow time. */
export function sleep(duration) {
  const state = run();
  const handle = host.startTimer(BigInt(msToNumber(duration)));
  return cancellable(state, handle, fromWit).then(() => undefined);
}

/**
 * Resolves once `fn()` is true. With a timeout: resolves true if it became
 * true first, false if the timeout (a durable timer) came first.
 */
export function condition(fn, timeout) {
  const state = run();
  const entry = { fn };
  const blocked = new Promise((resolve, reject) => {
    entry.resolve = resolve;
    entry.reject = reject;
  });
  state.conditions.add(entry);
  const onCancel = () => {
    state.conditions.delete(entry);
    entry.reject(new CancelledFailure('workflow cancelled'));
  };
  if (state.cancelRequested) onCancel();
  else state.cancelListeners.add(onCancel);
  const unblocked = () => state.cancelListeners.delete(onCancel);
  if (timeout === undefined) {
    return blocked.finally(unblocked);
  }
  // As in the TypeScript SDK: a timer races the condition, and the loser
  // is cancelled (its command is dropped when both fall in one activation).
  const handle = host.startTimer(BigInt(msToNumber(timeout)));
  const timer = state.await(handle, fromWit);
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (settle) => {
      if (done) return;
      done = true;
      unblocked();
      settle();
    };
    blocked.then(
      () => finish(() => (host.cancel(handle), resolve(true))),
      (err) => finish(() => (host.cancel(handle), reject(err))),
    );
    timer.then(
      () => finish(() => (state.conditions.delete(entry), resolve(false))),
      () => {}, // cancelled above
    );
  });
}

// ---- signals, queries, updates ----

/** A signal definition: `setHandler(def, handler)`, `handle.signal(def, ...args)`. */
export function defineSignal(name) {
  return { type: 'signal', name };
}

/** A query definition: `setHandler(def, (...args) => value)`, synchronous and read-only. */
export function defineQuery(name) {
  return { type: 'query', name };
}

/** An update definition: `setHandler(def, async (...args) => value, { validator })`. */
export function defineUpdate(name) {
  return { type: 'update', name };
}

/**
 * Sets (or with `undefined`, removes) the handler of a signal, query or
 * update. Signals and updates that came before their handler are delivered
 * now, in order. An update's `validator` runs before it is accepted (not on
 * replay); throwing rejects the update.
 */
export function setHandler(def, handler, options = {}) {
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
});

/** `ChildWorkflowCancellationType` of @temporalio/common. */
export const ChildWorkflowCancellationType = Object.freeze({
  ABANDON: 'abandon',
  TRY_CANCEL: 'try-cancel',
  WAIT_CANCELLATION_COMPLETED: 'wait-cancellation-completed',
  WAIT_CANCELLATION_REQUESTED: 'wait-cancellation-requested',
});

const typeName = (workflow) => (typeof workflow === 'function' ? workflow.name : workflow);

/**
 * Starts a child workflow (a type name or the workflow function); resolves
 * once it started with `{ workflowId, result() }`.
 */
export async function startChild(workflow, options = {}) {
  const state = run();
  const workflowType = typeName(workflow);
  const info = host.info();
  const handle = host.startChild(workflowType, (options.args ?? []).map(encode), {
    workflowId: options.workflowId,
    taskQueue: options.taskQueue,
    executionTimeoutMs: optionalMs(options.workflowExecutionTimeout),
    parentClosePolicy: options.parentClosePolicy ?? ParentClosePolicy.TERMINATE,
    cancellation: options.cancellationType ?? ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  const workflowId = options.workflowId ?? `${info.workflowId}-child-${handle}`;
  const wrap = (failure) => new ChildWorkflowFailure(`child workflow ${workflowType} failed`, workflowType, workflowId, fromWit(failure));
  const started = new Promise((resolve, reject) => state.childStarts.set(handle, { resolve, reject: (f) => reject(wrap(f)) }));
  const result = cancellable(state, handle, wrap);
  result.catch(() => {}); // awaited through `result()`, or not at all
  await started;
  return { workflowId, result: () => result };
}

/** Starts a child workflow and resolves with its result. */
export async function executeChild(workflow, options = {}) {
  const child = await startChild(workflow, options);
  return child.result();
}

/** Another workflow of this namespace, by id: signal it or ask it to cancel. */
export function getExternalWorkflowHandle(workflowId) {
  return {
    workflowId,
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

/** Facts about the run: workflowType, workflowId, runId, namespace, taskQueue, attempt. */
export function workflowInfo() {
  run();
  return host.info();
}

/** True while the host replays history. */
export function isReplaying() {
  run();
  return host.isReplaying();
}

/** A deterministic random RFC 4122 version 4 UUID. */
export function uuid4() {
  run();
  const hex = (host.random().toString(16).padStart(16, '0') + host.random().toString(16).padStart(16, '0')).split('');
  hex[12] = '4';
  hex[16] = '89ab'[parseInt(hex[16], 16) & 3];
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

/** True when this run takes the code introduced under patch `patchId`. */
export function patched(patchId) {
  run();
  return host.patched(patchId);
}

/** Every run takes the code of patch `patchId` now. */
export function deprecatePatch(patchId) {
  run();
  host.deprecatePatch(patchId);
}

/** Sets search attributes: `{ name: value | [values] }`. */
export function upsertSearchAttributes(attributes) {
  run();
  host.upsertSearchAttributes(Object.entries(attributes).map(([k, v]) => [k, encode(v)]));
}

/** Sets memo fields: `{ name: value }`. */
export function upsertMemo(fields) {
  run();
  host.upsertMemo(Object.entries(fields).map(([k, v]) => [k, encode(v)]));
}

/** Ends this run and starts a fresh one of the same type with `args`. Never resolves. */
export function continueAsNew(...args) {
  run();
  return Promise.reject(new ContinueAsNew(args.map(encode)));
}

function logAt(level) {
  return (message, attributes) => {
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
