// OrderWorkflow in JavaScript: the contract in guest-examples/ORDER.md.
//
// Creates the order, gives the customer a 1 s grace period to cancel (signal
// `cancel-order`), charges the payment, and returns both activity results.
// Query `status` shows where the order is.

import { ApplicationError, executeActivity, log, nextSignal, setQuery, startTimer, waitAny, workflow } from './weft/workflow.js';

// componentize-js wires the `workflow-guest` export to this module's
// `workflowGuest` export; the SDK's dispatches to the registered workflows.
export { workflowGuest } from './weft/workflow.js';

const DEFAULT_ACTIVITY_QUEUE = 'ORDER_ACTIVITY_Q';
const ACTIVITY_TIMEOUT_MS = 60_000;
const GRACE_MS = 1_000;

workflow('OrderWorkflow', (orderId, activityQueue = DEFAULT_ACTIVITY_QUEUE) => {
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
  const timer = startTimer(GRACE_MS);
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
