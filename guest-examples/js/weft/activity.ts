// weft SDK for JavaScript activities.
//
//   import { activity, heartbeat } from './weft/activity.js';
//   export { activityGuest } from './weft/activity.js';
//
//   activity('Hello', (name) => `hello ${name}`);
//
// Activities may do IO through the WASI interfaces weft grants in its config;
// componentize-js has no Node APIs, so weft/wasi.js wraps the WASI calls
// (files in preopened directories, environment variables).

import * as host from 'weft:plugin/activity-host@0.1.0';
import { ApplicationError, describeError, dispatch, encode, type Payload } from './payload.js';

export { ApplicationError } from './payload.js';

const activities = new Map<string, (...args: any[]) => unknown>();

/** Registers `fn` as activity type `name`; it gets the decoded arguments. */
export function activity(name: string, fn: (...args: any[]) => unknown): void {
  activities.set(name, fn);
}

/** Records progress; true once cancellation has been requested. */
export function heartbeat(...details: unknown[]): boolean {
  return host.heartbeat(details.map(encode));
}

/** Logs through the host, tagged with the activity's identity. */
export function log(message: string, level: 'trace' | 'debug' | 'info' | 'warn' | 'error' = 'info'): void {
  host.log(level, message);
}

export const info = () => host.info();

/** The `weft:plugin/activity-guest` export: re-export it from the app module. */
export const activityGuest = {
  activityTypes() {
    return [...activities.keys()];
  },
  execute(activityType: string, args: Payload[]): Payload {
    return dispatch(activities, 'activity', activityType, args, (err: any) => {
      // Unexpected: fail this attempt as retryable, like an uncaught
      // exception in a Temporal SDK activity.
      throw new ApplicationError(describeError(err), err?.name ?? 'Error', { nonRetryable: false }).toFailure();
    });
  },
};
