import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface MetricsRow {
  step: number;
  [name: string]: number | string | undefined;
}

/** Appends one JSON object per line; each write is flushed so a killed run keeps its metrics. */
export class MetricsLog {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  write(row: MetricsRow): void {
    appendFileSync(this.path, `${JSON.stringify(row)}\n`);
  }

  /** No file yet (a run of zero steps wrote no row) reads as no rows. */
  static read(path: string): MetricsRow[] {
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as MetricsRow);
  }
}
