// Workflows that exercise the JavaScript SDK beyond OrderWorkflow: a query
// with arguments, an update with a validator whose handler waits on a
// timer, a signal, `condition`, continue-as-new, `patched`, `uuid4`,
// workflow time and cancellation. tests/e2e/js_sdk.rs runs them
// (`sdk_workflows_js.wasm`).

import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  log,
  patched,
  setHandler,
  sleep,
  uuid4,
  workflowInfo,
} from './weft/workflow.js';

export const get = defineQuery('get');
export const add = defineUpdate('add');
export const finish = defineSignal('finish');

/**
 * Counts what update `add` adds (positive integers only: the validator
 * refuses anything else before it is accepted) until signal `finish`.
 * Query `get(key, scale = 1)` answers `counts[key] * scale`.
 */
export async function Counter(start = 0) {
  const counts = { total: start, updates: 0 };
  let finished = false;
  setHandler(get, (key, scale = 1) => {
    if (!(key in counts)) throw new Error(`no count named ${key}`);
    return counts[key] * scale;
  });
  setHandler(
    add,
    async (n) => {
      // A handler may wait on history while the main function waits too.
      await sleep(10);
      counts.total += n;
      counts.updates += 1;
      return counts.total;
    },
    {
      validator: (n) => {
        if (!Number.isInteger(n) || n <= 0) throw new Error(`add takes a positive integer, got ${JSON.stringify(n)}`);
      },
    },
  );
  setHandler(finish, () => {
    finished = true;
  });
  await condition(() => finished);
  return counts;
}

/**
 * Continues as new `n` times, carrying the run ids seen; then returns them
 * with facts the SDK gives deterministically (uuid4, workflow time, a patch).
 */
export async function Chain(n, runs = []) {
  const info = workflowInfo();
  runs = [...runs, info.runId];
  if (n > 0) {
    await continueAsNew(n - 1, runs);
  }
  const uuid = uuid4();
  const now = Date.now();
  await sleep('1 ms');
  return {
    runs,
    uuid_v4: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuid),
    workflow_time: now > 1_600_000_000_000 && Date.now() >= now,
    patched: patched('chain-v2'),
    workflow_type: info.workflowType,
  };
}

/** Sleeps a day; cancelling the run ends it as cancelled, after a log line. */
export async function Sleeper() {
  try {
    await sleep('1 day');
    return 'woke';
  } catch (err) {
    if (isCancellation(err)) log.info('sleeper cancelled');
    throw err;
  }
}
