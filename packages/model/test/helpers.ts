import type { GPT2Config } from '../src/base.js';

/** Small enough that a forward + backward pass takes milliseconds on 2 slow cores. */
export const TEST_CONFIG: GPT2Config = { vocabSize: 258, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 4 };
