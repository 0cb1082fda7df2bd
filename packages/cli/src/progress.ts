import cliProgress from 'cli-progress';

export interface Progress {
  /** `total` changes the total (work whose size is only known once it starts). */
  update(done: number, payload?: Record<string, string | number>, total?: number): void;
  stop(): void;
}

/** Where progress goes: a TTY gets the live bar, anything else plain lines. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean };

export interface ProgressOptions {
  /** Default stderr. */
  stream?: ProgressStream;
  /** Print nothing (tests, nested runs). */
  quiet?: boolean;
  /**
   * Not a TTY: a line at least this often, ms, whether or not the work moved (default 15 000, or
   * env `STEPCODER_PROGRESS_INTERVAL_MS`). Time-based, so a slow phase still shows it is alive and
   * a fast one does not flood the log.
   */
  intervalMs?: number;
  /** Not a TTY: also a line every `logEvery` items. */
  logEvery?: number;
  /** The clock, ms (default `Date.now`). */
  now?: () => number;
  /** Calls `tick` every `ms` until the returned function is called (default an unref'd setInterval). */
  every?: (ms: number, tick: () => void) => () => void;
  /** Treat the stream as a TTY or not (default `stream.isTTY`). */
  tty?: boolean;
}

export const DEFAULT_PROGRESS_INTERVAL_MS = 15_000;

/** 42s, 4m05s, 1h07m. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/**
 * Time left, from the rate so far; `?` until the first item is done (an ETA of "0s" at 0% is a
 * guess presented as a measurement).
 */
export function formatEta(elapsedMs: number, done: number, total: number): string {
  if (done <= 0 || done > total) return '?';
  return formatDuration((elapsedMs * (total - done)) / done);
}

function defaultInterval(): number {
  const env = Number(process.env.STEPCODER_PROGRESS_INTERVAL_MS);
  return Number.isFinite(env) && env > 0 ? env : DEFAULT_PROGRESS_INTERVAL_MS;
}

const unrefInterval = (ms: number, tick: () => void): (() => void) => {
  const timer = setInterval(tick, ms);
  timer.unref?.();
  return () => clearInterval(timer);
};

/**
 * Progress of one long phase (`task`: "sft", "train", "eval before train"…). On a TTY, a live bar
 * with ETA. Anywhere else (pipes, CI, `tee run.log`): one plain line
 * `task done/total | elapsed, ETA | key metric` on the first update, then at least every
 * `intervalMs` (a timer, so a phase stuck in one long step still prints) and when the work
 * completes — bars full of carriage returns make unreadable logs. `total` may be unknown (`?`)
 * until the first update gives it.
 */
export function createProgress(
  task: string,
  total: number | undefined,
  options: ProgressOptions = {},
): Progress {
  if (options.quiet) return { update() {}, stop() {} };
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const started = now();
  if (options.tty ?? stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${task} [{bar}] {percentage}% | {value}/{total} | ETA {etaText} | {info}`,
        stream: stream as NodeJS.WriteStream,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total ?? 1, 0, { info: '', etaText: '?' });
    return {
      update(done, payload, newTotal) {
        if (newTotal !== undefined && newTotal !== bar.getTotal()) bar.setTotal(newTotal);
        bar.update(done, {
          info: payload ? formatPayload(payload) : '',
          etaText: formatEta(now() - started, done, bar.getTotal()),
        });
      },
      stop() {
        bar.stop();
      },
    };
  }

  const intervalMs = options.intervalMs ?? defaultInterval();
  let done = 0;
  let payload: Record<string, string | number> | undefined;
  let updated = false;
  let lastLineAt = Number.NEGATIVE_INFINITY;
  let lastLineDone = Number.NaN;
  let finished = false;
  const line = () => {
    const at = now();
    const elapsed = at - started;
    const eta = total === undefined ? '?' : formatEta(elapsed, done, total);
    const info = payload && Object.keys(payload).length > 0 ? ` | ${formatPayload(payload)}` : '';
    stream.write(`${task} ${done}/${total ?? '?'} | ${formatDuration(elapsed)} elapsed, ETA ${eta}${info}\n`);
    lastLineAt = at;
    lastLineDone = done;
  };
  const stopTimer = (options.every ?? unrefInterval)(intervalMs, () => {
    if (!finished && now() - lastLineAt >= intervalMs) line();
  });
  return {
    update(newDone, newPayload, newTotal) {
      if (finished) return;
      if (newTotal !== undefined) total = newTotal;
      done = newDone;
      if (newPayload) payload = newPayload;
      const first = !updated;
      updated = true;
      const complete = total !== undefined && done >= total;
      const everyN = options.logEvery !== undefined && !(done - lastLineDone < options.logEvery);
      // Synchronous work (an SFT step) can starve the timer: the interval is also checked here.
      if (first || complete || everyN || now() - lastLineAt >= intervalMs) line();
      if (complete) {
        finished = true;
        stopTimer();
      }
    },
    stop() {
      finished = true;
      stopTimer();
    },
  };
}

function formatPayload(payload: Record<string, string | number>): string {
  return Object.entries(payload)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? Number(v.toPrecision(3)) : v}`)
    .join(', ');
}
