#!/usr/bin/env node
// The published entry point. It exists before any build so that `pnpm install` in the monorepo can
// link the bin; inside the monorepo run `pnpm stepcoder` (TypeScript sources through tsx) instead.
import '../dist/bin.js';
