// CancellationScope as in @temporalio/workflow: a tree of scopes rooted at
// the run's root scope (which the run's cancellation cancels). Timers,
// activities, children and conditions belong to the scope current when
// they start; cancelling a scope cancels what it holds and its cancellable
// children. A non-cancellable scope shields what it holds from its parents'
// cancellation (the TypeScript SDK's behaviour for new runs, its
// `NonCancellableScopesAreShieldedFromPropagation` flag).
//
// The TypeScript SDK finds the current scope with AsyncLocalStorage, which
// StarlingMonkey does not have: scope-context.ts carries it across `await`.

import { type Duration } from './duration.js';
import { CancelledFailure } from './failure.js';
import { run } from './executor.js';
import { currentScope, runInScope } from './scope-context.js';

/** Options of `new CancellationScope(...)`. */
export interface CancellationScopeOptions {
  /** Cancel the scope after this long (a durable timer). */
  timeout?: Duration;
  /** False: the parent's cancellation does not reach this scope. */
  cancellable: boolean;
  /** The parent; the current scope when unset. */
  parent?: CancellationScope | typeof NO_PARENT;
}

const NO_PARENT = Symbol('NO_PARENT');

// The sleep of `withTimeout`: set by workflow.ts (which imports this module).
let sleepImpl: (ms: Duration) => Promise<void> = () => {
  throw new Error('the workflow SDK is not loaded');
};

/** Used by workflow.ts to give scopes their timer. */
export function registerSleepImplementation(fn: (ms: Duration) => Promise<void>): void {
  sleepImpl = fn;
}

export class CancellationScope {
  protected readonly timeout?: Duration;
  public readonly cancellable: boolean;
  public readonly parent?: CancellationScope;
  /** Rejects once the scope is cancelled. */
  public readonly cancelRequested: Promise<never>;
  private requested = false;
  protected reject!: (reason?: unknown) => void;

  constructor(options?: CancellationScopeOptions) {
    this.timeout = options?.timeout;
    this.cancellable = options?.cancellable ?? true;
    this.cancelRequested = new Promise<never>((_, reject) => {
      this.reject = (err) => {
        this.requested = true;
        reject(err);
      };
    });
    // Nobody needs to await it.
    this.cancelRequested.catch(() => undefined);
    if (options?.parent !== NO_PARENT) {
      const parent = options?.parent ?? CancellationScope.current();
      this.parent = parent;
      if (parent.cancellable) {
        this.requested = parent.requested;
        parent.cancelRequested.catch((err) => this.reject(err));
      }
    }
  }

  /** True once cancelled, for a cancellable scope. */
  public get consideredCancelled(): boolean {
    return this.requested && this.cancellable;
  }

  /** Runs `fn` in this scope: what it starts belongs to the scope. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return runInScope(this, () => this.runInContext(fn));
  }

  protected async runInContext<T>(fn: () => Promise<T>): Promise<T> {
    let timerScope: CancellationScope | undefined;
    if (this.timeout !== undefined) {
      timerScope = new CancellationScope();
      const timeout = this.timeout;
      timerScope
        .run(() => sleepImpl(timeout))
        .then(
          () => this.cancel(),
          () => {
            // the timer was cancelled: the scope ended first
          },
        );
    }
    try {
      return await fn();
    } finally {
      if (timerScope && !timerScope.consideredCancelled) timerScope.cancel();
    }
  }

  /** Cancels the scope: what it holds rejects with a CancelledFailure. */
  cancel(): void {
    this.reject(new CancelledFailure('Cancellation scope cancelled'));
  }

  /** The scope the calling code runs in (the run's root scope outside any). */
  static current(): CancellationScope {
    return (currentScope() as CancellationScope | null) ?? run().rootScope;
  }

  /** Runs `fn` in a new cancellable scope. */
  static cancellable<T>(fn: () => Promise<T>): Promise<T> {
    return new this({ cancellable: true }).run(fn);
  }

  /** Runs `fn` in a new scope that its parents' cancellation does not reach. */
  static nonCancellable<T>(fn: () => Promise<T>): Promise<T> {
    return new this({ cancellable: false }).run(fn);
  }

  /** Runs `fn` in a new cancellable scope that is cancelled after `timeout`. */
  static withTimeout<T>(timeout: Duration, fn: () => Promise<T>): Promise<T> {
    return new this({ cancellable: true, timeout }).run(fn);
  }
}

/** The run's root scope: the run's cancellation cancels it. */
export class RootCancellationScope extends CancellationScope {
  constructor() {
    super({ cancellable: true, parent: NO_PARENT });
  }

  cancel(): void {
    this.reject(new CancelledFailure('Workflow cancelled'));
  }
}
