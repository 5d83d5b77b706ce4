// A fake `weft:plugin/activation-host` for the SDK's unit tests (hooks.mjs
// resolves the import to this module): it numbers handles as the host does
// and records every call as a command, so a test can assert what the run
// asked for, in order.

export const state = { commands: [], logs: [], next: 1 };

/** Forgets everything: a fresh run. */
export function reset() {
  state.commands = [];
  state.logs = [];
  state.next = 1;
}

function start(kind, fields) {
  const handle = state.next++;
  state.commands.push({ kind, handle, ...fields });
  return handle;
}

export const info = () => ({ workflowType: 'T', workflowId: 'wf-1', runId: 'run-1', namespace: 'default', taskQueue: 'q', attempt: 1 });
export const now = () => 1_700_000_000_000n;
export const random = () => 0x0123_4567_89ab_cdefn;
export const isReplaying = () => false;
export const log = (level, message) => state.logs.push([level, message]);
export const startActivity = (type) => start('activity', { type });
export const startLocalActivity = (type) => start('local-activity', { type });
export const startTimer = (ms) => start('timer', { ms: Number(ms) });
export const startChild = (type, _args, options) => start('child', { type, workflowId: options.workflowId });
export const signalWorkflow = (workflowId, name) => start('signal-workflow', { workflowId, name });
export const cancelWorkflow = (workflowId) => start('cancel-workflow', { workflowId });
export const cancel = (handle) => state.commands.push({ kind: 'cancel', handle });
export const patched = (id) => (state.commands.push({ kind: 'patched', id }), true);
export const deprecatePatch = (id) => state.commands.push({ kind: 'deprecate-patch', id });
export const upsertSearchAttributes = (attributes) => state.commands.push({ kind: 'upsert-search-attributes', names: attributes.map(([k]) => k) });
export const upsertMemo = (fields) => state.commands.push({ kind: 'upsert-memo', names: fields.map(([k]) => k) });
export const acceptUpdate = (id) => state.commands.push({ kind: 'accept-update', id });
export const rejectUpdate = (id, failure) => state.commands.push({ kind: 'reject-update', id, message: failure.message });
export const completeUpdate = (id, outcome) => state.commands.push({ kind: 'complete-update', id, ok: outcome.tag === 'ok' });
