// The run's executor on weft's activation world
// (`weft:plugin/activation-guest`): one `Run` object per workflow run, many
// runs per instance.
//
// Workflow functions are async JavaScript; every SDK operation returns a
// native Promise that `activate(jobs)` settles when history resolves it.
// componentize-js wraps every export in an async function and drives the
// engine's job queue until it is empty before the call returns, so the
// promise jobs a resolution starts all run inside `activate`. What JavaScript
// cannot see is the moment the queue is empty (there is no macrotask: timers
// need the clocks this component does not import), so `activate` returns
// the promise of a loop of promise turns: each turn re-checks the blocked
// `condition`s and queues the next, and the run counts as waiting after
// QUIET_TURNS turns in a row in which no workflow code touched the SDK. The
// queue is FIFO, so every coroutine that is not waiting on the SDK advances
// one step per turn; workflow code that awaits more than QUIET_TURNS times in
// a row without calling the SDK may be reported waiting too early (its run
// then goes on at its next activation).

import * as host from 'weft:plugin/activation-host@0.1.0';
import { decode, encode, type Failure, type Payload } from './payload.js';
import { ContinueAsNew, TemporalFailure, describeError, toWit } from './failure.js';
import { RootCancellationScope } from './cancellation-scope.js';

type Workflow = (...args: any[]) => unknown;
type Handler = (...args: any[]) => unknown;

/** A job of an activation (`job` in wit/activation.wit). */
type Job =
  | { tag: 'resolved'; val: { handle: number; outcome: { tag: 'ok'; val: Payload } | { tag: 'err'; val: Failure } } }
  | { tag: 'child-started'; val: { handle: number; outcome: { tag: 'ok' } | { tag: 'err'; val: Failure } } }
  | { tag: 'signal'; val: Signal }
  | { tag: 'update'; val: Update }
  | { tag: 'cancel-requested' };

type Signal = { name: string; args: Payload[] };
type Update = { id: string; name: string; args: Payload[]; runValidator: boolean };

/** `run-status` in wit/activation.wit. */
type RunStatus =
  | { tag: 'waiting' }
  | { tag: 'completed'; val: { tag: 'ok'; val: Payload } | { tag: 'err'; val: Failure } }
  | { tag: 'continue-as-new'; val: Payload[] };

/** A promise's settle functions; `reject` takes the WIT failure. */
type Waiter = { resolve: (value: any) => void; reject: (failure: Failure) => void };

/** A blocked `condition`. */
export type BlockedCondition = { fn: () => boolean; resolve: () => void };

/** Turns in a row without SDK activity after which a run is waiting. */
const QUIET_TURNS = 64;

// The run being activated (or queried). A call into the instance runs only
// its own run's jobs (the engine empties the queue before returning), so
// this never points at another run while workflow code runs.
let current: RunState | null = null;

/** The current run's state; SDK calls count as activity. */
export function run(): RunState {
  if (current === null) throw new Error('workflow code runs only inside an activation');
  current.ticks++;
  return current;
}

/** The current run's state, or null outside an activation. */
export function maybeRun(): RunState | null {
  return current;
}

/** One run's state, apart from every other run in the instance. */
export class RunState {
  workflowType: string;
  fn: Workflow | undefined;
  args: Payload[];
  started = false;
  /** handle -> settle functions of the promise waiting on its outcome. */
  pending = new Map<number, Waiter>();
  /** handle -> settle functions of a child's start. */
  childStarts = new Map<number, Waiter>();
  /** name -> handler; signals that came before their handler, in order. */
  signalHandlers = new Map<string, Handler>();
  bufferedSignals: Signal[] = [];
  queryHandlers = new Map<string, Handler>();
  /** name -> handler and validator; updates that came before their handler. */
  updateHandlers = new Map<string, { handler: Handler; validator?: Handler }>();
  bufferedUpdates: Update[] = [];
  /** Blocked `condition`s. */
  conditions = new Set<BlockedCondition>();
  /** The run's root CancellationScope: the run's cancellation cancels it. */
  rootScope = new RootCancellationScope();
  cancelRequested = false;
  /** The run-status once the main function settled. */
  outcome: RunStatus | null = null;
  /** A non-Temporal error thrown by workflow code: fails the task. */
  bug: unknown = null;
  /** SDK activity counter (see QUIET_TURNS). */
  ticks = 0;
  /** True once this activation's status was taken. */
  reported = false;

