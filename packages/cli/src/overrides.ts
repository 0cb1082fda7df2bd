import { StepcoderError } from '@stepcoder/core';

/**
 * Keys that reach an object's prototype when used as a property name. A path such as
 * `__proto__.polluted=1` would otherwise write through `Object.prototype` into every object of the
 * process, so they are refused wherever a user-supplied key meets a plain object.
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function invalid(item: string, message: string, details: Record<string, unknown> = {}): StepcoderError {
  return new StepcoderError('INVALID_CONFIG', `Override '${item}': ${message}`, {
    details: { override: item, ...details },
  });
}

/** The first forbidden key anywhere inside a parsed JSON value (`{"__proto__": …}`), with its path. */
function findForbiddenKey(value: unknown, path: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return `${path}.${key}`;
    const inner = findForbiddenKey((value as Record<string, unknown>)[key], `${path}.${key}`);
    if (inner) return inner;
  }
  return undefined;
}

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
    const pathText = item.slice(0, eq);
    const path = pathText.split('.');
    if (path.some((key) => key === '')) throw invalid(item, `'${pathText}' has an empty key`);
    const forbidden = path.find((key) => FORBIDDEN_KEYS.has(key));
    if (forbidden) throw invalid(item, `'${forbidden}' is not a config key`, { key: forbidden });
    const raw = item.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // not JSON: keep the string
    }
    const nested = findForbiddenKey(value, pathText);
    if (nested) throw invalid(item, `the value holds the key '${nested}', which is not a config key`);
    let node: Record<string, unknown> = out;
    for (const key of path.slice(0, -1)) {
      // Own properties only: an inherited member (`toString`) is not part of the config.
      const next = Object.hasOwn(node, key) ? node[key] : undefined;
      if (next === undefined) node[key] = {};
      else if (typeof next !== 'object' || next === null || Array.isArray(next)) {
        throw invalid(item, `'${key}' is not an object in the config`, { key });
      }
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = value;
  }
  return out;
}
