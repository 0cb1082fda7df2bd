/**
 * A small typed event bus. The trainer and plugins publish; loggers, progress bars and tests
 * subscribe. Handlers that throw are isolated: one bad subscriber never breaks training.
 */
export interface MetricEvent {
  name: string;
  value: number;
  step?: number;
  tags?: Record<string, string>;
}

export interface LogEvent {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  source?: string;
  details?: Record<string, unknown>;
}

export interface ProgressEvent {
  task: string;
  done: number;
  total?: number;
}

/** Events every bus knows; extend with `declare module '@stepcoder/core'`. */
export interface StepcoderEvents {
  metric: MetricEvent;
  log: LogEvent;
  progress: ProgressEvent;
  /** A sample was left out of training (bad row, infra_error, generation failure). */
  'sample:skipped': { reason: string; problemId?: string; details?: Record<string, unknown> };
}

export type EventHandler<T> = (payload: T) => void;

export class EventBus<Events extends object = StepcoderEvents> {
  private readonly handlers = new Map<keyof Events, Set<EventHandler<never>>>();
  /** Errors thrown by handlers; kept so they are not lost, reported through `log` when possible. */
  readonly handlerErrors: unknown[] = [];

  on<E extends keyof Events>(event: E, handler: EventHandler<Events[E]>): () => void {
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handler as EventHandler<never>);
    return () => this.off(event, handler);
  }

  once<E extends keyof Events>(event: E, handler: EventHandler<Events[E]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      handler(payload);
    });
    return off;
  }

  off<E extends keyof Events>(event: E, handler: EventHandler<Events[E]>): void {
    this.handlers.get(event)?.delete(handler as EventHandler<never>);
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const set = this.handlers.get(event);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        (handler as EventHandler<Events[E]>)(payload);
      } catch (err) {
        this.handlerErrors.push(err);
      }
    }
  }

  listenerCount(event: keyof Events): number {
    return this.handlers.get(event)?.size ?? 0;
  }
}

export function createEventBus<Events extends object = StepcoderEvents>(): EventBus<Events> {
  return new EventBus<Events>();
}
