// Types of the component imports the SDK calls (wit/activation.wit,
// wit/activity.wit, the WASI interfaces of wit/activity-fs.wit), as
// componentize-js binds them: records as objects with camelCase fields,
// variants as `{ tag, val }`, u64 as bigint, `option<T>` as `T | undefined`.

declare module 'weft:plugin/activation-host@0.1.0' {
  export type Payload = { metadata: [string, Uint8Array][]; data: Uint8Array };
  export type Failure = { message: string; errorType: string; nonRetryable: boolean; details: Payload[] };
  export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
  export type Handle = number;
  export type RetryPolicy = {
    initialIntervalMs: bigint;
    backoffCoefficient: number;
    maximumIntervalMs: bigint;
    maximumAttempts: number;
    nonRetryableErrorTypes: string[];
  };
  export type ActivityCancellation = 'try-cancel' | 'wait-cancellation-completed' | 'abandon';
  export type ActivityOptions = {
    taskQueue?: string;
    startToCloseTimeoutMs?: bigint;
    scheduleToCloseTimeoutMs?: bigint;
    scheduleToStartTimeoutMs?: bigint;
    heartbeatTimeoutMs?: bigint;
    retryPolicy?: RetryPolicy;
    cancellation: ActivityCancellation;
    activityId?: string;
  };
  export type LocalActivityOptions = {
    startToCloseTimeoutMs?: bigint;
    scheduleToCloseTimeoutMs?: bigint;
    retryPolicy?: RetryPolicy;
    localRetryThresholdMs?: bigint;
  };
  export type ParentClosePolicy = 'terminate' | 'abandon' | 'request-cancel';
  export type ChildCancellation = 'abandon' | 'try-cancel' | 'wait-cancellation-completed' | 'wait-cancellation-requested';
  export type ChildOptions = {
    workflowId?: string;
    taskQueue?: string;
    executionTimeoutMs?: bigint;
    parentClosePolicy: ParentClosePolicy;
    cancellation: ChildCancellation;
  };
  export type WorkflowInfo = {
    workflowType: string;
    workflowId: string;
    runId: string;
    namespace: string;
    taskQueue: string;
    attempt: number;
  };
  export function info(): WorkflowInfo;
  export function now(): bigint;
  export function random(): bigint;
  export function isReplaying(): boolean;
  export function log(level: LogLevel, message: string): void;
  export function startActivity(activityType: string, args: Payload[], options: ActivityOptions): Handle;
  export function startLocalActivity(activityType: string, args: Payload[], options: LocalActivityOptions): Handle;
  export function startTimer(durationMs: bigint): Handle;
  export function startChild(workflowType: string, args: Payload[], options: ChildOptions): Handle;
  export function signalWorkflow(workflowId: string, signalName: string, args: Payload[]): Handle;
  export function cancelWorkflow(workflowId: string): Handle;
  export function cancel(h: Handle): void;
  export function patched(id: string): boolean;
  export function deprecatePatch(id: string): void;
  export function upsertSearchAttributes(attributes: [string, Payload][]): void;
  export function upsertMemo(fields: [string, Payload][]): void;
  export function acceptUpdate(id: string): void;
  export function rejectUpdate(id: string, failure: Failure): void;
  export function completeUpdate(id: string, outcome: { tag: 'ok'; val: Payload } | { tag: 'err'; val: Failure }): void;
}

declare module 'weft:plugin/activity-host@0.1.0' {
  import type { LogLevel, Payload } from 'weft:plugin/activation-host@0.1.0';
  export function heartbeat(details: Payload[]): boolean;
  export function log(level: LogLevel, message: string): void;
  export function info(): Record<string, unknown>;
}

declare module 'wasi:filesystem/preopens@0.2.12' {
  export function getDirectories(): [any, string][];
}

declare module 'wasi:cli/environment@0.2.12' {
  export function getEnvironment(): [string, string][];
}
