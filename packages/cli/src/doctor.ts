import { StepcoderError } from '@stepcoder/core';
import type { Command } from 'commander';
import { loadCheckedConfig, type StepcoderConfig } from './config.js';
import {
  type CheckContext,
  type CheckResult,
  checkGemm,
  checkIsolatedVm,
  checkNode,
  checkPython,
  checkRedis,
  checkSandbox,
  checkTensorflow,
  type Needs,
  needsOf,
} from './doctor-checks.js';

export interface DoctorReport {
  /** No required check failed. */
  ok: boolean;
  checks: CheckResult[];
}

/**
 * Every check, in order (python3 before bubblewrap: the sandbox probe runs the interpreter found).
 * `only`: the start-up subset — the checks this config's run touches.
 */
export async function runChecks(needs: Needs, only?: 'relevant'): Promise<DoctorReport> {
  const ctx: CheckContext = {};
  const relevant = only === 'relevant';
  const checks: CheckResult[] = [checkNode()];
  if (!relevant || needs.python) checks.push(await checkPython(needs, ctx));
  if (!relevant || needs.isolatedVm) checks.push(checkIsolatedVm(needs));
  if (!relevant || needs.gemm) checks.push(await checkGemm());
  if (!relevant || needs.sandbox !== 'none') checks.push(await checkSandbox(needs, ctx));
  if (!relevant || needs.tensorflow) checks.push(checkTensorflow(needs));
  if (!relevant || needs.redis) checks.push(checkRedis(needs));
  return { ok: checks.every((c) => c.ok || !c.required), checks };
}

function mark(c: CheckResult): string {
  return c.ok ? 'ok  ' : c.required ? 'FAIL' : 'warn';
}

/** One line per check (`ok`/`FAIL`/`warn`, name, summary), its fix when it failed, detail when verbose. */
export function formatChecks(
  checks: readonly CheckResult[],
  options: { verbose?: boolean; fixes?: boolean; maxWidth?: number } = {},
): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const cut = (s: string) =>
    options.maxWidth !== undefined && s.length > options.maxWidth
      ? `${s.slice(0, options.maxWidth - 1)}…`
      : s;
  return checks
    .map((c) => {
      const lines = [
        cut(`${mark(c)} ${c.name.padEnd(width)}  ${c.summary}${c.ok || c.required ? '' : ' (optional)'}`),
      ];
      if (!c.ok && c.fix && options.fixes !== false) lines.push(`     ${' '.repeat(width)}  fix: ${c.fix}`);
      if (options.verbose && c.detail) {
        for (const d of c.detail.split('\n')) lines.push(`     ${' '.repeat(width)}  | ${d}`);
      }
      return lines.join('\n');
    })
    .join('\n');
}

/** `stepcoder doctor [-c config] [--verbose] [--json]`: exit 1 when a required check failed. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'check this machine: node, python3, isolated-vm, native kernels (GEMM), bubblewrap, tfjs-node/CUDA, redis',
    )
    .option('-c, --config <file>', "judge what's required by this config (default: the default setup)")
    .option(
      '-s, --set <path=value>',
      'override one config value (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option('-v, --verbose', 'add the detail: BLAS libraries tried, bwrap stderr and command line')
    .option('--json', 'print the results as JSON')
    .action(async (flags: { config?: string; set: string[]; verbose?: boolean; json?: boolean }) => {
      const config =
        flags.config || flags.set.length > 0 ? await loadCheckedConfig(flags.config, flags.set) : undefined;
      const report = await runChecks(needsOf(config));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        process.stdout.write(`${formatChecks(report.checks, { verbose: flags.verbose })}\n`);
        const failed = report.checks.filter((c) => !c.ok && c.required).map((c) => c.name);
        process.stdout.write(
          failed.length > 0
            ? `stepcoder doctor: missing what ${config ? 'this config' : 'the default config'} needs: ${failed.join(', ')}\n`
            : `stepcoder doctor: everything ${config ? 'this config' : 'the default config'} needs is here\n`,
        );
      }
      if (!report.ok) process.exitCode = 1;
    });
}

export interface StartupCheckIo {
  /** Where the check lines go (default stderr, beside the backend line). */
  out?: NodeJS.WritableStream;
  quiet?: boolean;
}

/**
 * The start-up checks of a run (`run`, `sft`, `train`, `eval`, `ablate`, `bench`, the demo):
 * `stepcoder doctor`'s checks that this config touches, one short line each (at most 6), before
 * any work. Throws `StepcoderError('PREFLIGHT_FAILED')` naming each missing requirement and its
 * fix — a sandbox that does not start included (set `sandbox: 'rlimits'` to run without one).
 */
export async function startupChecks(
  config: StepcoderConfig,
  io: StartupCheckIo = {},
): Promise<CheckResult[]> {
  const report = await runChecks(needsOf(config), 'relevant');
  if (!io.quiet) {
    (io.out ?? process.stderr).write(
      `${formatChecks(report.checks, { fixes: false, maxWidth: 110 })
        .split('\n')
        .map((l) => `[stepcoder/check] ${l}`)
        .join('\n')}\n`,
    );
  }
  const failed = report.checks.filter((c) => !c.ok && c.required);
  if (failed.length > 0) {
    throw new StepcoderError(
      'PREFLIGHT_FAILED',
      `cannot start: ${failed.map((c) => `${c.name}: ${c.summary}. Fix: ${c.fix ?? 'see `stepcoder doctor --verbose`'}`).join('; ')}. (\`stepcoder doctor --verbose\` shows the detail.)`,
      { details: { failed } },
    );
  }
  return report.checks;
}

/**
 * {@link startupChecks} for scripts (the demo's main.ts): on a missing requirement, print
 * `stepcoder: <why and the fix>` and exit with status 2 instead of a stack trace.
 */
export async function startupChecksOrExit(config: StepcoderConfig, io: StartupCheckIo = {}): Promise<void> {
  try {
    await startupChecks(config, io);
  } catch (err) {
    if (!StepcoderError.is(err)) throw err;
    process.stderr.write(`stepcoder: ${err.message}\n`);
    process.exit(2);
  }
}
