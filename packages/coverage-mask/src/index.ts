import { registry } from '@stepcoder/core';
import {
  type BranchMaskOptions,
  branchMaskSchema,
  createBranchMask,
  createLineMask,
  createNoneMask,
  createSoftMask,
  createStatementMask,
  type LineMaskOptions,
  lineMaskSchema,
  type NoneMaskOptions,
  noneMaskSchema,
  type SoftMaskOptions,
  type StatementMaskOptions,
  softMaskSchema,
  statementMaskSchema,
} from './strategies.js';

export * from './base.js';

declare module '@stepcoder/core' {
  interface PluginOptions {
    'mask:none': NoneMaskOptions;
    'mask:line': LineMaskOptions;
    'mask:statement': StatementMaskOptions;
    'mask:branch': BranchMaskOptions;
    'mask:soft': SoftMaskOptions;
  }
}

// `override` keeps a second copy of this package (or a re-import in tests) from failing.
registry.register('mask', 'none', createNoneMask, {
  schema: noneMaskSchema,
  override: true,
  description: 'every token weight 1 (plain PPO baseline)',
});
registry.register('mask', 'line', createLineMask, {
  schema: lineMaskSchema,
  override: true,
  description: 'FGO as published: tokens on unexecuted lines get 0',
});
registry.register('mask', 'statement', createStatementMask, {
  schema: statementMaskSchema,
  override: true,
  description: 'tokens of unexecuted statements get 0 (by source range)',
});
registry.register('mask', 'branch', createBranchMask, {
  schema: branchMaskSchema,
  override: true,
  description: 'statement mask plus untaken arms of partially covered conditionals',
});
registry.register('mask', 'soft', createSoftMask, {
  schema: softMaskSchema,
  override: true,
  description: 'weight from hit counts: floor + (1 - floor) * min(1, hits / saturation)',
});
