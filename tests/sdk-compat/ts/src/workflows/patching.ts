// A patched change, as in the samples' patching-api (v2: both code paths
// under `patched`), with a deprecated patch and a search attribute.
import { deprecatePatch, patched, proxyActivities, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type * as activities from '../activities';
import { ACTIVITY_TASK_QUEUE } from './queues';

const { activityA, activityB } = proxyActivities<typeof activities>({
  taskQueue: ACTIVITY_TASK_QUEUE,
  startToCloseTimeout: '30 seconds',
});

export async function patchedWorkflow(customerId: string): Promise<string> {
  deprecatePatch('v1-cleanup');
  let result: string;
  if (patched('my-change-id')) {
    result = await activityB();
    await sleep(100);
  } else {
    result = await activityA();
    await sleep(100);
  }
  upsertSearchAttributes({ CustomerId: [customerId] });
  return result;
}
