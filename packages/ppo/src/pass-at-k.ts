import { StepcoderError } from '@stepcoder/core';

/**
 * Unbiased pass@k (Chen et al., 2021): 1 − C(n−c, k) / C(n, k), computed as the product
 * 1 − Π_{i=n−c+1}^{n} (1 − k/i), which never forms the (huge) binomials.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || n < 1 || k < 1) {
    throw new StepcoderError(
      'INVALID_OPTIONS',
      `passAtK needs integers n ≥ 1, k ≥ 1, got n=${n} c=${c} k=${k}`,
    );
  }
  if (c < 0 || c > n) throw new StepcoderError('INVALID_OPTIONS', `passAtK: c=${c} must be in [0, n=${n}]`);
  if (k > n) throw new StepcoderError('INVALID_OPTIONS', `passAtK: k=${k} must not exceed n=${n}`);
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}
