// Globals StarlingMonkey (componentize-js's engine) gives every guest, and
// the `console` the workflow SDK installs (weft/workflow.ts). Declared here
// rather than with the DOM or Node type libraries, which declare much that
// a guest does not have.

declare class TextEncoder {
  encode(input?: string): Uint8Array;
}

declare class TextDecoder {
  constructor(label?: string);
  decode(input?: Uint8Array): string;
}

declare var console: {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  trace(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
};
