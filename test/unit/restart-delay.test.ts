import { WORKER_RESTARTS } from '../../src/cluster/primary';
import { restartDelayMs, type RestartBackOff } from '../../src/core/restart-delay';

/** The delays before each of `deaths` restarts of a process that dies every time after `livedMs`. */
function delaysOf(backOff: RestartBackOff, deaths: number, livedMs: number): number[] {
  const delays: number[] = [];
  let delay = 0;
  for (let death = 0; death < deaths; death++) {
    delay = restartDelayMs(backOff, livedMs, delay);
    delays.push(delay);
  }
  return delays;
}

describe('restartDelayMs', () => {
  test('when a worker dies after working a while, then its replacement starts at once', () => {
    expect(restartDelayMs(WORKER_RESTARTS, WORKER_RESTARTS.stableAfterMs, 16_000)).toBe(0);
  });

  test('when workers keep dying as they start, then each replacement waits twice as long, up to 30 s', () => {
    expect(delaysOf(WORKER_RESTARTS, 9, 1000)).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  test('when a process that kept dying finally works a while, then the delays start over from the first', () => {
    const backOff: RestartBackOff = { stableAfterMs: 1000, firstDelayMs: 10, longestDelayMs: 50 };

    const afterWorking = restartDelayMs(backOff, 1000, 50);

    expect(afterWorking).toBe(0);
    expect(restartDelayMs(backOff, 10, afterWorking)).toBe(10);
  });
});
