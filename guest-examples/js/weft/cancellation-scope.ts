// CancellationScope as in @temporalio/workflow: a tree of scopes rooted at
// the run's root scope (which the run's cancellation cancels). Timers,
// activities, children and conditions belong to the scope current when
// they start; cancelling a scope cancels what it holds and its cancellable
// children. A non-cancellable scope shields what it holds from its parents'
// cancellation (the TypeScript SDK's behaviour for new runs, its
// `NonCancellableScopesAreShieldedFromPropagation` flag).
//
// The TypeScript SDK finds the current scope with AsyncLocalStorage, which
// StarlingMonkey does not have. weft carries it the way Zone.js did before
// async context existed: the guest build compiles workflow code to ES2016,
// so `async`/`await` become generators driven through `Promise.prototype.then`,
// and the `then` below runs every callback in the scope that was current
// when the callback was registered. Code that is not compiled that way (a
// native `await`) continues in the root scope.

import { type Duration } from './duration.js';
import { CancelledFailure } from './failure.js';
import { run } from './executor.js';

/** The scope set by `run` or restored for a callback; null: the run's root scope. */
let currentScope: CancellationScope | null = null;

/** The engine's own `then`, for code that belongs to no scope (the executor's loop). */
export const nativeThen = Promise.prototype.then;

function inScope<A extends unknown[], R>(scope: CancellationScope | null, fn: unknown): unknown {
  if (typeof fn !== 'function') return fn;
  return function (this: unknown, ...args: A): R {
    const outer = currentScope;
    currentScope = scope;
    try {
      return fn.apply(this, args);
    } finally {
      currentScope = outer;
    }
  };
}

// A promise job starts with no scope set (every wrapper below restores the
// scope it found), so callbacks registered in the root scope need no
// wrapper: most code pays nothing.
Promise.prototype.then = function <T, R1, R2>(this: Promise<T>, onFulfilled?: unknown, onRejected?: unknown): Promise<R1 | R2> {
  const scope = currentScope;
  if (scope === null) return nativeThen.call(this, onFulfilled as any, onRejected as any) as Promise<R1 | R2>;
  return nativeThen.call(this, inScope(scope, onFulfilled) as any, inScope(scope, onRejected) as any) as Promise<R1 | R2>;
};

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
    const outer = currentScope;
    currentScope = this;
    try {
      return this.runInContext(fn);
    } finally {
      currentScope = outer;
    }
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
    return currentScope ?? run().rootScope;
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
