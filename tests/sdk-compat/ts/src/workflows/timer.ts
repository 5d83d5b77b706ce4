// A timer race, as in the samples' timer-examples: processing the order
// races a timer; when the timer wins, a notification email goes out first.
import { proxyActivities, sleep } from '@temporalio/workflow';
import type * as activities from '../activities';
import { ACTIVITY_TASK_QUEUE } from './queues';

const { processOrder, sendNotificationEmail } = proxyActivities<typeof activities>({
  taskQueue: ACTIVITY_TASK_QUEUE,
  startToCloseTimeout: '5 minutes',
});

export async function processOrderWorkflow({
  orderProcessingMS,
  sendDelayedEmailTimeoutMS,
}: {
  orderProcessingMS: number;
  sendDelayedEmailTimeoutMS: number;
}): Promise<string> {
  let processing = true;
  const processOrderPromise = processOrder(orderProcessingMS).then(() => {
    processing = false;
  });

  await Promise.race([processOrderPromise, sleep(sendDelayedEmailTimeoutMS)]);

  if (processing) {
    await sendNotificationEmail();
    await processOrderPromise;
  }
  return 'Order completed!';
}
