// Files and environment variables for JavaScript activities, over WASI p2.
//
// componentize-js (StarlingMonkey) offers no Node `fs` or `process.env`, so
// this module calls the WASI interfaces directly. The app's world must import
// them (see wit/activity-fs.wit); weft links them to what its config grants:
// `dirs` become preopens, `env` the environment.

import { getDirectories } from 'wasi:filesystem/preopens@0.2.12';
import { getEnvironment } from 'wasi:cli/environment@0.2.12';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** A failed WASI file call; `code` is the WASI error-code, e.g. 'no-entry'. */
export class FsError extends Error {
  code: string;

  constructor(path: string, code: string) {
    super(`${path}: ${code}`);
    this.name = 'FsError';
    this.code = code;
  }
}

/** The value of environment variable `name`, or undefined. */
export function getEnv(name: string): string | undefined {
  const entry = getEnvironment().find(([key]) => key === name);
  return entry?.[1];
}

/** Reads a whole file as UTF-8 text. */
export function readTextFile(path: string): string {
  return withFile(path, {}, { read: true }, (file) => {
    const chunks: Uint8Array[] = [];
    let offset = BigInt(0);
    for (;;) {
      const [chunk, eof] = file.read(BigInt(64 * 1024), offset);
      chunks.push(chunk);
      offset += BigInt(chunk.length);
      if (eof || chunk.length === 0) break;
    }
    return utf8Decoder.decode(concat(chunks));
  });
}

/** Creates or truncates a file and writes `text` (UTF-8) to it. */
export function writeTextFile(path: string, text: string): void {
  withFile(path, { create: true, truncate: true }, { write: true }, (file) => {
    const bytes = utf8Encoder.encode(text);
    let offset = 0;
    while (offset < bytes.length) {
      offset += Number(file.write(bytes.subarray(offset), BigInt(offset)));
    }
  });
}

/** Opens `path` (absolute, under a preopened directory), runs `use` on it, closes it. */
function withFile<T>(path: string, openFlags: object, descriptorFlags: object, use: (file: any) => T): T {
  const [dir, relative] = resolve(path);
  let file: any;
  try {
    file = dir.openAt({ symlinkFollow: false }, relative, openFlags, descriptorFlags);
    return use(file);
  } catch (err: any) {
    // componentize-js throws an import's `err` value as an error object
    // whose `payload` is the WASI error-code, e.g. 'no-entry'.
    if (err instanceof FsError || err?.payload === undefined) throw err;
    throw new FsError(path, err.payload);
  } finally {
    // Free the handle now rather than whenever the GC runs.
    file?.[Symbol.dispose]?.();
  }
}

/** The preopen `path` lies under, and the rest of the path relative to it. */
function resolve(path: string): [any, string] {
  for (const [dir, guestPath] of getDirectories()) {
    const prefix = guestPath.endsWith('/') ? guestPath : `${guestPath}/`;
    if (path.startsWith(prefix)) return [dir, path.slice(prefix.length)];
  }
  throw new FsError(path, 'no-entry (not under a preopened directory)');
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
