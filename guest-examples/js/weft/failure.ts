// Failures as in @temporalio/workflow (@temporalio/common): the classes a
// workflow throws and catches, and their mapping to the WIT `failure`.
//
// A workflow that throws a TemporalFailure (ApplicationFailure,
// ActivityFailure, ChildWorkflowFailure, CancelledFailure) fails; any other
// error is a bug: it fails the workflow task, which Temporal retries.

import { decode, encode, type Failure, type Payload } from './payload.js';

/** Base of the failures Temporal carries across SDKs. */
export class TemporalFailure extends Error {
  declare cause: Error | undefined;

  constructor(message?: string, cause?: Error) {
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
  type: string | undefined;
  nonRetryable: boolean;
  details: unknown[];

  constructor(message?: string, type?: string | null, nonRetryable: boolean | null = false, details: unknown[] | null = [], cause?: Error) {
    super(message, cause);
    this.name = 'ApplicationFailure';
    this.type = type ?? undefined;
    this.nonRetryable = !!nonRetryable;
    this.details = details ?? [];
  }

  /** `ApplicationFailure.create({ message, type, nonRetryable, details, cause })`. */
  static create({
    message,
    type,
    nonRetryable = false,
    details = [],
    cause,
  }: { message?: string; type?: string; nonRetryable?: boolean; details?: unknown[]; cause?: Error } = {}): ApplicationFailure {
    return new ApplicationFailure(message, type, nonRetryable, details, cause);
  }

  /** A retryable failure. */
  static retryable(message?: string, type?: string | null, ...details: unknown[]): ApplicationFailure {
    return new ApplicationFailure(message, type ?? 'Error', false, details);
  }

  /** A failure that retrying cannot help. */
  static nonRetryable(message?: string, type?: string | null, ...details: unknown[]): ApplicationFailure {
    return new ApplicationFailure(message, type ?? 'Error', true, details);
  }

  /** From a WIT `failure` record (details decoded when JSON). */
  static fromWit(failure: Failure): ApplicationFailure {
    return new ApplicationFailure(failure.message, failure.errorType, failure.nonRetryable, failure.details.map(decodeDetail));
  }
}

/** A cancellation: of the run, a timer, an activity or a child. */
export class CancelledFailure extends TemporalFailure {
  details: unknown[];

  constructor(message = 'cancelled', details: unknown[] = [], cause?: Error) {
    super(message, cause);
    this.name = 'CancelledFailure';
    this.details = details;
  }
}

/** An activity failed; `cause` says why (an ApplicationFailure, a CancelledFailure). */
export class ActivityFailure extends TemporalFailure {
  activityType: string;
  activityId: string | undefined;

  constructor(message: string, activityType: string, activityId: string | undefined, cause?: Error) {
    super(message, cause);
    this.name = 'ActivityFailure';
    this.activityType = activityType;
    this.activityId = activityId;
  }
}

/** A child workflow failed (or did not start); `cause` says why. */
export class ChildWorkflowFailure extends TemporalFailure {
  workflowType: string;
  workflowId: string;

  constructor(message: string, workflowType: string, workflowId: string, cause?: Error) {
    super(message, cause);
    this.name = 'ChildWorkflowFailure';
    this.workflowType = workflowType;
    this.workflowId = workflowId;
  }
}

/** Thrown by `continueAsNew`: ends the run and starts a fresh one. */
export class ContinueAsNew extends Error {
  args: Payload[];

  constructor(args: Payload[]) {
    super('Workflow continued as new');
    this.name = 'ContinueAsNew';
    this.args = args;
  }
}

/** True for a cancellation, also one wrapped in an ActivityFailure or ChildWorkflowFailure. */
export function isCancellation(err: unknown): boolean {
  return err instanceof CancelledFailure || ((err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) && err.cause instanceof CancelledFailure);
}

const CANCELLED_ERROR = 'CancelledError';

/** A WIT failure that reached the run, as the error it throws. */
export function fromWit(failure: Failure): TemporalFailure {
  if (failure.errorType === CANCELLED_ERROR) return new CancelledFailure(failure.message, failure.details.map(decodeDetail));
  return ApplicationFailure.fromWit(failure);
}

/**
 * The WIT `failure` a TemporalFailure ends the run (or an update) with. An
 * ActivityFailure or ChildWorkflowFailure passes on its cause as received,
 * so a workflow that rethrows fails with the activity's type and message.
 */
export function toWit(err: unknown): Failure {
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
export function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err);
}

function isPayload(value: any): value is Payload {
  return value !== null && typeof value === 'object' && Array.isArray(value.metadata) && value.data instanceof Uint8Array;
}

// Details stay payloads when they are not JSON (passed on unchanged).
function decodeDetail(payload: Payload): unknown {
  try {
    return decode(payload);
  } catch {
    return payload;
  }
}

function encodeDetail(value: unknown): Payload {
  return isPayload(value) ? value : encode(value);
}
