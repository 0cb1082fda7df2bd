/**
 * One measured run, in its own process so that its peak RSS (`resourceUsage().maxRSS`) is its own.
 * Usage: tsx bench/child.ts <loader|json-parse|stream-json> <file>
 * Prints one JSON line: { rows, seconds, maxRssMb }.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createAppsPlusLoader } from '../src/base.js';

const [mode, file] = process.argv.slice(2);
if (!mode || !file) throw new Error('usage: child.ts <mode> <file>');

async function run(): Promise<number> {
  if (mode === 'loader') {
    let rows = 0;
    const stream = createAppsPlusLoader().load(file!);
    for await (const _ of stream) rows++;
    const s = stream.summary();
    if (s.skipped > 0) throw new Error(`unexpected issues: ${JSON.stringify(s.issues.slice(0, 3))}`);
    return rows;
  }
  if (mode === 'json-parse') {
    const all = JSON.parse(readFileSync(file!, 'utf8')) as unknown[];
    return all.length;
  }
  if (mode === 'stream-json') {
    const require = createRequire(import.meta.url);
    const { parser } = require('stream-json');
    const { streamArray } = require('stream-json/streamers/StreamArray');
    const { createReadStream } = await import('node:fs');
    let rows = 0;
    const pipeline = createReadStream(file!).pipe(parser()).pipe(streamArray());
    for await (const _ of pipeline) rows++;
    return rows;
  }
  throw new Error(`unknown mode ${mode}`);
}

const start = performance.now();
const rows = await run();
const seconds = (performance.now() - start) / 1000;
console.log(JSON.stringify({ rows, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
