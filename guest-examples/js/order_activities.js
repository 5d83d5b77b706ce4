// CreateOrder and ChargePayment in JavaScript: the contract in
// guest-examples/ORDER.md.
//
// Orders are JSON files in /orders, a directory weft preopens for this
// component when its config grants it; without the grant no file is
// reachable. Files and the environment go through WASI (weft/wasi.js).

import { activity, ApplicationError, heartbeat, log } from './weft/activity.js';
import { FsError, getEnv, readTextFile, writeTextFile } from './weft/wasi.js';

// componentize-js wires the `activity-guest` export to this module's
// `activityGuest` export; the SDK's dispatches to the registered activities.
export { activityGuest } from './weft/activity.js';

const ORDERS_DIR = '/orders';
// Only these characters, so that an order id cannot name a path outside /orders.
const ORDER_ID = /^[A-Za-z0-9_-]+$/;

activity('CreateOrder', (...args) => {
  const orderId = orderIdArg(args);
  checkCancelled();
  const amount = amountCents(orderId);
  // Granted in config (`env = { ORDER_CURRENCY = ... }`); without the grant
  // the variable does not exist in the sandbox.
  const currency = getEnv('ORDER_CURRENCY') ?? 'USD';
  const order = {
    order_id: orderId,
    items: [
      { sku: 'WIDGET-1', quantity: 1 + (amount % 3) },
      { sku: 'GADGET-7', quantity: 1 },
    ],
    amount_cents: amount,
    currency,
  };
  const path = orderPath(orderId);
  try {
    writeTextFile(path, JSON.stringify(order));
  } catch (err) {
    throw new ApplicationError(`cannot write ${path}: ${err.message}`, 'IoError', { nonRetryable: false });
  }
  log(`created order ${orderId} (${amount} cents) in ${path}`);
  return { order_id: orderId, status: 'created', amount_cents: amount, currency };
});

activity('ChargePayment', (...args) => {
  const orderId = orderIdArg(args);
  checkCancelled();
  if (orderId.includes('decline')) {
    throw new ApplicationError(`payment for order ${orderId} declined`, 'PaymentDeclined');
  }
  const path = orderPath(orderId);
  let text;
  try {
    text = readTextFile(path);
  } catch (err) {
    if (err instanceof FsError && err.code === 'no-entry') {
      throw new ApplicationError(
        `order ${orderId} does not exist (${path} not found); run CreateOrder first`,
        'OrderNotFound',
      );
    }
    throw new ApplicationError(`cannot read ${path}: ${err.message}`, 'IoError', { nonRetryable: false });
  }
  let order;
  try {
    order = JSON.parse(text);
  } catch (err) {
    throw new ApplicationError(`${path} is not valid JSON: ${err.message}`, 'CorruptOrder');
  }
  if (!Number.isInteger(order.amount_cents)) {
    throw new ApplicationError(`${path} has no numeric amount_cents`, 'CorruptOrder');
  }
  const amount = order.amount_cents;
  const currency = order.currency ?? null;
  log(`charged ${amount} cents (${currency}) for order ${orderId}`);
  return { order_id: orderId, status: 'charged', amount_cents: amount, currency };
});

/** The one argument both activities take: an order id, as a JSON string. */
function orderIdArg(args) {
  if (args.length !== 1) {
    throw new ApplicationError(`expected one argument (the order id), got ${args.length}`, 'InvalidOrderId');
  }
  const [orderId] = args;
  if (typeof orderId !== 'string' || !ORDER_ID.test(orderId)) {
    throw new ApplicationError(
      `order id ${JSON.stringify(orderId)} must be a non-empty string of A-Z, a-z, 0-9, '_' and '-'`,
      'InvalidOrderId',
    );
  }
  return orderId;
}

/** A made-up but deterministic price: the same order id always costs the same. */
function amountCents(orderId) {
  let sum = 0;
  for (const byte of new TextEncoder().encode(orderId)) sum += byte;
  return (sum % 9000) + 1000;
}

function orderPath(orderId) {
  return `${ORDERS_DIR}/${orderId}.json`;
}

/** Reports progress once; fails the attempt if cancellation was requested. */
function checkCancelled() {
  if (heartbeat()) throw new ApplicationError('activity was cancelled', 'Cancelled');
}
