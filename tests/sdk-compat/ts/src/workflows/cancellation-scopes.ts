// CancellationScope, as in the samples' cancellation-scopes: a timer
// cancelled by its scope, activities under a scope with a timeout, and
// cleanup in a non-cancellable scope.
import { CancellationScope, CancelledFailure, condition, isCancellation, proxyActivities, sleep } from '@temporalio/workflow';
import type * as activities from '../activities';
import { ACTIVITY_TASK_QUEUE } from './queues';

const { processOrder, greet } = proxyActivities<typeof activities>({
  taskQueue: ACTIVITY_TASK_QUEUE,
  startToCloseTimeout: '1 minute',
});

export async function cancellationScopes(timeoutMs: number): Promise<string[]> {
  const outcomes: string[] = [];

  // cancelTimer: timers and activities are cancelled with their scope.
  try {
    await CancellationScope.cancellable(async () => {
      const promise = sleep(1);
      CancellationScope.current().cancel();
      await promise;
    });
  } catch (e) {
    if (e instanceof CancelledFailure) outcomes.push('timer cancelled');
    else throw e;
  }

  // multipleActivitiesSingleTimeout: one timeout for all of them.
  try {
    await CancellationScope.withTimeout(timeoutMs, () => Promise.all([processOrder(5000), processOrder(5000)]));
    outcomes.push('processed');
  } catch (e) {
    if (isCancellation(e)) outcomes.push('timed out');
    else throw e;
  }

  // A scope cancelled later: what it starts after an await belongs to it too.
  const scope = new CancellationScope();
  let sleeping = false;
  const inner = scope.run(async () => {
    await greet('inner');
    sleeping = true;
    await sleep('1 day');
  });
  await condition(() => sleeping);
  await sleep(100);
  scope.cancel();
  try {
    await inner;
  } catch (e) {
    if (isCancellation(e)) outcomes.push('inner timer cancelled');
    else throw e;
  }

  // Cleanup that its parent's cancellation must not stop.
  outcomes.push(await CancellationScope.nonCancellable(() => greet('cleanup')));
  return outcomes;
}