  constructor(workflowType: string, fn: Workflow | undefined, args: Payload[]) {
    this.workflowType = workflowType;
    this.fn = fn;
    this.args = args;
  }

  /** Waits for `handle`'s outcome; `wrap` turns a WIT failure into the error thrown. */
  await<T = any>(handle: number, wrap: (failure: Failure) => unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.set(handle, { resolve, reject: (failure) => reject(wrap(failure)) });
    });
  }

  /** Records a bug (a non-Temporal error); the activation then traps. */
  fail(err: unknown): void {
    this.bug ??= err;
  }

  apply(job: Job): void {
    this.ticks++;
    switch (job.tag) {
      case 'resolved': {
        const waiter = this.pending.get(job.val.handle);
        if (waiter === undefined) return; // nobody waits (e.g. a timer a condition cancelled)
        this.pending.delete(job.val.handle);
        const outcome = job.val.outcome;
        if (outcome.tag === 'ok') waiter.resolve(decode(outcome.val));
        else waiter.reject(outcome.val);
        return;
      }
      case 'child-started': {
        const waiter = this.childStarts.get(job.val.handle);
        if (waiter === undefined) return;
        this.childStarts.delete(job.val.handle);
        const started = job.val.outcome;
        if (started.tag === 'ok') waiter.resolve(undefined);
        else waiter.reject(started.val);
        return;
      }
      case 'signal':
        if (this.signalHandlers.has(job.val.name)) this.deliverSignal(job.val);
        else this.bufferedSignals.push(job.val);
        return;
      case 'update':
        if (this.updateHandlers.has(job.val.name)) this.deliverUpdate(job.val);
        else this.bufferedUpdates.push(job.val);
        return;
      case 'cancel-requested':
        if (this.cancelRequested) return;
        this.cancelRequested = true;
        this.rootScope.cancel();
        return;
      default:
        throw new Error(`unknown job ${(job as { tag: string }).tag}`);
    }
  }

  deliverSignal(signal: Signal): void {
    const handler = this.signalHandlers.get(signal.name)!;
    this.settleHandler(() => handler(...signal.args.map(decode)), (err) => this.endWith(err));
  }

  deliverUpdate(update: Update): void {
    const { handler, validator } = this.updateHandlers.get(update.name)!;
    const args = update.args.map(decode);
    if (update.runValidator && validator) {
      try {
        validator(...args);
      } catch (err) {
        host.rejectUpdate(update.id, toWit(err));
        return;
      }
    }
    host.acceptUpdate(update.id);
    this.settleHandler(
      () => handler(...args),
      (err) => {
        if (err instanceof TemporalFailure || !(err instanceof Error)) host.completeUpdate(update.id, { tag: 'err', val: toWit(err) });
        else this.fail(err);
      },
      (value) => host.completeUpdate(update.id, { tag: 'ok', val: encode(value) }),
    );
  }

  /** Runs a handler (sync or async); its failure goes to `onError`. */
  settleHandler(call: () => unknown, onError: (err: unknown) => void, onValue: (value: unknown) => void = () => {}): void {
    let result: unknown;
    try {
      result = call();
    } catch (err) {
      onError(err);
      return;
    }
    Promise.resolve(result).then(
      (value) => {
        this.ticks++;
        onValue(value);
      },
      (err) => {
        this.ticks++;
        onError(err);
      },
    );
  }

  /** The main function settled with `err` (or a handler failed the run). */
  endWith(err: unknown): void {
    if (this.outcome !== null) return;
    if (err instanceof ContinueAsNew) this.outcome = { tag: 'continue-as-new', val: err.args };
    else if (err instanceof TemporalFailure) this.outcome = { tag: 'completed', val: { tag: 'err', val: toWit(err) } };
    else this.fail(err);
    this.noteLateEnd();
  }

  endWithValue(value: unknown): void {
    if (this.outcome !== null) return;
    this.outcome = { tag: 'completed', val: { tag: 'ok', val: encode(value) } };
    this.noteLateEnd();
  }

  noteLateEnd(): void {
    if (this.reported) {
      host.log('warn', `workflow ${this.workflowType} ended after its activation reported it waiting (more than ${QUIET_TURNS} promise turns without an SDK call); it ends at its next activation`);
    }
  }

  start(): void {
    this.started = true;
    this.settleHandler(
      () => this.fn!(...this.args.map(decode)),
      (err) => this.endWith(err),
      (value) => this.endWithValue(value),
    );
  }

  /** Resolves every blocked condition whose function is now true. */
  unblockConditions(): void {
    for (const condition of [...this.conditions]) {
      let ready: boolean;
      try {
        ready = condition.fn();
      } catch (err) {
        // As in the TypeScript SDK, a throwing condition is a bug.
        this.conditions.delete(condition);
        this.fail(err);
        continue;
      }
      if (ready) {
        this.ticks++;
        this.conditions.delete(condition);
        condition.resolve();
      }
    }
  }

  /** Updates still without a handler at the end of an activation are refused. */
  rejectUnhandledUpdates(): void {
    for (const update of this.bufferedUpdates) {
      const known = [...this.updateHandlers.keys()].join(', ') || 'none';
      host.rejectUpdate(update.id, {
        message: `workflow ${this.workflowType} has no update handler named ${JSON.stringify(update.name)} (it handles ${known})`,
        errorType: 'UpdateNotFound',
        nonRetryable: true,
        details: [],
      });
    }
    this.bufferedUpdates = [];
  }

  /**
   * The run-status, once the run's coroutines all wait: a loop of promise
   * turns, each queued behind every job queued before it.
   */
  settle(): Promise<RunStatus> {
    let seen = -1;
    let quiet = 0;
    return new Promise<RunStatus>((resolve, reject) => {
      const turn = (): void => {
        try {
          current = this;
          this.unblockConditions();
          if (this.ticks !== seen) {
            seen = this.ticks;
            quiet = 0;
          } else {
            quiet++;
          }
          if (this.bug !== null) {
            // A bug, not a business failure: say why, then trap, which fails
            // only the workflow task (Temporal retries it).
            host.log('error', `workflow ${this.workflowType} threw ${describeError(this.bug)}`);
            reject(this.bug);
            return;
          }
          if (this.outcome !== null || quiet >= QUIET_TURNS) {
            this.rejectUnhandledUpdates();
            this.reported = true;
            resolve(this.outcome ?? { tag: 'waiting' });
            return;
          }
          RESOLVED.then(turn);
        } catch (err) {
          reject(err);
        }
      };
      RESOLVED.then(turn);
    });
  }
}

