/** Where the activities of src/activities.js run (the official SDK's worker). */
export const ACTIVITY_TASK_QUEUE = 'sdk-compat-ts-activities';
