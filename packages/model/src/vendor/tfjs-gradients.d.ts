import type { GradConfig } from '@tensorflow/tfjs-core';

/** Every gradient definition of @tensorflow/tfjs-core (see scripts/bundle-gradients.mjs). */
export declare const gradConfigs: GradConfig[];
