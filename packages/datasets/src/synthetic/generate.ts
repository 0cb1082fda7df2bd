import { createRng, type Problem, type Rng, validate } from '@stepcoder/core';
import { z } from 'zod';
import { SYNTHETIC_FAMILIES } from './families/index.js';
import type { Family } from './family.js';
import { interpret } from './interpret.js';
import { signature } from './render.js';
import { combinationKey, type FamilySplit, splitFamily } from './split.js';
import { renderTests, statement, TEST_FORMS } from './test-forms.js';

export const syntheticSuiteOptionsSchema = z
  .object({
    language: z.enum(['python', 'javascript']),
    /** Seeds the instances (constants, test inputs, test forms); not the split. */
    seed: z.number().int().default(0),
    /** Total problems, train and held-out together. */
    count: z.number().int().positive().max(1_000_000).default(6000),
    /** Fraction of each family's combination keys held out (≥ 1 key per family when > 0). */
    heldoutFraction: z.number().min(0).max(0.9).default(0.12),
    /**
     * Fraction of the problems of *trained* combinations dealt to the in-distribution `test` split
     * (new instances of combinations that training sees; APPS+'s test set is of this kind). Test
     * problems share no statement and no canonical program with any training problem: a drawn test
     * problem that repeats one goes to training instead. Default 0 (no test split).
     */
    testFraction: z.number().min(0).max(0.5).default(0),
    /** Seeds which combinations are held out; the same for every `seed` and both languages. */
    splitSeed: z.number().int().default(0),
    /** Only these families (default: all); an unknown name is an error at creation. */
    families: z
      .array(
        z.string().refine((name) => SYNTHETIC_FAMILIES.some((f) => f.name === name), {
          error: (issue) =>
            `unknown synthetic family '${String(issue.input)}'. Known: ${SYNTHETIC_FAMILIES.map((f) => f.name).join(', ')}`,
        }),
      )
      .min(1)
      .optional(),
  })
  .strict();

export type SyntheticSuiteOptions = z.input<typeof syntheticSuiteOptionsSchema>;

export interface SyntheticSuite {
  train: Problem[];
  /** New instances of trained combinations (`testFraction`), disjoint from `train`. */
  test: Problem[];
  /** Unseen combinations of trained components. */
  heldout: Problem[];
  /** Names of the families generated, in dealing order. */
  families: string[];
}

/** Weights of the test forms call / assert / stdio: function tests are the common case. */
const FORM_WEIGHTS = [2, 1, 1];

export function syntheticFamilyNames(): string[] {
  return SYNTHETIC_FAMILIES.map((f) => f.name);
}

/** Splits depend only on (family, fraction, splitSeed): computed once per process. */
const splitCache = new Map<string, FamilySplit>();
function cachedSplit(family: Family, fraction: number, splitSeed: number): FamilySplit {
  const key = `${family.name}|${fraction}|${splitSeed}`;
  let split = splitCache.get(key);
  if (!split) {
    split = splitFamily(family, fraction, splitSeed);
    splitCache.set(key, split);
  }
  return split;
}

/** The families to deal, in the order given (names are checked by the options schema). */
function selectFamilies(names: string[] | undefined): readonly Family[] {
  if (!names) return SYNTHETIC_FAMILIES;
  return names.map((name) => SYNTHETIC_FAMILIES.find((f) => f.name === name)!);
}

/** Draws of a new instance when its tests are degenerate or its statement was already dealt. */
const REDRAWS = 8;

function draw(family: Family, combinations: string[][], rng: Rng) {
  const combination = rng.split('combination').choice(combinations);
  const draft = family.build(combination, rng.split('build'));
  const form = TEST_FORMS[rng.split('form').categorical(FORM_WEIGHTS)]!;
  const outputs = draft.inputs.map((args) => interpret(draft.fn, args));
  // Tests whose expected outputs are all equal cannot tell a program from `return <constant>`
  // (e.g. "keeps the odd items, then the even ones" always gives []).
  const first = JSON.stringify(outputs[0]);
  const degenerate = outputs.every((o) => JSON.stringify(o) === first);
  return { combination, draft, form, outputs, degenerate, prompt: statement(draft, form) };
}

