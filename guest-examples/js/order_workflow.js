// OrderWorkflow in JavaScript: the contract in guest-examples/ORDER.md.
//
// Creates the order, gives the customer a grace period to cancel (signal
// `cancel-order`; 1 s unless the third argument says), charges the payment,
// and returns both activity results.
// Query `status` shows where the order is.

import { ApplicationError, executeActivity, log, nextSignal, setQuery, startTimer, waitAny, workflow } from './weft/workflow.js';

// componentize-js wires the `workflow-guest` export to this module's
// `workflowGuest` export; the SDK's dispatches to the registered workflows.
export { workflowGuest } from './weft/workflow.js';

const DEFAULT_ACTIVITY_QUEUE = 'ORDER_ACTIVITY_Q';
const ACTIVITY_TIMEOUT_MS = 60_000;
// The grace period unless the third argument says, and the longest it may be.
const DEFAULT_GRACE_MS = 1_000;
const MAX_GRACE_MS = 86_400_000;

workflow('OrderWorkflow', (orderId, activityQueue = DEFAULT_ACTIVITY_QUEUE, graceMs = DEFAULT_GRACE_MS) => {
  if (!Number.isInteger(graceMs) || graceMs < 1 || graceMs > MAX_GRACE_MS) {
    const message = `argument 3 (grace_ms) must be a JSON integer from 1 to ${MAX_GRACE_MS}`;
    throw new ApplicationError(message, 'InvalidInput', { nonRetryable: true });
  }

  const runActivity = (activityType) => {
    try {
      return executeActivity(activityType, [orderId], {
        taskQueue: activityQueue,
        startToCloseTimeoutMs: ACTIVITY_TIMEOUT_MS,
      });
    } catch (err) {
      // Fail the workflow with the activity's failure as received.
      setQuery('status', 'failed');
      throw err;
    }
  };

  setQuery('status', 'creating');
  log(`order ${orderId}: creating order`);
  const created = runActivity('CreateOrder');

  // Grace period: whichever comes first, the timer or a cancel-order signal.
  setQuery('status', 'grace');
  const timer = startTimer(graceMs);
  const cancel = nextSignal('cancel-order');
  if (waitAny(timer, cancel) === cancel) {
    timer.cancel();
    setQuery('status', 'cancelled');
    throw new ApplicationError(`order ${orderId} cancelled`, 'OrderCancelled', { nonRetryable: true });
  }

  setQuery('status', 'charging');
  const charged = runActivity('ChargePayment');

  setQuery('status', 'completed');
  return { order_id: orderId, create_order: created, charge_payment: charged };
});
