import { createRequire } from 'node:module';
import { StepcoderError } from '@stepcoder/core';
import type ivmModule from 'isolated-vm';

/**
 * What to do when isolated-vm's native addon is missing or built for another Node. pnpm 10 runs no
 * dependency build scripts unless allowed, so a plain `pnpm add` leaves isolated-vm without its
 * `out/isolated_vm.node` and the import fails with a bare "Cannot find module".
 */
export const ISOLATED_VM_FIX =
  "pnpm 10 skips dependencies' build scripts unless allowed: run `pnpm approve-builds` and select " +
  'isolated-vm, or add it to `onlyBuiltDependencies` (pnpm-workspace.yaml, or the "pnpm" field of ' +
  'package.json), then `pnpm rebuild isolated-vm`. With npm or yarn, make sure install scripts are ' +
  'not disabled (`ignore-scripts`) and that python3, make and a C++ compiler are installed ' +
  '(isolated-vm compiles from source when no prebuilt binary matches).';

function unbuiltReason(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : '';
  if (e?.code === 'MODULE_NOT_FOUND' && /out[\\/]isolated_vm/.test(message)) {
    return "isolated-vm's native addon was never built (Cannot find module './out/isolated_vm')";
  }
  if (/NODE_MODULE_VERSION/.test(message) && /isolated_vm/.test(message)) {
    return `isolated-vm's native addon was built for another Node.js version (${message.split('\n')[0]})`;
  }
  return undefined;
}

/**
 * Load isolated-vm (resolved from `from`, default this package), turning an unbuilt or mismatched
 * native addon into a StepcoderError NATIVE_MODULE_MISSING that names the fix.
 */
export function loadIsolatedVm(from: string | URL = import.meta.url): typeof ivmModule {
  try {
    return createRequire(from)('isolated-vm') as typeof ivmModule;
  } catch (err) {
    const reason = unbuiltReason(err);
    if (reason === undefined) throw err;
    throw new StepcoderError(
      'NATIVE_MODULE_MISSING',
      `@stepcoder/executor-js cannot start: ${reason}. ${ISOLATED_VM_FIX}`,
      { cause: err, details: { module: 'isolated-vm' } },
    );
  }
}