/**
 * Generate the procedural suite: problems are dealt round-robin over the families; each draws a
 * combination uniformly from its family, so about `heldoutFraction` of the problems are held out.
 * Deterministic: the same options give the same problems, byte for byte; Python and JavaScript
 * suites of one seed hold the same instances.
 */
export function generateSyntheticSuite(options: SyntheticSuiteOptions): SyntheticSuite {
  const opts = validate(syntheticSuiteOptionsSchema, options, 'options of generateSyntheticSuite');
  const families = selectFamilies(opts.families);
  const splits = families.map((f) => cachedSplit(f, opts.heldoutFraction, opts.splitSeed));
  const root = createRng(opts.seed).split('synthetic');
  const tag = opts.language === 'python' ? 'py' : 'js';
  const width = String(opts.count - 1).length;
  const train: Problem[] = [];
  const heldout: Problem[] = [];
  const drafts: Problem[] = [];
  const prompts = new Set<string>();
  // Redraws per family are capped at two per problem on average: families whose statements run out
  // (few constants) stop paying for draws that cannot find a new one.
  const redrawBudget = families.map(() => 2 * Math.ceil(opts.count / families.length));
  for (let i = 0; i < opts.count; i++) {
    const f = i % families.length;
    const family = families[f]!;
    const { combinations, heldout: heldoutKeys } = splits[f]!;
    // Redraw (up to REDRAWS times) an instance whose tests are degenerate, or whose statement was
    // already dealt, so that families with small instance spaces do not fill the suite with
    // copies; combinations with a single possible statement (e.g. "the number of items of xs that
    // are odd") still appear, less often.
    let drawn = draw(family, combinations, root.split(i));
    let fallback = drawn.degenerate ? undefined : drawn;
    for (let attempt = 1; attempt < REDRAWS; attempt++) {
      const repeat = prompts.has(drawn.prompt) && redrawBudget[f]! > 0;
      if (!drawn.degenerate && !repeat) break;
      if (!drawn.degenerate) redrawBudget[f]! -= 1;
      drawn = draw(family, combinations, root.split(`${i}/${attempt}`));
      fallback ??= drawn.degenerate ? undefined : drawn;
    }
    // Out of draws: a repeated statement is better than tests that prove nothing.
    if (drawn.degenerate && fallback) drawn = fallback;
    const { combination, draft, form, outputs, prompt } = drawn;
    prompts.add(prompt);
    const key = combinationKey(family.name, combination);
    const { program, tests } = renderTests(draft, outputs, form, opts.language);
    // The test draw has its own stream: the instances (and so the training set of testFraction 0)
    // do not depend on it.
    const split = heldoutKeys.has(key)
      ? 'heldout'
      : opts.testFraction > 0 && root.split(`test/${i}`).next() < opts.testFraction
        ? 'test'
        : 'train';
    const problem: Problem = {
      id: `synthetic-${tag}/${String(i).padStart(width, '0')}`,
      prompt,
      language: opts.language,
      canonicalSolutions: [program],
      starterCode: signature(draft.fn, opts.language),
      tests,
      difficulty: family.difficulty,
      source: { dataset: 'synthetic', row: i + 1 },
      meta: {
        split,
        family: family.name,
        combination: key,
        components: combination,
        testForm: form,
        lines: program.split('\n').length - 1,
        ...draft.meta,
      },
    };
    (split === 'train' ? train : split === 'test' ? drafts : heldout).push(problem);
  }
  // Disjoint by text: a test problem whose statement or program a training problem also has (small
  // instance spaces repeat) is a training problem.
  // And in distribution: a test problem whose combination no training problem has (rare
  // combinations) is a training problem too.
  const seenPrompts = new Set(train.map((p) => p.prompt));
  const seenPrograms = new Set(train.map((p) => p.canonicalSolutions[0]));
  const trainedCombinations = new Set(train.map((p) => p.meta?.combination));
  const test: Problem[] = [];
  for (const p of drafts) {
    if (
      seenPrompts.has(p.prompt) ||
      seenPrograms.has(p.canonicalSolutions[0]) ||
      !trainedCombinations.has(p.meta?.combination)
    ) {
      train.push({ ...p, meta: { ...p.meta, split: 'train' } });
    } else test.push(p);
  }
  train.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { train, test, heldout, families: families.map((f) => f.name) };
}
