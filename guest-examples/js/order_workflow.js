// OrderWorkflow in JavaScript: the contract in guest-examples/ORDER.md,
// written as for the Temporal TypeScript SDK (only the import line differs:
// '@temporalio/workflow' there, './weft/workflow.js' here).
//
// Creates the order, gives the customer a grace period to cancel (signal
// `cancel-order`; 1 s unless the third argument says), charges the payment,
// and returns both activity results. Query `status` shows where the order is.

import { ApplicationFailure, condition, defineQuery, defineSignal, log, proxyActivities, setHandler } from './weft/workflow.js';

const DEFAULT_ACTIVITY_QUEUE = 'ORDER_ACTIVITY_Q';
// The grace period unless the third argument says, and the longest it may be.
const DEFAULT_GRACE_MS = 1_000;
const MAX_GRACE_MS = 86_400_000;

export const cancelOrder = defineSignal('cancel-order');
export const status = defineQuery('status');

export async function OrderWorkflow(orderId, activityQueue = DEFAULT_ACTIVITY_QUEUE, graceMs = DEFAULT_GRACE_MS) {
  if (!Number.isInteger(graceMs) || graceMs < 1 || graceMs > MAX_GRACE_MS) {
    throw ApplicationFailure.nonRetryable(`argument 3 (grace_ms) must be a JSON integer from 1 to ${MAX_GRACE_MS}`, 'InvalidInput');
  }
  const { CreateOrder, ChargePayment } = proxyActivities({ taskQueue: activityQueue, startToCloseTimeout: '1 minute' });

  let state = 'creating';
  let cancelled = false;
  setHandler(status, () => state);
  setHandler(cancelOrder, () => {
    cancelled = true;
  });

  // A failed activity fails the workflow with its failure as received.
  const run = async (activity) => {
    try {
      return await activity(orderId);
    } catch (err) {
      state = 'failed';
      throw err;
    }
  };

  log.info(`order ${orderId}: creating order`);
  const created = await run(CreateOrder);

  // Grace period: whichever comes first, the timer or a cancel-order signal.
  state = 'grace';
  if (await condition(() => cancelled, graceMs)) {
    state = 'cancelled';
    throw ApplicationFailure.nonRetryable(`order ${orderId} cancelled`, 'OrderCancelled');
  }

  state = 'charging';
  const charged = await run(ChargePayment);

  state = 'completed';
  return { order_id: orderId, create_order: created, charge_payment: charged };
}
