// Signalling another workflow, as in the docs' "send a signal from a
// workflow": the parent starts a child that waits for a signal, then
// signals it by id through getExternalWorkflowHandle and returns what the
// child saw.
import { condition, defineSignal, getExternalWorkflowHandle, setHandler, startChild } from '@temporalio/workflow';

export const unblockSignal = defineSignal<[string]>('unblock');

export async function signallingParent(message: string): Promise<string> {
  const child = await startChild(waitingChild);
  await getExternalWorkflowHandle(child.workflowId).signal(unblockSignal, message);
  return `child said: ${await child.result()}`;
}

export async function waitingChild(): Promise<string> {
  let received: string | undefined;
  setHandler(unblockSignal, (message) => {
    received = message;
  });
  await condition(() => received !== undefined);
  return received!;
}
