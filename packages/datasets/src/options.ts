import { z } from 'zod';

const seedSchema = z.union([z.number().int(), z.string().min(1)]);

/**
 * Options every loader takes. Order of application: validate each row → filter → split → cap tests
 * → shuffle → limit.
 */
export const commonOptionsSchema = z.object({
  /** `skip` (default): a malformed row is reported in the summary and skipped. `fatal`: it throws. */
  mode: z.enum(['skip', 'fatal']).default('skip'),
  /** Keep only these difficulties / languages / test forms, and problems with a test count in range. */
  filter: z
    .object({
      difficulties: z.array(z.string()).optional(),
      languages: z.array(z.enum(['python', 'javascript', 'typescript'])).optional(),
      testKinds: z.array(z.enum(['stdio', 'call', 'assert'])).optional(),
      minTests: z.number().int().nonnegative().optional(),
      maxTests: z.number().int().nonnegative().optional(),
      /** Keep only problems with at least one canonical solution. */
      requireCanonical: z.boolean().optional(),
    })
    .strict()
    .optional(),
  /**
   * Deterministic train/test split by problem id: a problem is in `test` when a hash of
   * (seed, id) falls under `testFraction`. Independent of file order, and streams.
   */
  split: z
    .object({
      seed: seedSchema,
      testFraction: z.number().min(0).max(1),
      part: z.enum(['train', 'test']),
    })
    .strict()
    .optional(),
  /** Keep at most this many tests per problem: the first N, or a seeded sample with `testSampleSeed`. */
  maxTestsPerProblem: z.number().int().positive().optional(),
  testSampleSeed: seedSchema.optional(),
  /**
   * Seeded shuffle. Without `buffer` every problem is held in memory and shuffled uniformly;
   * with `buffer: N` a window of N problems is shuffled as it streams (bounded memory, not uniform).
   */
  shuffle: z.object({ seed: seedSchema, buffer: z.number().int().positive().optional() }).strict().optional(),
  /** Stop after this many problems (after shuffling, so a shuffled limit is a random subset). */
  limit: z.number().int().positive().optional(),
  /** Issues kept in the summary (all are counted). */
  maxIssues: z.number().int().positive().default(1000),
});

export type CommonOptionsInput = z.input<typeof commonOptionsSchema>;
export type CommonOptions = z.output<typeof commonOptionsSchema>;

/**
 * The import header APPS's testing harness (and StepCoder's APPS+ harness after it) prepends to
 * every program. numpy is left out: it is not always installed, and RLIMIT_AS breaks its threads.
 */
export const APPS_IMPORT_HEADER = [
  'import sys',
  'import time',
  'import itertools',
  'from itertools import accumulate, product, permutations, combinations',
  'import collections',
  'from collections import Counter, OrderedDict, deque, defaultdict, ChainMap',
  'from functools import lru_cache',
  'import math',
  'from math import sqrt, sin, cos, tan, ceil, fabs, floor, gcd, exp, log, log2',
  'import fractions',
  'from typing import List, Tuple, Optional, Dict, Set',
  'import random',
  'import heapq',
  'from heapq import *',
  '',
].join('\n');
