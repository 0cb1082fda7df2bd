import { registry } from '@stepcoder/core';
import { createPythonExecutor, HARNESS_PATH } from './executor.js';
import { pythonExecutorOptionsSchema } from './options.js';
import { planSandbox } from './sandbox.js';

export * from './base.js';

// Registered with an async factory so that `registry.create('executor', 'python')` fails at
// creation, with PYTHON_UNAVAILABLE when no usable interpreter exists and EXECUTOR_INFRA (naming
// `sandbox: 'rlimits'`) when the required namespaces do not start: before a trainer does any work.
if (!registry.has('executor', 'python')) {
  registry.register(
    'executor',
    'python',
    async (options) => {
      const executor = createPythonExecutor(options);
      await planSandbox(executor.options, HARNESS_PATH);
      return executor;
    },
    {
      schema: pythonExecutorOptionsSchema,
      description: 'Python candidates in a pool of warm, rlimited python3 fork-server workers',
    },
  );
}

export type { SandboxOptions, SandboxPlan, SandboxProbe } from './sandbox.js';
export {
  bwrapArgs,
  planSandbox,
  probeSandbox,
  resolveBwrap,
  SANDBOX_FIX,
  SANDBOX_HARNESS_DIR,
} from './sandbox.js';
