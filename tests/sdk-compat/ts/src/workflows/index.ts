// Every workflow of this directory: the official worker's `workflowsPath`
// and weft's component (guest-examples/js/build.sh) both load this module.
export * from './hello-activities';
export * from './signals-queries';
export * from './update';
export * from './child';
export * from './timer';
export * from './continue-as-new';
export * from './patching';
export * from './cancellation-scopes';
export * from './failures';
export * from './external-signal';
