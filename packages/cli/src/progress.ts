import cliProgress from 'cli-progress';

export interface Progress {
  /** `total` changes the bar's total (work whose size is only known once it starts). */
  update(done: number, payload?: Record<string, string | number>, total?: number): void;
  stop(): void;
}

/**
 * Time left, from the rate so far; `?` until the first item is done (an ETA of "0s" at 0% is a
 * guess presented as a measurement).
 */
export function formatEta(elapsedMs: number, done: number, total: number): string {
  if (done <= 0 || done > total) return '?';
  const seconds = Math.round(((elapsedMs / 1000) * (total - done)) / done);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/**
 * A progress bar with ETA on a TTY; on pipes and CI logs, one plain line every `logEvery` items
 * (bars full of carriage returns make unreadable logs).
 */
export function createProgress(
  task: string,
  total: number,
  options: { stream?: NodeJS.WriteStream; logEvery?: number; quiet?: boolean } = {},
): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return { update() {}, stop() {} };
  const started = Date.now();
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${task} [{bar}] {percentage}% | {value}/{total} | ETA {etaText} | {info}`,
        stream,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { info: '', etaText: '?' });
    return {
      update(done, payload, newTotal) {
        if (newTotal !== undefined && newTotal !== bar.getTotal()) bar.setTotal(newTotal);
        bar.update(done, {
          info: payload ? formatPayload(payload) : '',
          etaText: formatEta(Date.now() - started, done, bar.getTotal()),
        });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let last = -1;
  return {
    update(done, payload, newTotal) {
      if (newTotal !== undefined) total = newTotal;
      const every = options.logEvery ?? Math.max(1, Math.ceil(total / 10));
      if (done !== total && done - last < every) return;
      last = done;
      const elapsed = Date.now() - started;
      const info = payload ? ` | ${formatPayload(payload)}` : '';
      stream.write(
        `${task} ${done}/${total} | ${(elapsed / 1000).toFixed(0)}s elapsed, ETA ${formatEta(elapsed, done, total)}${info}\n`,
      );
    },
    stop() {},
  };
}

function formatPayload(payload: Record<string, string | number>): string {
  return Object.entries(payload)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? Number(v.toPrecision(3)) : v}`)
    .join(', ');
}
