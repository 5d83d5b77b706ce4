// weft SDK for JavaScript guests: what workflows and activities share.
//
// Temporal's JSON payload converter (`encoding: json/plain`) and
// ApplicationError, which maps to the WIT `failure` record.

import type { Failure, Payload } from 'weft:plugin/activation-host@0.1.0';

export type { Failure, Payload };

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

const JSON_PLAIN = 'json/plain';
const BINARY_NULL = 'binary/null';

/** Encodes a value with Temporal's JSON converter (a WIT `payload`). */
export function encode(value: unknown): Payload {
  return {
    metadata: [['encoding', utf8Encoder.encode(JSON_PLAIN)]],
    // `undefined` is not JSON; send it as null like the Temporal SDKs do.
    data: utf8Encoder.encode(JSON.stringify(value === undefined ? null : value)),
  };
}

/** The payload's `encoding` metadata as a string, or undefined. */
export function encodingOf(payload: Payload): string | undefined {
  const entry = payload.metadata.find(([key]) => key === 'encoding');
  return entry ? utf8Decoder.decode(entry[1]) : undefined;
}

/** Decodes a `json/plain` payload; `binary/null` (no value) gives null. */
export function decode(payload: Payload): any {
  const encoding = encodingOf(payload);
  if (encoding === BINARY_NULL) return null;
  if (encoding !== JSON_PLAIN) {
    throw new ApplicationError(`expected a json/plain payload, got encoding ${encoding}`, 'InvalidPayload');
  }
  try {
    return JSON.parse(utf8Decoder.decode(payload.data));
  } catch (err) {
    throw new ApplicationError(`payload is not valid JSON: ${err}`, 'InvalidPayload');
  }
}

/**
 * A failure a guest raises, or one that reached it (e.g. a failed activity).
 *
 * Maps one-to-one to the WIT `failure` record and so to Temporal's
 * ApplicationFailure. Thrown out of a workflow it fails the workflow; out of
 * an activity it fails the attempt (retried unless `nonRetryable`).
 */
export class ApplicationError extends Error {
  errorType: string;
  nonRetryable: boolean;
  details: Payload[];

  constructor(message: string, errorType: string, { nonRetryable = true, details = [] as unknown[] } = {}) {
    super(message);
    this.name = 'ApplicationError';
    this.errorType = errorType;
    this.nonRetryable = nonRetryable;
    // Kept as payloads, so that a failure passed on is passed on unchanged.
    this.details = details.map((d) => (isPayload(d) ? d : encode(d)));
  }

  /** From a WIT `failure` record. */
  static fromFailure(failure: Failure): ApplicationError {
    return new ApplicationError(failure.message, failure.errorType, {
      nonRetryable: failure.nonRetryable,
      details: failure.details,
    });
  }

  /** To a WIT `failure` record. */
  toFailure(): Failure {
    return {
      message: this.message,
      errorType: this.errorType,
      nonRetryable: this.nonRetryable,
      details: this.details,
    };
  }
}

function isPayload(value: any): value is Payload {
  return value !== null && typeof value === 'object' && Array.isArray(value.metadata) && value.data instanceof Uint8Array;
}

/** Error text with its stack, for logs. */
export function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err);
}

/**
 * Runs a registered function the way both export dispatchers need it:
 * decode the arguments, call, encode the result. An ApplicationError is
 * returned to the host as the export's `err` value: componentize-js turns
 * a thrown non-Error value into `err` (a thrown Error would trap).
 */
export function dispatch(
  registry: Map<string, (...args: any[]) => unknown>,
  kind: string,
  typeName: string,
  args: Payload[],
  onBug: (err: any) => Payload,
): Payload {
  const fn = registry.get(typeName);
  try {
    if (fn === undefined) {
      const unknown = kind === 'workflow' ? 'UnknownWorkflowType' : 'UnknownActivityType';
      throw new ApplicationError(`this component does not offer ${kind} type ${JSON.stringify(typeName)}`, unknown);
    }
    const result: any = fn(...args.map(decode));
    if (typeof result?.then === 'function') {
      // The export cannot wait for a promise: workflow code blocks instead.
      throw new TypeError(`${kind} ${typeName} returned a promise; registered functions must be synchronous`);
    }
    return encode(result);
  } catch (err) {
    if (err instanceof ApplicationError) throw err.toFailure();
    return onBug(err);
  }
}
