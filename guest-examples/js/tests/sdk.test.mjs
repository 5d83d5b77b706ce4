// Unit tests of @weft/workflow on a fake host (fake-host.mjs): the commands
// a run issues and how it ends, activation by activation. Run by run.sh.
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { reset, state } from './fake-host.mjs';
import * as workflows from '../build/tsc/guest-examples/js/tests/workflows.js';
import { activationGuest } from '../build/tsc/guest-examples/js/weft/workflow.js';

const guest = activationGuest(workflows);
const json = (v) => ({ metadata: [['encoding', new TextEncoder().encode('json/plain')]], data: new TextEncoder().encode(JSON.stringify(v)) });
const fired = (handle) => ({ tag: 'resolved', val: { handle, outcome: { tag: 'ok', val: json(null) } } });
const cancelled = (handle) => ({
  tag: 'resolved',
  val: { handle, outcome: { tag: 'err', val: { message: 'cancelled', errorType: 'CancelledError', nonRetryable: true, details: [] } } },
});
const result = (status) => {
  assert.equal(status.tag, 'completed', JSON.stringify(status));
  assert.equal(status.val.tag, 'ok');
  return JSON.parse(new TextDecoder().decode(status.val.val.data));
};
const kinds = () => state.commands.map((c) => (c.kind === 'timer' ? `timer ${c.ms}` : c.kind === 'cancel' ? `cancel ${c.handle}` : c.kind));

beforeEach(reset);

test('a scope cancelled after an await cancels what its code started after the await', async () => {
  const run = new guest.Run('scopeAfterAwait', []);
  assert.equal((await run.activate([])).tag, 'waiting');
  assert.deepEqual(kinds(), ['timer 10', 'timer 5']);
  assert.equal((await run.activate([fired(1)])).tag, 'waiting');
  assert.deepEqual(kinds(), ['timer 10', 'timer 5', 'timer 20']);
  assert.equal(result(await run.activate([fired(2)])), 'cancelled');
  assert.deepEqual(kinds(), ['timer 10', 'timer 5', 'timer 20', 'cancel 3']);
});

test('a non-cancellable scope runs cleanup after the run is cancelled', async () => {
  const run = new guest.Run('shielded', []);
  await run.activate([]);
  assert.equal((await run.activate([{ tag: 'cancel-requested' }])).tag, 'waiting');
  assert.deepEqual(kinds(), ['timer 1000', 'cancel 1', 'timer 1']);
  assert.equal(result(await run.activate([cancelled(1), fired(2)])), 'cleaned up');
});

test('withTimeout cancels the activity when its timer fires', async () => {
  const run = new guest.Run('timeout', []);
  await run.activate([]);
  assert.deepEqual(kinds(), ['timer 100', 'activity']);
  assert.equal((await run.activate([fired(1)])).tag, 'waiting');
  assert.deepEqual(kinds(), ['timer 100', 'activity', 'cancel 2']);
  assert.equal(result(await run.activate([cancelled(2)])), 'timed out');
});

test('condition evaluates at once; with a timeout its timer is cancelled', async () => {
  const run = new guest.Run('conditions', []);
  assert.equal(result(await run.activate([])), true);
  assert.deepEqual(kinds(), ['timer 60000', 'cancel 1']);
});

test('sleep(0) is a 1 ms timer and console logs through the host', async () => {
  const run = new guest.Run('zeroSleep', []);
  await run.activate([]);
  assert.deepEqual(kinds(), ['timer 1']);
  assert.deepEqual(state.logs, [['info', 'about to sleep {"ms":0}']]);
  assert.equal(result(await run.activate([fired(1)])), 'woke');
});

test('a cancellable scope inside a non-cancellable one is shielded from the run cancellation', async () => {
  const run = new guest.Run('nested', []);
  await run.activate([]);
  assert.equal((await run.activate([{ tag: 'cancel-requested' }])).tag, 'waiting');
  assert.deepEqual(kinds(), ['timer 50']);
  assert.equal(result(await run.activate([fired(1)])), 'done');
});
