// Workflows for the SDK's unit tests (sdk.test.mjs), compiled by tsc as
// guests are (ES2016: await runs through Promise.prototype.then).
import { CancellationScope, condition, isCancellation, proxyActivities, sleep } from '@weft/workflow';

const { work } = proxyActivities<{ work(n: number): Promise<number> }>({ startToCloseTimeout: '1 minute' });

/** A scope cancelled after its code awaited: what it started after the await is cancelled. */
export async function scopeAfterAwait(): Promise<string> {
  const scope = new CancellationScope();
  const inner = scope.run(async () => {
    await sleep(10);
    await sleep(20);
  });
  await sleep(5);
  scope.cancel();
  try {
    await inner;
    return 'not cancelled';
  } catch (e) {
    return isCancellation(e) ? 'cancelled' : `other: ${e}`;
  }
}

/** Cleanup in a non-cancellable scope runs though the run is cancelled. */
export async function shielded(): Promise<string> {
  try {
    await sleep(1000);
    return 'slept';
  } catch (e) {
    if (!isCancellation(e)) throw e;
    return await CancellationScope.nonCancellable(async () => {
      await sleep(1);
      return 'cleaned up';
    });
  }
}

/** An activity under a scope with a timeout. */
export async function timeout(): Promise<string> {
  try {
    return String(await CancellationScope.withTimeout(100, () => work(1)));
  } catch (e) {
    return isCancellation(e) ? 'timed out' : `other: ${e}`;
  }
}

/** `condition` evaluates its function at once; with a timeout, the timer is then cancelled. */
export async function conditions(): Promise<boolean> {
  await condition(() => true);
  return await condition(() => true, '1 minute');
}

/** `sleep(0)` waits at least 1 ms; `console` logs through the host. */
export async function zeroSleep(): Promise<string> {
  console.log('about to sleep', { ms: 0 });
  await sleep(0);
  return 'woke';
}

/** A nested cancellable scope inside a non-cancellable one is shielded too. */
export async function nested(): Promise<string> {
  return await CancellationScope.nonCancellable(() =>
    CancellationScope.cancellable(async () => {
      await sleep(50);
      return 'done';
    }),
  );
}
