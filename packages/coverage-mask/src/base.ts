export type { MaskReason, MaskResult } from './mask-input.js';
export { charWeights, type Unit } from './ownership.js';
export type { MaskStats } from './stats.js';
export { maskStats, maskStatsByStrategy } from './stats.js';
export type {
  BranchMaskOptions,
  CoverageMaskStrategy,
  LineMaskOptions,
  NoneMaskOptions,
  SoftMaskOptions,
  StatementMaskOptions,
} from './strategies.js';
export {
  branchMaskSchema,
  createBranchMask,
  createLineMask,
  createNoneMask,
  createSoftMask,
  createStatementMask,
  lineMaskSchema,
  noneMaskSchema,
  softMaskSchema,
  statementMaskSchema,
} from './strategies.js';
