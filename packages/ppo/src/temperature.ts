/**
 * Temperature at which a policy sampled at `temperature` is scored: T itself, or 1 for greedy
 * decoding (T = 0 has no distribution to score). Mirrors `scoringTemperature` in @stepcoder/model,
 * which ppo does not import at run time (it depends on the Policy contract only).
 */
export function scoringTemperature(temperature: number | undefined): number {
  return temperature !== undefined && temperature > 0 ? temperature : 1;
}
