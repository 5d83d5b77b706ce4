// The side-by-side benchmark's TypeScript SDK arm (bench/side.sh): one
// process, a workflow worker and an activity worker, 100 workflow-task
// slots, 100 activity slots, 1,000 cached runs, as in the other arms.
//   node bench/ts-worker/worker.js --address 127.0.0.1:7233 \
//     --workflow-queue Q --activity-queue ORDER_ACTIVITY_Q --orders-dir /tmp/orders
const { parseArgs } = require('node:util');
const { NativeConnection, Runtime, Worker } = require('@temporalio/worker');
const { makeActivities } = require('./activities');

async function main() {
  const { values } = parseArgs({
    options: {
      address: { type: 'string', default: '127.0.0.1:7233' },
      namespace: { type: 'string', default: 'default' },
      'workflow-queue': { type: 'string' },
      'activity-queue': { type: 'string', default: 'ORDER_ACTIVITY_Q' },
      'orders-dir': { type: 'string' },
      'max-cached-workflows': { type: 'string', default: '1000' },
    },
  });
  Runtime.install({ logger: new (require('@temporalio/worker').DefaultLogger)('WARN') });
  const connection = await NativeConnection.connect({ address: values.address });
  const workflows = await Worker.create({
    connection,
    namespace: values.namespace,
    taskQueue: values['workflow-queue'],
    workflowsPath: require.resolve('./workflows'),
    maxCachedWorkflows: Number(values['max-cached-workflows']),
    maxConcurrentWorkflowTaskExecutions: 100,
  });
  const activities = await Worker.create({
    connection,
    namespace: values.namespace,
    taskQueue: values['activity-queue'],
    activities: makeActivities(values['orders-dir']),
    maxConcurrentActivityTaskExecutions: 100,
  });
  await Promise.all([workflows.run(), activities.run()]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
