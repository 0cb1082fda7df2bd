import { registry } from '@stepcoder/core';
import { createJsExecutor } from './executor.js';
import { jsExecutorOptionsSchema } from './options.js';

export * from './base.js';

if (!registry.has('executor', 'js')) {
  registry.register('executor', 'js', (options) => createJsExecutor(options), {
    schema: jsExecutorOptionsSchema,
    description: 'JavaScript/TypeScript candidates in isolated-vm isolates, with istanbul coverage',
  });
}
