/**
 * Entry of a host process (isolation: 'process'): it owns one in-process executor and serves
 * runs over IPC, one at a time. If V8 aborts this process (isolated-vm cannot always contain a
 * fatal out-of-memory), only the host dies; the parent reports the run and starts a new host.
 */
import type { ExecutionRequest } from '@stepcoder/core';
import { createJsExecutor } from './executor.js';
import type { JsExecutorOptions } from './options.js';

const options = JSON.parse(process.env.STEPCODER_JS_HOST_OPTIONS ?? '{}') as JsExecutorOptions;
const executor = createJsExecutor({ ...options, poolSize: 1, isolation: 'in-process' });

process.on('message', (message: { id: number; request: ExecutionRequest }) => {
  void executor.run(message.request).then((result) => process.send?.({ id: message.id, result }));
});
process.on('disconnect', () => {
  void executor.dispose().then(() => process.exit(0));
});
process.send?.({ ready: true });
