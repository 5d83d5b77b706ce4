// Resolves the imports of every .js file under OUT_DIR the way the
// TypeScript SDK's bundler does, for componentize-js, which loads only
// relative paths of files that exist:
// - `@weft/workflow`, and `@temporalio/workflow` (so that a workflow
//   written for the official TypeScript SDK runs unchanged), point at the
//   compiled SDK. tsc type-checks them through the `paths` of
//   tsconfig.json but emits them as written.
// - a relative import without extension (`./queues`) gets its `.js` (or
//   `/index.js`), as webpack finds it.
// It also points tsc's `__awaiter` helper (how ES2016 output runs an async
// function) at the SDK's, which carries the CancellationScope across
// `await`s (weft/scope-context.ts).
//   node resolve-imports.mjs OUT_DIR SDK_JS
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const [outDir, sdk] = process.argv.slice(2).map((p) => resolve(p));
if (!outDir || !sdk) {
  console.error('usage: node resolve-imports.mjs OUT_DIR SDK_JS');
  process.exit(2);
}
// The helper as tsc 7 emits it; the build fails if it changes shape.
const AWAITER = 'var __awaiter = (this && this.__awaiter) || function (thisArg, _arguments, P, generator) {';
const WEFT_AWAITER =
  'var __awaiter = function (thisArg, _arguments, P, generator) { return globalThis.__weftAwaiter(thisArg, _arguments, P, generator); } || function (thisArg, _arguments, P, generator) {';
const SPECIFIER = /((?:\bfrom|\bimport)\s*)(['"])(@weft\/workflow|@temporalio\/workflow|\.{1,2}\/[^'"]*)\2/g;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.js')) rewrite(path);
  }
}

function rewrite(path) {
  const text = readFileSync(path, 'utf8');
  let target = relative(dirname(path), sdk);
  if (!target.startsWith('.')) target = `./${target}`;
  const resolveSpecifier = (specifier) => {
    if (!specifier.startsWith('.')) return target;
    if (existsSync(join(dirname(path), specifier)) && !statSync(join(dirname(path), specifier)).isDirectory()) return specifier;
    if (existsSync(join(dirname(path), `${specifier}.js`))) return `${specifier}.js`;
    if (existsSync(join(dirname(path), specifier, 'index.js'))) return `${specifier}/index.js`;
    return specifier;
  };
  let out = text.replace(SPECIFIER, (_, keyword, quote, specifier) => `${keyword}${quote}${resolveSpecifier(specifier)}${quote}`);
  out = out.replace(AWAITER, WEFT_AWAITER);
  if (/\b__awaiter\(/.test(out) && !out.includes('__weftAwaiter')) {
    console.error(`${path}: tsc's __awaiter helper has a shape resolve-imports.mjs does not know; update AWAITER`);
    process.exit(1);
  }
  if (out !== text) writeFileSync(path, out);
}

walk(outDir);
