// Runs every workflow of src/workflows on two arms and compares them:
//   official: the Temporal TypeScript SDK's worker (@temporalio/worker),
//             started here, bundling src/workflows/index.ts;
//   weft:     a weft host (started by tests/e2e/sdk_compat_ts.rs) serving
//             the component guest-examples/js/build.sh built from the same
//             files (`@temporalio/workflow` resolved to @weft/workflow).
// Both call the activities of src/activities.js, on the official SDK's
// activity worker started here. For each scenario it compares the results,
// the answers to queries and updates sent the same way to both, and the
// sequence of commands in each run's history (normalised: no ids, times or
// queue names). Prints one PASS/FAIL line per scenario, then
// "N of M scenarios passed"; exits 1 on any failure.
//
//   node compat.js --address 127.0.0.1:7233 --namespace NS --weft-queue Q [--only NAME]
const { parseArgs } = require('node:util');
const path = require('node:path');
const { isDeepStrictEqual } = require('node:util');
const { NativeConnection, Runtime, DefaultLogger, Worker } = require('@temporalio/worker');
const { Client, Connection } = require('@temporalio/client');
const activities = require('./src/activities');

const ACTIVITY_TASK_QUEUE = 'sdk-compat-ts-activities'; // src/workflows/queues.ts
const SCENARIO_DEADLINE_MS = 90_000;

const { values: opts } = parseArgs({
  options: {
    address: { type: 'string', default: '127.0.0.1:7233' },
    namespace: { type: 'string', default: 'default' },
    'weft-queue': { type: 'string' },
    'official-queue': { type: 'string', default: 'sdk-compat-ts-official' },
    only: { type: 'string' },
  },
});
if (!opts['weft-queue']) {
  console.error('--weft-queue is required');
  process.exit(2);
}

const sleepMs = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns something other than undefined. */
async function waitFor(what, check) {
  const deadline = Date.now() + SCENARIO_DEADLINE_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleepMs(100);
  }
}

/** What an error says, as both arms' callers see it. */
function describeFailure(err) {
  let e = err;
  while (e?.cause) e = e.cause;
  return { message: e?.message, type: e?.type ?? null };
}

/** A workflow's failure as its caller reads it: each level of the cause chain. */
function failureChain(failure) {
  const chain = [];
  for (let f = failure; f; f = f.cause) {
    chain.push({ name: f.name, message: f.message, type: f.type ?? null, nonRetryable: f.nonRetryable ?? null, details: f.details ?? null });
  }
  return chain;
}

// ---- the scenarios: each drives one workflow the same way on either arm ----

// A scenario that starts `type` with `args` and compares its result only.
function resultOf(type, args = []) {
  return {
    async run(client, queue, id) {
      const handle = await client.workflow.start(type, { taskQueue: queue, workflowId: id, args });
      return { result: await handle.result() };
    },
  };
}

const scenarios = [
  { name: 'activities', ...resultOf('helloActivities', ['Temporal']) },
  {
    name: 'signals-and-queries',
    async run(client, queue, id) {
      const handle = await client.workflow.start('signalsQueries', { taskQueue: queue, workflowId: id });
      await handle.signal('setValue', 'a', 1);
      await handle.signal('setValue', 'b', 2);
      const keys = await waitFor('both signals handled', async () => {
        const k = await handle.query('keys');
        return k.length === 2 ? k : undefined;
      });
      const queries = {
        keys,
        b_times_10: await handle.query('getValue', 'b', 10),
        a_times_3: await handle.query('getValue', 'a', 3),
        missing: await handle.query('getValue', 'zzz', 1),
      };
      await handle.signal('done');
      return { queries, result: await handle.result() };
    },
  },
  {
    name: 'update-with-validator',
    async run(client, queue, id) {
      const handle = await client.workflow.start('greetingWorkflow', { taskQueue: queue, workflowId: id });
      let rejected;
      try {
        await handle.executeUpdate('setLanguage', { args: ['klingon'] });
        rejected = 'accepted';
      } catch (err) {
        rejected = describeFailure(err);
      }
      const previous = await handle.executeUpdate('setLanguage', { args: ['chinese'] });
      const language = await handle.query('getLanguage');
      await handle.signal('approve', { name: 'me' });
      return { queries: { rejected, previous, language }, result: await handle.result() };
    },
  },
  { name: 'child-workflows', ...resultOf('parentWorkflow', ['alice', 'bob']) },
  {
    name: 'timer-race',
    async run(client, queue, id) {
      const handle = await client.workflow.start('processOrderWorkflow', {
        taskQueue: queue,
        workflowId: id,
        args: [{ orderProcessingMS: 2000, sendDelayedEmailTimeoutMS: 300 }],
      });
      return { result: await handle.result() };
    },
  },
  {
    name: 'continue-as-new',
    async run(client, queue, id) {
      const handle = await client.workflow.start('loopingWorkflow', { taskQueue: queue, workflowId: id, args: [0, 3] });
      return { result: await handle.result(), firstRunId: handle.firstExecutionRunId };
    },
  },
  { name: 'patched', ...resultOf('patchedWorkflow', ['customer-1']) },
  { name: 'external-signal', ...resultOf('signallingParent', ['hi']) },
  {
    name: 'failures',
    async run(client, queue, id) {
      const handle = await client.workflow.start('failingWorkflow', { taskQueue: queue, workflowId: id, args: [42] });
      try {
        return { result: { completed: await handle.result() } };
      } catch (err) {
        return { result: { failed: failureChain(err.cause) } };
      }
    },
  },
  {
    name: 'cancellation-scopes',
    async run(client, queue, id) {
      const handle = await client.workflow.start('cancellationScopes', { taskQueue: queue, workflowId: id, args: [300] });
      return { result: await handle.result() };
    },
  },
];

