import { StepcoderError } from '@stepcoder/core';

/**
 * Apply `--set path.to.key=value` overrides to a config object (a copy). Values are parsed as
 * JSON when they parse (`3`, `true`, `[1,2]`, `{"a":1}`), as strings otherwise, so
 * `--set mask.name=line` and `--set ppo.lr=1e-4` both do what they look like.
 */
export function applyOverrides(
  config: Record<string, unknown>,
  overrides: readonly string[],
): Record<string, unknown> {
  const out = structuredClone(config);
  for (const item of overrides) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      throw new StepcoderError('INVALID_CONFIG', `Override '${item}' must look like path.to.key=value`, {
        details: { override: item },
      });
    }
    const path = item.slice(0, eq).split('.');
    const raw = item.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // not JSON: keep the string
    }
    let node: Record<string, unknown> = out;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (next === undefined) node[key] = {};
      else if (typeof next !== 'object' || next === null || Array.isArray(next)) {
        throw new StepcoderError(
          'INVALID_CONFIG',
          `Override '${item}': '${key}' is not an object in the config`,
          {
            details: { override: item, key },
          },
        );
      }
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = value;
  }
  return out;
}
