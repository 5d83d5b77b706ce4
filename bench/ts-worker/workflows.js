// The OrderWorkflow of guest-examples/ORDER.md on the official TypeScript
// SDK (plain JavaScript: the worker bundles this file for its sandbox).
const wf = require('@temporalio/workflow');

const MAX_GRACE_MS = 86400000;
const cancelOrder = wf.defineSignal('cancel-order');
const statusQuery = wf.defineQuery('status');

async function OrderWorkflow(orderId, queue = 'ORDER_ACTIVITY_Q', graceMs = 1000) {
  if (!Number.isInteger(graceMs) || graceMs < 1 || graceMs > MAX_GRACE_MS) {
    throw wf.ApplicationFailure.create({
      message: 'grace_ms out of range', type: 'InvalidInput', nonRetryable: true,
    });
  }
  let status = '';
  let cancel = false;
  wf.setHandler(statusQuery, () => status);
  wf.setHandler(cancelOrder, () => { cancel = true; });
  const { CreateOrder, ChargePayment } = wf.proxyActivities({
    taskQueue: queue,
    startToCloseTimeout: 60000,
  });
  const step = async (run) => {
    try {
      return await run(orderId);
    } catch (e) {
      status = 'failed';
      throw e;
    }
  };
  status = 'creating';
  wf.log.info(`order ${orderId}: creating order`);
  const created = await step(CreateOrder);
  status = 'grace';
  if (await wf.condition(() => cancel, graceMs)) {
    status = 'cancelled';
    throw wf.ApplicationFailure.create({
      message: `order ${orderId} cancelled`, type: 'OrderCancelled', nonRetryable: true,
    });
  }
  status = 'charging';
  const charged = await step(ChargePayment);
  status = 'completed';
  return { order_id: orderId, create_order: created, charge_payment: charged };
}

module.exports = { OrderWorkflow };
