// Failures as in @temporalio/workflow (@temporalio/common): the classes a
// workflow throws and catches, and their mapping to the WIT `failure`.
//
// A workflow that throws a TemporalFailure (ApplicationFailure,
// ActivityFailure, ChildWorkflowFailure, CancelledFailure) fails; any other
// error is a bug: it fails the workflow task, which Temporal retries.

import { decode, encode } from './payload.js';

/** Base of the failures Temporal carries across SDKs. */
export class TemporalFailure extends Error {
  constructor(message, cause) {
    super(message ?? '');
    this.name = 'TemporalFailure';
    this.cause = cause;
  }
}

/**
 * A failure the application raises (type, message, nonRetryable, details).
 * Retryable unless created non-retryable, as in the TypeScript SDK.
 */
export class ApplicationFailure extends TemporalFailure {
  constructor(message, type, nonRetryable = false, details = [], cause = undefined) {
    super(message, cause);
    this.name = 'ApplicationFailure';
    this.type = type ?? undefined;
    this.nonRetryable = !!nonRetryable;
    this.details = details ?? [];
  }

  /** `ApplicationFailure.create({ message, type, nonRetryable, details, cause })`. */
  static create({ message, type, nonRetryable = false, details = [], cause } = {}) {
    return new ApplicationFailure(message, type, nonRetryable, details, cause);
  }

  /** A retryable failure. */
  static retryable(message, type, ...details) {
    return new ApplicationFailure(message, type ?? 'Error', false, details);
  }

  /** A failure that retrying cannot help. */
  static nonRetryable(message, type, ...details) {
    return new ApplicationFailure(message, type ?? 'Error', true, details);
  }

  /** From a WIT `failure` record (details decoded when JSON). */
  static fromWit(failure) {
    return new ApplicationFailure(failure.message, failure.errorType, failure.nonRetryable, failure.details.map(decodeDetail));
  }
}

/** A cancellation: of the run, a timer, an activity or a child. */
export class CancelledFailure extends TemporalFailure {
  constructor(message = 'cancelled', details = [], cause = undefined) {
    super(message, cause);
    this.name = 'CancelledFailure';
    this.details = details;
  }
}

/** An activity failed; `cause` says why (an ApplicationFailure, a CancelledFailure). */
export class ActivityFailure extends TemporalFailure {
  constructor(message, activityType, activityId, cause) {
    super(message, cause);
    this.name = 'ActivityFailure';
    this.activityType = activityType;
    this.activityId = activityId;
  }
}

/** A child workflow failed (or did not start); `cause` says why. */
export class ChildWorkflowFailure extends TemporalFailure {
  constructor(message, workflowType, workflowId, cause) {
    super(message, cause);
    this.name = 'ChildWorkflowFailure';
    this.workflowType = workflowType;
    this.workflowId = workflowId;
  }
}

/** Thrown by `continueAsNew`: ends the run and starts a fresh one. */
export class ContinueAsNew extends Error {
  constructor(args) {
    super('Workflow continued as new');
    this.name = 'ContinueAsNew';
    this.args = args;
  }
}

/** True for a cancellation, also one wrapped in an ActivityFailure or ChildWorkflowFailure. */
export function isCancellation(err) {
  return err instanceof CancelledFailure || ((err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) && err.cause instanceof CancelledFailure);
}

const CANCELLED_ERROR = 'CancelledError';

/** A WIT failure that reached the run, as the error it throws. */
export function fromWit(failure) {
  if (failure.errorType === CANCELLED_ERROR) return new CancelledFailure(failure.message, failure.details.map(decodeDetail));
  return ApplicationFailure.fromWit(failure);
}

/**
 * The WIT `failure` a TemporalFailure ends the run (or an update) with. An
 * ActivityFailure or ChildWorkflowFailure passes on its cause as received,
 * so a workflow that rethrows fails with the activity's type and message.
 */
export function toWit(err) {
  if ((err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) && err.cause instanceof Error) return toWit(err.cause);
  if (err instanceof CancelledFailure) return { message: err.message, errorType: CANCELLED_ERROR, nonRetryable: true, details: err.details.map(encodeDetail) };
  if (err instanceof ApplicationFailure) {
    return { message: err.message, errorType: err.type ?? 'Error', nonRetryable: err.nonRetryable, details: err.details.map(encodeDetail) };
  }
  // An update validator or a query handler may throw any error: the caller
  // gets it as an ApplicationFailure named after the error.
  const message = err instanceof Error ? err.message : String(err);
  const type = err instanceof Error ? err.name : 'Error';
  return { message, errorType: type, nonRetryable: false, details: [] };
}

/** Error text with its stack, for logs. */
export function describeError(err) {
  return err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err);
}

function isPayload(value) {
  return value !== null && typeof value === 'object' && Array.isArray(value.metadata) && value.data instanceof Uint8Array;
}

// Details stay payloads when they are not JSON (passed on unchanged).
function decodeDetail(payload) {
  try {
    return decode(payload);
  } catch {
    return payload;
  }
}

function encodeDetail(value) {
  return isPayload(value) ? value : encode(value);
}
