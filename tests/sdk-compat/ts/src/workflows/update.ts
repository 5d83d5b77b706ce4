// An update with a validator, as in the samples' message-passing
// introduction: setLanguage refuses languages it has no greeting for
// (before it is accepted), then calls an activity and answers the old
// language; a signal approves and ends the run.
import { condition, defineQuery, defineSignal, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';
import type * as activities from '../activities';
import { ACTIVITY_TASK_QUEUE } from './queues';

const { greet } = proxyActivities<typeof activities>({
  taskQueue: ACTIVITY_TASK_QUEUE,
  startToCloseTimeout: '10 seconds',
});

const greetings: Record<string, string> = { english: 'Hello', chinese: '你好，世界', french: 'Bonjour' };

export const getLanguageQuery = defineQuery<string>('getLanguage');
export const setLanguageUpdate = defineUpdate<string, [string]>('setLanguage');
export const approveSignal = defineSignal<[{ name: string }]>('approve');

export async function greetingWorkflow(): Promise<string> {
  let language = 'english';
  let approvedBy: string | undefined;
  setHandler(getLanguageQuery, () => language);
  setHandler(
    setLanguageUpdate,
    async (newLanguage: string) => {
      const previous = language;
      language = newLanguage;
      // A handler may wait on history while the main function waits too.
      await greet(newLanguage);
      return previous;
    },
    {
      validator: (newLanguage: string): void => {
        if (!(newLanguage in greetings)) throw new Error(`${newLanguage} is not supported`);
      },
    },
  );
  setHandler(approveSignal, (input) => {
    approvedBy = input.name;
  });
  await condition(() => approvedBy !== undefined);
  return `${greetings[language]} (approved by ${approvedBy})`;
}
