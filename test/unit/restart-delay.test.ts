import { restartDelayMs, STABLE_AFTER_MS } from '../../src/cluster/restart-delay';

describe('restartDelayMs', () => {
  test('when a worker dies after working a while, then its replacement starts at once', () => {
    expect(restartDelayMs(STABLE_AFTER_MS, 16_000)).toBe(0);
  });

  test('when workers keep dying as they start, then each replacement waits twice as long, up to 30 s', () => {
    const delays: number[] = [];
    let delay = 0;
    for (let death = 0; death < 9; death++) {
      delay = restartDelayMs(1000, delay);
      delays.push(delay);
    }

    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });
});
