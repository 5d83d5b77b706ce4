// Activities, as in the samples' hello-world and activities-examples: one
// activity, then two at once (Promise.all), with workflowInfo, uuid4, log
// and console.
import { log, proxyActivities, uuid4, workflowInfo } from '@temporalio/workflow';
import type * as activities from '../activities';
import { ACTIVITY_TASK_QUEUE } from './queues';

const { greet, add } = proxyActivities<typeof activities>({
  taskQueue: ACTIVITY_TASK_QUEUE,
  startToCloseTimeout: '1 minute',
});

export async function helloActivities(name: string): Promise<{ greeting: string; sums: number[]; workflowType: string; uuidOk: boolean }> {
  const greeting = await greet(name);
  log.info('greeted', { name });
  const sums = await Promise.all([add(1, 2), add(40, 2)]);
  console.log('sums', sums);
  const id = uuid4();
  return {
    greeting,
    sums,
    workflowType: workflowInfo().workflowType,
    uuidOk: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id),
  };
}
