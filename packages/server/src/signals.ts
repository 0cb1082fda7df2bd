import type { StepcoderServer } from './server.js';

/**
 * Close the server gracefully on SIGTERM / SIGINT (a second signal exits at once). Returns a
 * function that removes the handlers.
 */
export function closeOnSignals(
  server: StepcoderServer,
  onClosed: (signal: NodeJS.Signals) => void = () => process.exit(0),
): () => void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    void server.close().then(() => onClosed(signal));
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
