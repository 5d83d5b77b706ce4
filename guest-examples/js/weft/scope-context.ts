// The CancellationScope that code runs in, carried across `await`.
//
// The TypeScript SDK keeps it in Node's AsyncLocalStorage, which
// StarlingMonkey does not have. weft's guest build compiles workflow code to
// ES2016, where every async function runs through tsc's `__awaiter` helper
// (a generator resumed from promise callbacks), and resolve-imports.mjs
// points that helper at `weftAwaiter` below: an async function keeps the
// scope that was current when it was called, whenever it resumes, as
// AsyncLocalStorage would give it. (Callbacks passed to `.then` run in the
// root scope; patching Promise.prototype.then instead doubled the time of an
// activation, measured with bench/parked.sh.)
//
// This module has no async function of its own: it must be evaluated
// before any module that has one calls it.

/** The current scope; null: the run's root scope. */
let current: object | null = null;

/** The current scope (null: the run's root scope). */
export function currentScope(): object | null {
  return current;
}

/** Runs `fn` with `scope` current (what `fn` calls, and the async functions it starts). */
export function runInScope<T>(scope: object | null, fn: () => T): T {
  const outer = current;
  current = scope;
  try {
    return fn();
  } finally {
    current = outer;
  }
}

type Step = { done?: boolean; value: unknown };

/** tsc's `__awaiter` (ES2016 output), resuming the function in the scope it was called in. */
function weftAwaiter(thisArg: unknown, args: unknown, P: PromiseConstructor | undefined, generator: any): Promise<unknown> {
  const scope = current;
  const Ctor = P ?? Promise;
  const adopt = (value: unknown): Promise<unknown> => (value instanceof Ctor ? value : new Ctor((resolve) => resolve(value)));
  return new Ctor((resolve, reject) => {
    const resume = (method: 'next' | 'throw', value: unknown): void => {
      const outer = current;
      current = scope;
      try {
        step(generator[method](value));
      } catch (e) {
        reject(e);
      } finally {
        current = outer;
      }
    };
    const fulfilled = (value: unknown): void => resume('next', value);
    const rejected = (value: unknown): void => resume('throw', value);
    const step = (result: Step): void => {
      if (result.done) resolve(result.value);
      else adopt(result.value).then(fulfilled, rejected);
    };
    // The first step runs now, in the caller's scope (which is `scope`).
    generator = generator.apply(thisArg, args || []);
    step(generator.next());
  });
}

(globalThis as { __weftAwaiter?: unknown }).__weftAwaiter = weftAwaiter;
