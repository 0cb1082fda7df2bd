import cliProgress from 'cli-progress';

export interface Progress {
  /** `total` changes the bar's total (work whose size is only known once it starts). */
  update(done: number, payload?: Record<string, string | number>, total?: number): void;
  stop(): void;
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
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${task} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {info}`,
        stream,
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { info: '' });
    return {
      update(done, payload, newTotal) {
        if (newTotal !== undefined && newTotal !== bar.getTotal()) bar.setTotal(newTotal);
        bar.update(done, { info: payload ? formatPayload(payload) : '' });
      },
      stop() {
        bar.stop();
      },
    };
  }
  const started = Date.now();
  let last = -1;
  return {
    update(done, payload, newTotal) {
      if (newTotal !== undefined) total = newTotal;
      const every = options.logEvery ?? Math.max(1, Math.ceil(total / 10));
      if (done !== total && done - last < every) return;
      last = done;
      const elapsed = (Date.now() - started) / 1000;
      const eta = done > 0 ? (elapsed / done) * (total - done) : Number.NaN;
      const info = payload ? ` | ${formatPayload(payload)}` : '';
      stream.write(
        `${task} ${done}/${total} | ${elapsed.toFixed(0)}s elapsed, ETA ${Number.isFinite(eta) ? `${eta.toFixed(0)}s` : '?'}${info}\n`,
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
