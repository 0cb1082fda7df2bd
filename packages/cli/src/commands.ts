import { readFileSync } from 'node:fs';
import { StepcoderError } from '@stepcoder/core';
import type { Command } from 'commander';
import { runAblation } from './ablate.js';
import { runBench } from './bench.js';
import { loadCheckedConfig, type StepcoderConfig } from './config.js';
import { registerDoctorCommand, startupChecks } from './doctor.js';
import { createRunContext, evalStage, runPipeline, sftStage, trainStage } from './run.js';
import { registerServeCommand } from './serve.js';
import { setupProblems } from './setup.js';
import { registerSyntheticCommand } from './synthetic.js';
import { registerWorkerCommand } from './worker.js';

interface CommonFlags {
  config?: string;
  set: string[];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'JSON or YAML config file (see the CLI README for every key)')
    .option(
      '-s, --set <path=value>',
      'override one config value, e.g. --set train.steps=50 (repeatable)',
      collect,
      [],
    );
}

function parseSeeds(text: string): number[] {
  const seeds = text.split(',').map((s) => Number(s.trim()));
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s))) {
    throw new StepcoderError('INVALID_CONFIG', `--seeds must be comma-separated integers, got '${text}'`);
  }
  return seeds;
}

/** The checked config, then the start-up checks (python3, sandbox…): both before any work. */
async function configForRun(flags: CommonFlags): Promise<StepcoderConfig> {
  const config = await loadCheckedConfig(flags.config, flags.set);
  await startupChecks(config);
  return config;
}

/** Build the `stepcoder` command tree on `program` and run it on `argv`. */
export async function main(program: Command, argv: string[]): Promise<void> {
  const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    .version as string;
  program
    .name('stepcoder')
    .description('StepCoder: RL for code generation with CCCS and FGO')
    .version(version);

  withCommon(program.command('run'))
    .description('the main job: SFT warm-start, evaluate, PPO, evaluate again')
    .action(async (flags: CommonFlags) => {
      await runPipeline(await configForRun(flags));
    });

  withCommon(program.command('sft'))
    .description('supervised warm-start on canonical solutions; saves <outDir>/sft')
    .action(async (flags: CommonFlags) => {
      const ctx = await createRunContext(await configForRun(flags));
      try {
        await sftStage(ctx);
      } finally {
        await ctx.dispose();
      }
    });

  withCommon(program.command('train'))
    .description('PPO with the configured curriculum, mask, reward and advantage')
    .option('--resume <dir>', 'resume exactly from a trainer checkpoint folder')
    .action(async (flags: CommonFlags & { resume?: string }) => {
      const ctx = await createRunContext(await configForRun(flags));
      try {
        await trainStage(ctx, {}, flags.resume);
      } finally {
        await ctx.dispose();
      }
    });

  withCommon(program.command('eval'))
    .description('pass@k (unbiased estimator) of model.checkpoint on the configured problems')
    .action(async (flags: CommonFlags) => {
      const ctx = await createRunContext(await configForRun(flags));
      try {
        await evalStage(ctx);
      } finally {
        await ctx.dispose();
      }
    });

  withCommon(program.command('ablate'))
    .description('CCCS on/off x FGO on/off with shared seeds and SFT; writes ablation.md/json')
    .option('--seeds <list>', 'comma-separated seeds', '1,2,3')
    .option(
      '--variants <list>',
      "run only these variants (comma-separated: 'plain PPO', '+CCCS', '+FGO', 'StepCoder (CCCS+FGO)'), e.g. one per process",
    )
    .option('--aggregate-only', 'train nothing: aggregate the cells earlier runs wrote under outDir')
    .action(async (flags: CommonFlags & { seeds: string; variants?: string; aggregateOnly?: boolean }) => {
      await runAblation(
        flags.aggregateOnly ? await loadCheckedConfig(flags.config, flags.set) : await configForRun(flags),
        parseSeeds(flags.seeds),
        {},
        {
          variants: flags.variants?.split(',').map((v) => v.trim()),
          aggregateOnly: flags.aggregateOnly,
        },
      );
    });

  withCommon(program.command('bench'))
    .description('time PPO iterations (generate / execute / update), overlapped vs sequential')
    .option('--iterations <n>', 'timed iterations per mode', '3')
    .action(async (flags: CommonFlags & { iterations: string }) => {
      await runBench(await configForRun(flags), Number(flags.iterations));
    });

  registerDoctorCommand(program);
  registerSyntheticCommand(program);
  registerWorkerCommand(program);
  registerServeCommand(program);

  const curriculum = program.command('curriculum').description('inspect the CCCS curriculum');
  withCommon(curriculum.command('show'))
    .description("print a problem's stages: the given prefix and the part the model writes")
    .argument('[problemId]', 'problem id (default: the first training problem)')
    .action(async (problemId: string | undefined, flags: CommonFlags) => {
      const config = await loadCheckedConfig(flags.config, flags.set);
      const { previewStages } = await import('@stepcoder/curriculum');
      const { train, heldout } = await setupProblems(config);
      const all = [...train, ...heldout];
      const problem = problemId ? all.find((p) => p.id === problemId) : train[0];
      if (!problem) {
        throw new StepcoderError(
          'INVALID_CONFIG',
          `No problem '${problemId}'. Some ids: ${all
            .slice(0, 8)
            .map((p) => p.id)
            .join(', ')}`,
        );
      }
      const preview = await previewStages(problem);
      process.stdout.write(
        `${problem.id}: ${preview.stageCount} stages (split by ${preview.split.method}${preview.split.reason ? `: ${preview.split.reason}` : ''})\n`,
      );
      for (const s of preview.stages) {
        process.stdout.write(
          `\n--- stage ${s.stage}: given ${s.givenPrefix.length} chars, model writes ${s.target.length} chars ---\n`,
        );
        process.stdout.write(`${s.givenPrefix}\u2502${s.target}\n`);
      }
    });

  await program.parseAsync(argv);
}