// ---- histories as command sequences ----

const decodeJson = (payload) => {
  try {
    return JSON.parse(Buffer.from(payload.data).toString('utf8'));
  } catch {
    return null;
  }
};
/** weft records the module version a run started on as a patch marker. */
const isWeftVersion = (id) => String(id).startsWith('weft.module/');
const millis = (d) => (d ? Number(d.seconds ?? 0) * 1000 + Math.round((d.nanos ?? 0) / 1e6) : null);

/**
 * The commands one run issued, in history order, without ids, times and
 * queue names; null for events that are not commands (or weft's own
 * `weft.module/...` version marker, which the official SDK has no need of).
 */
function command(event) {
  const a = (name) => event[name];
  if (a('activityTaskScheduledEventAttributes')) return `ActivityTaskScheduled ${a('activityTaskScheduledEventAttributes').activityType.name}`;
  if (a('activityTaskCancelRequestedEventAttributes')) return 'ActivityTaskCancelRequested';
  if (a('timerStartedEventAttributes')) return `TimerStarted ${millis(a('timerStartedEventAttributes').startToFireTimeout)}ms`;
  if (a('timerCanceledEventAttributes')) return 'TimerCanceled';
  if (a('startChildWorkflowExecutionInitiatedEventAttributes')) {
    return `StartChildWorkflowExecutionInitiated ${a('startChildWorkflowExecutionInitiatedEventAttributes').workflowType.name}`;
  }
  if (a('requestCancelExternalWorkflowExecutionInitiatedEventAttributes')) return 'RequestCancelExternalWorkflowExecutionInitiated';
  if (a('signalExternalWorkflowExecutionInitiatedEventAttributes')) {
    return `SignalExternalWorkflowExecutionInitiated ${a('signalExternalWorkflowExecutionInitiatedEventAttributes').signalName}`;
  }
  if (a('markerRecordedEventAttributes')) {
    const m = a('markerRecordedEventAttributes');
    const details = Object.fromEntries(Object.entries(m.details ?? {}).map(([k, v]) => [k, decodeJson(v.payloads?.[0] ?? {})]));
    const patch = details['patch-data'];
    if (patch && isWeftVersion(patch.id)) return null;
    return patch ? `MarkerRecorded ${m.markerName} ${patch.id} deprecated=${!!patch.deprecated}` : `MarkerRecorded ${m.markerName}`;
  }
  if (a('upsertWorkflowSearchAttributesEventAttributes')) {
    const fields = a('upsertWorkflowSearchAttributesEventAttributes').searchAttributes?.indexedFields ?? {};
    const values = Object.entries(fields)
      .map(([k, v]) => {
        let value = decodeJson(v);
        // Core lists the run's patches in TemporalChangeVersion: weft's
        // version marker is one of them.
        if (k === 'TemporalChangeVersion' && Array.isArray(value)) value = value.filter((id) => !isWeftVersion(id));
        return [k, value];
      })
      .filter(([k, v]) => !(k === 'TemporalChangeVersion' && v.length === 0))
      .sort(([x], [y]) => (x < y ? -1 : 1));
    return values.length === 0 ? null : `UpsertWorkflowSearchAttributes ${values.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`;
  }
  if (a('workflowPropertiesModifiedEventAttributes')) return 'WorkflowPropertiesModified';
  if (a('workflowExecutionUpdateAcceptedEventAttributes')) {
    return `WorkflowExecutionUpdateAccepted ${a('workflowExecutionUpdateAcceptedEventAttributes').acceptedRequest?.input?.name}`;
  }
  if (a('workflowExecutionUpdateCompletedEventAttributes')) {
    const outcome = a('workflowExecutionUpdateCompletedEventAttributes').outcome;
    return `WorkflowExecutionUpdateCompleted ${outcome?.failure ? 'failure' : 'success'}`;
  }
  if (a('workflowExecutionCompletedEventAttributes')) return 'WorkflowExecutionCompleted';
  if (a('workflowExecutionFailedEventAttributes')) return 'WorkflowExecutionFailed';
  if (a('workflowExecutionCanceledEventAttributes')) return 'WorkflowExecutionCanceled';
  if (a('workflowExecutionContinuedAsNewEventAttributes')) {
    const c = a('workflowExecutionContinuedAsNewEventAttributes');
    return `WorkflowExecutionContinuedAsNew ${c.workflowType?.name} ${JSON.stringify((c.input?.payloads ?? []).map(decodeJson))}`;
  }
  return null;
}

