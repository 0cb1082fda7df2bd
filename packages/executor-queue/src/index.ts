import { registry } from '@stepcoder/core';
import { createQueueExecutor } from './executor.js';
import type { QueueExecutorOptions } from './options.js';
import { queueExecutorOptionsSchema } from './options.js';

export * from './base.js';

declare module '@stepcoder/core' {
  interface PluginOptions {
    'executor:queue': QueueExecutorOptions;
  }
}

// Async factory: `registry.create('executor', 'queue', …)` fails at creation, with
// REDIS_UNAVAILABLE and the URL, when Redis cannot be reached.
if (!registry.has('executor', 'queue')) {
  registry.register('executor', 'queue', (options) => createQueueExecutor(options), {
    schema: queueExecutorOptionsSchema,
    description: 'Runs candidates on a fleet of `stepcoder worker` processes through BullMQ/Redis',
  });
}
