// Resolves the component import `weft:plugin/activation-host@...` to
// fake-host.mjs, so that the compiled SDK runs in Node.
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('weft:plugin/activation-host')) {
    return { url: new URL('./fake-host.mjs', import.meta.url).href, shortCircuit: true };
  }
  return next(specifier, context);
}
