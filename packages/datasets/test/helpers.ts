import { fileURLToPath } from 'node:url';

export function fixture(...parts: string[]): string {
  return fileURLToPath(new URL(`./fixtures/${parts.join('/')}`, import.meta.url));
}
