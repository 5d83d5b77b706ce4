// weft SDK for JavaScript workflows.
//
// A workflow is ordinary synchronous JavaScript: `handle.result()` and
// `waitAny()` suspend the component until Temporal delivers what they wait
// for. The host replays history to rebuild a run, so workflow code must be
// deterministic: take time from `nowMs()` and randomness from `randomU64()`.
// The component has no WASI at all (built with every componentize-js
// feature disabled): `console.log`, `Date.now()` and timers are unavailable;
// use `log()`, `nowMs()` and `startTimer()`.
//
//   import { workflow, executeActivity } from './weft/workflow.js';
//   export { workflowGuest } from './weft/workflow.js';
//
//   workflow('Greet', (name) => executeActivity('Hello', [name], { startToCloseTimeoutMs: 10_000 }));

import * as host from 'weft:plugin/workflow-host@0.1.0';
import { ApplicationError, decode, describeError, dispatch, encode } from './payload.js';

export { ApplicationError } from './payload.js';

const workflows = new Map();

/** Registers `fn` as workflow type `name`; it gets the decoded arguments. */
export function workflow(name, fn) {
  workflows.set(name, fn);
}

/** A pending operation: an activity, a timer or a signal wait. */
export class Handle {
  constructor(id) {
    this.id = id;
  }

  /** Blocks until done; returns the decoded value or throws ApplicationError
   *  (a failed activity's failure as received). */
  result() {
    let payload;
    try {
      payload = host.result(this.id);
    } catch (err) {
      // componentize-js throws an import's `err` value as an error object
      // (not an `instanceof Error`) whose own `payload` property is the
      // WIT `failure`.
      throw ApplicationError.fromFailure(err?.payload ?? err);
    }
    return decode(payload);
  }

  /** Cancels it (no effect once it is done). */
  cancel() {
    host.cancel(this.id);
  }
}

/** Blocks until one of `handles` is done; returns it (the first in order). */
export function waitAny(...handles) {
  const done = host.waitAny(Uint32Array.from(handles, (h) => h.id));
  return handles.find((h) => h.id === done);
}

// WIT u64 is a BigInt in JavaScript; accept plain numbers.
const u64 = (n) => (n === undefined || n === null ? undefined : BigInt(n));

/**
 * Schedules activity `activityType` with JSON-encoded `args`; returns at once.
 * Options (all optional, times in ms): taskQueue, startToCloseTimeoutMs,
 * scheduleToCloseTimeoutMs, scheduleToStartTimeoutMs, heartbeatTimeoutMs,
 * retryPolicy, cancellation ('try-cancel' | 'wait-cancellation-completed' |
 * 'abandon'), activityId. Temporal needs one of the two close timeouts.
 */
export function startActivity(activityType, args = [], options = {}) {
  const retry = options.retryPolicy;
  const wit = {
    taskQueue: options.taskQueue,
    startToCloseTimeoutMs: u64(options.startToCloseTimeoutMs),
    scheduleToCloseTimeoutMs: u64(options.scheduleToCloseTimeoutMs),
    scheduleToStartTimeoutMs: u64(options.scheduleToStartTimeoutMs),
    heartbeatTimeoutMs: u64(options.heartbeatTimeoutMs),
    retryPolicy: retry && {
      initialIntervalMs: u64(retry.initialIntervalMs ?? 0),
      backoffCoefficient: retry.backoffCoefficient ?? 0,
      maximumIntervalMs: u64(retry.maximumIntervalMs ?? 0),
      maximumAttempts: retry.maximumAttempts ?? 0,
      nonRetryableErrorTypes: retry.nonRetryableErrorTypes ?? [],
    },
    cancellation: options.cancellation ?? 'try-cancel',
    activityId: options.activityId,
  };
  return new Handle(host.startActivity(activityType, args.map(encode), wit));
}

/** `startActivity(...)` then `.result()`. */
export function executeActivity(activityType, args = [], options = {}) {
  return startActivity(activityType, args, options).result();
}

/** A timer of workflow time; its result is null. */
export function startTimer(durationMs) {
  return new Handle(host.startTimer(BigInt(durationMs)));
}

/** Blocks for `durationMs` of workflow time (a durable timer). */
export function sleep(durationMs) {
  startTimer(durationMs).result();
}

/** A handle resolving with the next signal `name`'s first argument (or null). */
export function nextSignal(name) {
  return new Handle(host.nextSignal(name));
}

/** Publishes `value` as the answer to query `name`. */
export function setQuery(name, value) {
  host.setQueryResult(name, encode(value));
}

/** Logs through the host (silent while replaying). Level: 'trace' ... 'error'. */
export function log(message, level = 'info') {
  host.log(level, message);
}

/** Workflow time, in ms since the Unix epoch. */
export function nowMs() {
  return Number(host.now());
}

/** A deterministic random u64 (a BigInt) that replays the same. */
export function randomU64() {
  return host.random();
}

export const info = () => host.info();
export const isReplaying = () => host.isReplaying();
export const patched = (id) => host.patched(id);

/** Ends this run and starts a new one with `args`. Never returns. */
export function continueAsNew(...args) {
  host.continueAsNew(args.map(encode));
}

/** The `weft:plugin/workflow-guest` export: re-export it from the app module. */
export const workflowGuest = {
  workflowTypes() {
    return [...workflows.keys()];
  },
  run(workflowType, args) {
    return dispatch(workflows, 'workflow', workflowType, args, (err) => {
      // A bug, not a business failure: say why, then trap (rethrow), which
      // fails only the workflow task; Temporal retries it.
      host.log('error', `workflow ${workflowType} threw ${describeError(err)}`);
      throw err;
    });
  },
};
