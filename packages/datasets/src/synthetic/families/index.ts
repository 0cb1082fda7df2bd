import type { Family } from '../family.js';
import { arith2Family, arithFamily } from './arithmetic.js';
import { composeFamily, longPipelineFamily } from './compositions.js';
import { branchyFamily, branchyLoopFamily, clampFamily, thresholdFamily } from './conditionals.js';
import { listAggFamily, listMapFamily } from './lists.js';
import { digitsFamily, fizzbuzzFamily, rangeAccFamily } from './loops.js';
import { stringChainFamily, stringCountFamily } from './strings.js';

/** Every family, in the order problems are dealt out (round robin). */
export const SYNTHETIC_FAMILIES: readonly Family[] = [
  arithFamily,
  arith2Family,
  listAggFamily,
  listMapFamily,
  stringChainFamily,
  stringCountFamily,
  thresholdFamily,
  clampFamily,
  rangeAccFamily,
  fizzbuzzFamily,
  digitsFamily,
  composeFamily,
  longPipelineFamily,
  branchyFamily,
  branchyLoopFamily,
];