const RESOLVED = Promise.resolve();

/**
 * The `weft:plugin/activation-guest` export for `workflows`, a module's
 * exports (`import * as workflows from './my_workflows.js'`): every exported
 * function is a workflow type, named by its export name.
 */
export function activationGuest(workflows: Record<string, unknown>) {
  const types = new Map(Object.entries(workflows).filter((entry): entry is [string, Workflow] => typeof entry[1] === 'function'));

  class Run {
    state: RunState;

    constructor(workflowType: string, args: Payload[]) {
      const fn = types.get(workflowType);
      this.state = new RunState(workflowType, fn, args);
    }

    activate(jobs: Job[]): Promise<RunStatus> {
      const state = this.state;
      current = state;
      state.reported = false;
      try {
        for (const job of jobs) state.apply(job);
        if (!state.started) {
          if (state.fn === undefined) {
            const known = [...types.keys()].join(', ');
            state.outcome = {
              tag: 'completed',
              val: { tag: 'err', val: { message: `this component does not offer workflow type ${JSON.stringify(state.workflowType)} (it offers ${known})`, errorType: 'UnknownWorkflowType', nonRetryable: true, details: [] } },
            };
          } else {
            state.start();
          }
        }
      } catch (err) {
        state.fail(err);
      }
      return state.settle();
    }

    query(name: string, args: Payload[]): { tag: 'ok'; val: Payload } | { tag: 'err'; val: Failure } {
      const state = this.state;
      current = state;
      const handler = state.queryHandlers.get(name);
      if (handler === undefined) {
        const known = [...state.queryHandlers.keys()].join(', ') || 'none';
        return { tag: 'err', val: { message: `workflow ${state.workflowType} has no query handler named ${JSON.stringify(name)} (it answers ${known})`, errorType: 'QueryNotFound', nonRetryable: true, details: [] } };
      }
      try {
        const value: any = handler(...args.map(decode));
        if (typeof value?.then === 'function') throw new TypeError(`query handler ${name} returned a promise; query handlers are synchronous`);
        return { tag: 'ok', val: encode(value) };
      } catch (err) {
        return { tag: 'err', val: toWit(err) };
      }
    }
  }

  return {
    describe() {
      return { workflowTypes: [...types.keys()], maxRunsPerInstance: 0 };
    },
    Run,
  };
}
