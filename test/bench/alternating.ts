import type { Measurement } from './measure';

/**
 * Which of two rows each run measures: each three times, and neither always first. On these
 * shared machines a row's rate moves by up to a fifth from one run to the next, with the
 * machine rather than the server; measured once each, two rows could land in different
 * weather.
 */
const ALTERNATING_ORDER = [0, 1, 1, 0, 0, 1] as const;

/** Of several runs of one row, the one that served more: interference only ever slows a run. */
export function fastest(runs: readonly Measurement[]): Measurement {
  return runs.reduce((best, run) => (run.requestsPerSecond > best.requestsPerSecond ? run : best));
}

/** Measures two rows in ALTERNATING_ORDER and keeps each one's fastest run. */
export async function fastestOfAlternating(
  first: () => Promise<Measurement>,
  second: () => Promise<Measurement>,
): Promise<[Measurement, Measurement]> {
  const rows = [
    { run: first, runs: [] as Measurement[] },
    { run: second, runs: [] as Measurement[] },
  ] as const;
  for (const which of ALTERNATING_ORDER) rows[which].runs.push(await rows[which].run());
  return [fastest(rows[0].runs), fastest(rows[1].runs)];
}
