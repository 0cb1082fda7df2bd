import { registry as globalRegistry, type Registry } from '@stepcoder/core';

/**
 * Config names plugins by kind and name; their packages are imported only when a config uses them
 * (a JS-only run never starts python3, a Python run never compiles isolated-vm code). Loaders are
 * closures so that the packages resolve from the CLI's dependencies.
 */
export function registerPluginLoaders(target: Registry = globalRegistry): void {
  target.setLoader('executor', 'python', () => import('@stepcoder/executor-python'));
  target.setLoader('executor', 'js', () => import('@stepcoder/executor-js'));
  target.setLoader('reward', '*', () => import('@stepcoder/reward'));
  target.setLoader('mask', '*', () => import('@stepcoder/coverage-mask'));
  target.setLoader('curriculum', '*', () => import('@stepcoder/curriculum'));
  target.setLoader('dataset', '*', () => import('@stepcoder/datasets'));
  target.setLoader('advantage', '*', () => import('@stepcoder/ppo'));
  target.setLoader('backend', '*', () => import('@stepcoder/model'));
}
