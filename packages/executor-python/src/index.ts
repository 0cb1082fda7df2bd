import { registry } from '@stepcoder/core';
import { createPythonExecutor } from './executor.js';
import { pythonExecutorOptionsSchema } from './options.js';
import { ensurePython } from './python.js';

export * from './base.js';

// Registered with an async factory so that `registry.create('executor', 'python')` fails at
// creation, with PYTHON_UNAVAILABLE, when no usable interpreter exists.
if (!registry.has('executor', 'python')) {
  registry.register(
    'executor',
    'python',
    async (options) => {
      const executor = createPythonExecutor(options);
      await ensurePython(executor.options.pythonPath, executor.options.wrapper ?? []);
      return executor;
    },
    {
      schema: pythonExecutorOptionsSchema,
      description: 'Python candidates in a pool of warm, rlimited python3 fork-server workers',
    },
  );
}

export type { SandboxOptions, SandboxPlan } from './sandbox.js';
export { bwrapArgs, planSandbox, SANDBOX_HARNESS_DIR } from './sandbox.js';
