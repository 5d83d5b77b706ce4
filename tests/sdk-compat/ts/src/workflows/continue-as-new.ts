// Continue-as-new, as in the samples' continue-as-new: each run sleeps,
// then continues as new with the next iteration, until the last.
import { continueAsNew, log, sleep } from '@temporalio/workflow';

export async function loopingWorkflow(iteration = 0, last = 3): Promise<string> {
  if (iteration === last) {
    return `done after ${iteration} iterations`;
  }
  log.info('Running Workflow iteration', { iteration });
  await sleep(100);
  await continueAsNew<typeof loopingWorkflow>(iteration + 1, last);
  return 'unreachable';
}