/** The commands of every run of workflow `id`, from `runId` on (following continue-as-new). */
async function commands(client, id, runId) {
  const runs = [];
  let next = runId;
  while (next) {
    const history = await client.workflow.getHandle(id, next).fetchHistory();
    runs.push(history.events.map(command).filter((c) => c !== null));
    const continued = history.events.find((e) => e.workflowExecutionContinuedAsNewEventAttributes);
    next = continued?.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId;
  }
  return runs;
}

async function runArm(client, scenario, arm, queue) {
  const id = `compat-ts-${scenario.name}-${arm}-${Date.now()}`;
  const out = await scenario.run(client, queue, id);
  const runId = out.firstRunId ?? (await client.workflow.getHandle(id).describe()).runId;
  delete out.firstRunId;
  return { id, ...out, commands: await commands(client, id, runId) };
}

async function main() {
  // ERROR: the activity and workflow failures the scenarios provoke log at WARN.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const nativeConnection = await NativeConnection.connect({ address: opts.address });
  const workflowWorker = await Worker.create({
    connection: nativeConnection,
    namespace: opts.namespace,
    taskQueue: opts['official-queue'],
    workflowsPath: path.join(__dirname, 'src/workflows/index.ts'),
  });
  const activityWorker = await Worker.create({
    connection: nativeConnection,
    namespace: opts.namespace,
    taskQueue: ACTIVITY_TASK_QUEUE,
    activities,
  });
  const workers = Promise.all([workflowWorker.run(), activityWorker.run()]);

  const connection = await Connection.connect({ address: opts.address });
  const client = new Client({ connection, namespace: opts.namespace });
  const selected = scenarios.filter((s) => !opts.only || opts.only.split(',').includes(s.name));
  // Scenarios and arms run at once: each has its own workflow ids.
  const outcomes = await Promise.all(
    selected.map(async (scenario) => {
      try {
        const [official, weft] = await Promise.all([
          runArm(client, scenario, 'official', opts['official-queue']),
          runArm(client, scenario, 'weft', opts['weft-queue']),
        ]);
        const diffs = [];
        for (const key of ['result', 'queries', 'commands']) {
          if (!isDeepStrictEqual(official[key], weft[key])) {
            diffs.push(`${key} differ:\n    official: ${JSON.stringify(official[key])}\n    weft:     ${JSON.stringify(weft[key])}`);
          }
        }
        const summary = `result ${JSON.stringify(official.result)}; ${official.commands.flat().length} commands in ${official.commands.length} run(s)`;
        return diffs.length === 0
          ? { ok: true, line: `PASS ${scenario.name}: ${summary}`, detail: official.commands.map((c) => `    ${c.join(' | ')}`).join('\n') }
          : { ok: false, line: `FAIL ${scenario.name}:\n  ${diffs.join('\n  ')}` };
      } catch (err) {
        return { ok: false, line: `FAIL ${scenario.name}: ${err?.stack ?? err}` };
      }
    }),
  );
  for (const o of outcomes) {
    console.log(o.line);
    if (o.detail) console.log(o.detail);
  }
  const passed = outcomes.filter((o) => o.ok).length;
  console.log(`${passed} of ${outcomes.length} scenarios passed`);

  workflowWorker.shutdown();
  activityWorker.shutdown();
  await workers;
  await connection.close();
  await nativeConnection.close();
  process.exit(passed === outcomes.length ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
