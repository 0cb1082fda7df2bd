/**
 * A real `stepcoder worker`-equivalent process for the tests and the bench: the package's
 * startQueueWorker with the real Python (and, when asked, JavaScript) executors. Settings come
 * as JSON in STEPCODER_TEST_WORKER. SIGTERM closes it gracefully (running jobs finish).
 *
 * Test-only hook: with `poisonMarker` set, a program containing the marker kills this whole
 * process with SIGKILL before it runs, the way a kernel OOM kill or a machine loss would; that is
 * how the tests make "a job that keeps killing workers".
 */
import type { ExecutionRequest, Executor } from '@stepcoder/core';
import { createPythonExecutor } from '@stepcoder/executor-python/base';
import { type Lane, type QueueWorkerSettings, startQueueWorker } from '../../src/base.js';

interface Config extends QueueWorkerSettings {
  lanes: Lane[];
  poisonMarker?: string;
}

const config = JSON.parse(process.env.STEPCODER_TEST_WORKER ?? '{}') as Config;
const { lanes, poisonMarker, ...settings } = config;

function poisoned(executor: Executor): Executor {
  if (!poisonMarker) return executor;
  return {
    ...executor,
    run(request: ExecutionRequest) {
      if (request.program.includes(poisonMarker)) process.kill(process.pid, 'SIGKILL');
      return executor.run(request);
    },
  };
}

const executors: Partial<Record<Lane, Executor>> = {};
const poolSize = settings.concurrency ?? 1;
if (lanes.includes('python')) executors.python = poisoned(createPythonExecutor({ poolSize }));
if (lanes.includes('js')) {
  const { createJsExecutor } = await import('@stepcoder/executor-js/base');
  executors.js = poisoned(createJsExecutor({ poolSize }));
}

const worker = await startQueueWorker({ ...settings, executors });
process.once('SIGTERM', () => {
  void worker
    .close()
    .then(() => Promise.all(Object.values(executors).map((e) => e?.dispose())))
    .then(() => process.exit(0));
});
