// CreateOrder and ChargePayment of guest-examples/ORDER.md on the official
// TypeScript SDK: the order file lives in a real directory (weft's guests
// see it as /orders).
const fs = require('node:fs/promises');
const path = require('node:path');
const { Context } = require('@temporalio/activity');
const { ApplicationFailure } = require('@temporalio/common');

function makeActivities(ordersDir) {
  const currency = process.env.ORDER_CURRENCY || 'USD';
  const fail = (type, message, nonRetryable) =>
    ApplicationFailure.create({ type, message, nonRetryable });

  // The contract's first steps: check the id, heartbeat once, honour a cancel.
  function start(orderId) {
    if (typeof orderId !== 'string' || !/^[A-Za-z0-9_-]+$/.test(orderId)) {
      throw fail('InvalidOrderId', `bad order id ${JSON.stringify(orderId)}`, true);
    }
    const ctx = Context.current();
    ctx.heartbeat();
    if (ctx.cancellationSignal.aborted) throw fail('Cancelled', 'activity cancelled', true);
  }
  const amount = (orderId) =>
    [...Buffer.from(orderId)].reduce((a, b) => a + b, 0) % 9000 + 1000;

  return {
    async CreateOrder(orderId) {
      start(orderId);
      const order = { order_id: orderId, amount_cents: amount(orderId), currency };
      try {
        await fs.writeFile(path.join(ordersDir, `${orderId}.json`), JSON.stringify(order));
      } catch (e) {
        throw fail('IoError', String(e), false);
      }
      return { ...order, status: 'created' };
    },
    async ChargePayment(orderId) {
      start(orderId);
      if (orderId.includes('decline')) {
        throw fail('PaymentDeclined', `payment for order ${orderId} declined`, true);
      }
      let order;
      try {
        order = JSON.parse(await fs.readFile(path.join(ordersDir, `${orderId}.json`), 'utf8'));
      } catch (e) {
        throw fail('OrderNotFound', `no order ${orderId}`, true);
      }
      return {
        order_id: orderId, status: 'charged',
        amount_cents: order.amount_cents, currency: order.currency,
      };
    },
  };
}

module.exports = { makeActivities };
