import * as tf from '@tensorflow/tfjs-core';

let registered = false;

/**
 * Register tfjs-core's gradient definitions (missing from its Node bundle) once. Kernels that
 * already have a gradient, e.g. from `@tensorflow/tfjs` or tfjs-core's ESM module, are left alone.
 * Called by initBackend/createPolicy/loadPolicy; call it yourself before `tf.grads` on a policy
 * you did not create through this package.
 */
export async function ensureGradients(): Promise<void> {
  if (registered) return;
  const { gradConfigs } = await import('./vendor/tfjs-gradients.js');
  for (const config of gradConfigs) {
    if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
  }
  registered = true;
}
