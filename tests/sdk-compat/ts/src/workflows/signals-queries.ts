// Signals and queries with arguments, as in the samples' signals-queries
// and message-passing: a signal sets a value under a key, a query reads one
// key scaled, a second signal ends the run.
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';

export const setValueSignal = defineSignal<[string, number]>('setValue');
export const getValueQuery = defineQuery<number | null, [string, number]>('getValue');
export const keysQuery = defineQuery<string[]>('keys');
export const doneSignal = defineSignal('done');

export async function signalsQueries(): Promise<Record<string, number>> {
  const values: Record<string, number> = {};
  let done = false;
  setHandler(setValueSignal, (key, value) => {
    values[key] = value;
  });
  setHandler(getValueQuery, (key, scale) => (key in values ? values[key] * scale : null));
  setHandler(keysQuery, () => Object.keys(values).sort());
  setHandler(doneSignal, () => {
    done = true;
  });
  await condition(() => done);
  return values;
}
