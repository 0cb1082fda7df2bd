/**
 * Streaming APPS+ load vs JSON.parse of the whole file, on a synthetic ~200 MB APPS+-shaped JSON
 * array (real sample rows, pretty-printed like the release, plus call-based rows with
 * Python-literal arguments). Each method runs in its own child process; peak RSS is that child's
 * `process.resourceUsage().maxRSS`. The temp file is deleted at the end.
 *
 * Usage: pnpm bench [-- --mb 200]
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const mbArg = process.argv.indexOf('--mb');
const targetMb = mbArg > 0 ? Number(process.argv[mbArg + 1]) : 200;
const here = fileURLToPath(new URL('.', import.meta.url));
const fixtures = join(here, '..', 'test', 'fixtures');

async function generate(path: string): Promise<{ rows: number; bytes: number }> {
  const sample = [
    ...(JSON.parse(await readFile(join(fixtures, 'apps-plus-sample', 'train.json'), 'utf8')) as object[]),
    ...(JSON.parse(await readFile(join(fixtures, 'apps-plus-sample', 'valid.json'), 'utf8')) as object[]),
    ...(JSON.parse(await readFile(join(fixtures, 'apps-plus', 'good.json'), 'utf8')) as object[]).slice(1, 3),
  ];
  const out = createWriteStream(path);
  let failure: Error | undefined;
  out.on('error', (err) => {
    failure = err;
  });
  const write = (s: string) =>
    new Promise<void>((resolve, reject) => {
      if (failure) reject(failure);
      else if (out.write(s)) resolve();
      else out.once('drain', resolve);
    });
  const target = targetMb * 1024 * 1024;
  let bytes = 0;
  let rows = 0;
  await write('[\n');
  while (bytes < target) {
    const row = { ...sample[rows % sample.length]!, id: rows };
    const text = (rows === 0 ? '' : ',\n') + JSON.stringify(row, null, 4);
    bytes += Buffer.byteLength(text);
    rows++;
    await write(text);
  }
  await write('\n]\n');
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  return { rows, bytes: (await stat(path)).size };
}

interface Measure {
  rows: number;
  seconds: number;
  maxRssMb: number;
}

function measure(mode: string, file: string): Measure | string {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(here, 'child.ts'), mode, file], {
      cwd: join(here, '..'),
      maxBuffer: 1 << 20,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = out.toString().trim().split('\n').pop()!;
    return JSON.parse(line) as Measure;
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    return `failed: ${(e.stderr?.toString() || e.message).split('\n').find((l) => l.trim()) ?? 'unknown'}`;
  }
}

const dir = await mkdtemp(join(tmpdir(), 'stepcoder-bench-'));
try {
  const file = join(dir, 'apps-plus-synthetic.json');
  const gen = await generate(file);
  const mb = gen.bytes / 1024 / 1024;
  console.log(`Synthetic APPS+ file: ${mb.toFixed(1)} MB, ${gen.rows} rows (node ${process.version})\n`);
  const runs: Array<[string, string]> = [
    ['JSON.parse whole file (baseline)', 'json-parse'],
    ['apps-plus loader (splitter + JSON.parse per row + validation)', 'loader'],
    ['stream-json StreamArray (elements only, no mapping)', 'stream-json'],
  ];
  const results = runs.map(([label, mode]) => [label, measure(mode, file)] as const);
  const base = results[0]![1];
  console.log('| method | rows | time (s) | MB/s | peak RSS (MB) | time vs baseline | RSS vs baseline |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const [label, r] of results) {
    if (typeof r === 'string') {
      console.log(`| ${label} | – | – | – | – | ${r} | – |`);
      continue;
    }
    const ratio = (x: number, y: number | undefined) => (y ? `${(x / y).toFixed(2)}x` : '–');
    const b = typeof base === 'string' ? undefined : base;
    console.log(
      `| ${label} | ${r.rows} | ${r.seconds.toFixed(2)} | ${(mb / r.seconds).toFixed(1)} | ${r.maxRssMb.toFixed(0)} | ${ratio(r.seconds, b?.seconds)} | ${ratio(r.maxRssMb, b?.maxRssMb)} |`,
    );
  }
  const loader = results[1]![1];
  if (typeof loader !== 'string') {
    console.log(
      `\nStreaming loader peak RSS ${loader.maxRssMb.toFixed(0)} MB (limit 300 MB): ${loader.maxRssMb < 300 ? 'OK' : 'OVER'}`,
    );
  }
  console.log('Timings are noisy: the machine is shared with other jobs.');
} finally {
  await rm(dir, { recursive: true, force: true });
}
