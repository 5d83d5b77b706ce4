// The activities every workflow of src/workflows calls, on the official
// TypeScript SDK's worker (queue `sdk-compat-ts-activities`), for both
// arms: the official worker's workflows and weft's. Plain JavaScript, as the
// worker process runs it without a compile step; the types the workflows
// use are in activities.d.ts.

async function greet(name) {
  return `Hello, ${name}!`;
}

async function add(a, b) {
  return a + b;
}

/** The order of the timer sample: takes `ms` of real time. */
async function processOrder(ms) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return `processed in ${ms} ms`;
}

async function sendNotificationEmail() {
  return 'email sent';
}

async function activityA() {
  return 'A';
}

async function activityB() {
  return 'B';
}

/** Fails: an uncaught error is a retryable ApplicationFailure of type 'Error'. */
async function chargeCard(amount) {
  throw new Error(`card declined for ${amount}`);
}

module.exports = { greet, add, processOrder, sendNotificationEmail, activityA, activityB, chargeCard };
