import { StepcoderError } from '@stepcoder/core';
import { SYNTHETIC_PARTS, type SyntheticPart, writeSyntheticJsonl } from '@stepcoder/datasets';
import type { Command } from 'commander';

interface SyntheticFlags {
  language: string;
  out: string;
  seed: string;
  count: string;
  split: string;
  heldoutFraction?: string;
  testFraction?: string;
  families?: string;
}

function integer(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n))
    throw new StepcoderError('INVALID_OPTIONS', `--${flag} must be an integer, got '${text}'`);
  return n;
}

/** `stepcoder synthetic`: write the procedural suite (see @stepcoder/datasets) as JSON Lines. */
export function registerSyntheticCommand(program: Command): void {
  program
    .command('synthetic')
    .description(
      'write the procedural task suite (train, in-distribution test and held-out combinations) as JSON Lines',
    )
    .requiredOption('--out <file>', 'JSONL file to write (one Problem per line)')
    .option('--language <language>', 'python or javascript', 'python')
    .option('--seed <n>', 'seed of the instances (the held-out combinations do not depend on it)', '0')
    .option('--count <n>', 'total problems, train and held-out together', '6000')
    .option('--split <part>', `which part to write: ${SYNTHETIC_PARTS.join(' | ')}`, 'all')
    .option('--heldout-fraction <f>', 'fraction of combination keys held out (default 0.12)')
    .option(
      '--test-fraction <f>',
      'fraction of trained-combination problems dealt to the in-distribution test split (default 0)',
    )
    .option('--families <list>', 'comma-separated family names (default: all)')
    .action((flags: SyntheticFlags) => {
      if (!SYNTHETIC_PARTS.includes(flags.split as SyntheticPart)) {
        throw new StepcoderError(
          'INVALID_OPTIONS',
          `--split must be one of ${SYNTHETIC_PARTS.join(', ')}, got '${flags.split}'`,
        );
      }
      const result = writeSyntheticJsonl(flags.out, {
        language: flags.language as 'python' | 'javascript',
        seed: integer('seed', flags.seed),
        count: integer('count', flags.count),
        part: flags.split as SyntheticPart,
        ...(flags.heldoutFraction !== undefined ? { heldoutFraction: Number(flags.heldoutFraction) } : {}),
        ...(flags.testFraction !== undefined ? { testFraction: Number(flags.testFraction) } : {}),
        ...(flags.families ? { families: flags.families.split(',').map((f) => f.trim()) } : {}),
      });
      process.stdout.write(
        `wrote ${result.problems} problems (${result.train} train, ${result.test} test, ${result.heldout} held-out) to ${result.path}\n`,
      );
    });
}
