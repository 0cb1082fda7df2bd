#!/usr/bin/env node
import { StepcoderError } from '@stepcoder/core';
import { Command } from 'commander';
import { main } from './commands.js';

const program = new Command();
try {
  await main(program, process.argv);
} catch (err) {
  if (StepcoderError.is(err)) {
    process.stderr.write(`stepcoder: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`stepcoder: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
