// Failures, as in the samples' activities-examples and the docs' failure
// handling: an activity that fails (one attempt), caught as an
// ActivityFailure whose cause is the activity's ApplicationFailure; the
// workflow then fails with its own non-retryable ApplicationFailure.
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities';
import { ACTIVITY_TASK_QUEUE } from './queues';

const { chargeCard } = proxyActivities<typeof activities>({
  taskQueue: ACTIVITY_TASK_QUEUE,
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});

export async function failingWorkflow(amount: number): Promise<string> {
  try {
    return await chargeCard(amount);
  } catch (err) {
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      throw ApplicationFailure.create({
        message: `payment failed: ${err.cause.message}`,
        type: 'PaymentFailed',
        nonRetryable: true,
        details: [err.activityType, err.cause.type, err.cause.nonRetryable],
      });
    }
    throw err;
  }
}
