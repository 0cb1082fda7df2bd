import { type StepcoderErrorCode, ValidationError, type ValidationIssue } from './errors.js';
import type { StandardSchemaV1 } from './standard-schema.js';

function formatPath(path: StandardSchemaV1.Issue['path']): string {
  if (!path || path.length === 0) return '';
  let out = '';
  for (const seg of path) {
    const key = typeof seg === 'object' && seg !== null ? seg.key : seg;
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/**
 * Validate `input` against any Standard Schema (zod, valibot, arktype…). Plugins may bring their
 * own schema library; the error format is the same for all: every issue with its dotted path.
 * Throws ValidationError naming `where` (e.g. "options of executor 'python'").
 */
export function validate<S extends StandardSchemaV1>(
  schema: S,
  input: unknown,
  where: string,
  code: StepcoderErrorCode = 'INVALID_OPTIONS',
): StandardSchemaV1.InferOutput<S> {
  const result = schema['~standard'].validate(input);
  if (result instanceof Promise) {
    throw new TypeError(`Schema for ${where} is async; option schemas must validate synchronously`);
  }
  if (result.issues) {
    const issues: ValidationIssue[] = result.issues.map((i) => ({
      path: formatPath(i.path),
      message: i.message,
    }));
    throw new ValidationError(where, issues, code);
  }
  return result.value;
}
