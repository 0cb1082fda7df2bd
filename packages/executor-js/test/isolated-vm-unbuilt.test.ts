import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { StepcoderError } from '@stepcoder/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadIsolatedVm } from '../src/isolated-vm.js';

// A real isolated-vm package as pnpm 10 leaves it when its build script is not approved: the
// JavaScript entry and package.json are there, `out/isolated_vm.node` is not.
const installed = dirname(createRequire(import.meta.url).resolve('isolated-vm/package.json'));
const project = mkdtempSync(join(tmpdir(), 'stepcoder-ivm-unbuilt-'));
const unbuilt = join(project, 'node_modules', 'isolated-vm');
mkdirSync(unbuilt, { recursive: true });
for (const file of ['package.json', 'isolated-vm.js'])
  copyFileSync(join(installed, file), join(unbuilt, file));
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('isolated-vm without its native addon (pnpm 10 without approved builds)', () => {
  it('fails with NATIVE_MODULE_MISSING naming the pnpm fix, not a bare require error', () => {
    let thrown: unknown;
    try {
      loadIsolatedVm(join(project, 'index.js'));
    } catch (err) {
      thrown = err;
    }
    expect(StepcoderError.is(thrown, 'NATIVE_MODULE_MISSING')).toBe(true);
    const message = (thrown as Error).message;
    expect(message).toMatch(/never built \(Cannot find module '\.\/out\/isolated_vm'\)/);
    expect(message).toMatch(/pnpm approve-builds/);
    expect(message).toMatch(/onlyBuiltDependencies/);
    expect(((thrown as Error).cause as { code?: string }).code).toBe('MODULE_NOT_FOUND');
  });

  it('loads the built addon of this install', () => {
    const ivm = loadIsolatedVm();
    const isolate = new ivm.Isolate({ memoryLimit: 16 });
    try {
      expect(isolate.compileScriptSync('6 * 7').runSync(isolate.createContextSync())).toBe(42);
    } finally {
      isolate.dispose();
    }
  });
});
