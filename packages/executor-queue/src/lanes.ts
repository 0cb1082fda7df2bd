import type { Language } from '@stepcoder/core';
import type { Lane } from './options.js';

/** JavaScript and TypeScript both run in executor-js, so they share one queue. */
export function laneOf(language: Language): Lane {
  return language === 'python' ? 'python' : 'js';
}

export const LANE_LANGUAGES: Record<Lane, readonly Language[]> = {
  python: ['python'],
  js: ['javascript', 'typescript'],
};

/** The BullMQ queue of one lane: a Python-only worker never receives a JavaScript job. */
export function laneQueueName(queue: string, lane: Lane): string {
  return `${queue}.${lane}`;
}

/** Pub/sub channel on which callers ask workers to stop a job they no longer want. */
export function cancelChannel(prefix: string, queue: string): string {
  return `${prefix}:${queue}:cancel`;
}
