#!/usr/bin/env node
import { StepcoderError } from '@stepcoder/core';
import { Command } from 'commander';
import { main } from './commands.js';

main(new Command(), process.argv).catch((err: unknown) => {
  if (StepcoderError.is(err)) {
    // Expected failures (bad config, missing python3…) get their message, not a stack trace.
    process.stderr.write(`stepcoder: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`stepcoder: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
});
