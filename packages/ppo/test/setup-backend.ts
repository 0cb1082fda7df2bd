import { initBackend } from '@stepcoder/model';

/**
 * Unit tests of the PPO math run on the pure-JS cpu backend (deterministic, always present).
 * `initBackend` also registers tfjs-core's gradient definitions, which its Node bundle lacks.
 */
export async function useCpuBackend(): Promise<void> {
  await initBackend({ prefer: 'cpu', log: false });
}
