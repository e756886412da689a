import { createSingleFlight } from '../../src/core/single-flight';

/** Work that ends when told, counting how often it was started. */
function countedWork() {
  const finishers: ((value: string) => void)[] = [];
  const start = () =>
    new Promise<string>((resolve) => {
      finishers.push(resolve);
    });
  return { start, started: () => finishers.length, finish: (value: string) => finishers.at(-1)?.(value) };
}

describe('single flight', () => {
  test('when two ask for one key while its work runs, then the work runs once and both get its result', async () => {
    const flights = createSingleFlight<string>();
    const { start, started, finish } = countedWork();

    const first = flights.join('a', start);
    const second = flights.join('a', start);
    finish('done');

    await expect(Promise.all([first, second])).resolves.toEqual(['done', 'done']);
    expect(started()).toBe(1);
  });

  test('when two ask for different keys, then each key gets work of its own', () => {
    const flights = createSingleFlight<string>();
    const { start, started } = countedWork();

    void flights.join('a', start);
    void flights.join('b', start);

    expect(started()).toBe(2);
  });

  test('when the work for a key has ended, then the next to ask starts it again', async () => {
    const flights = createSingleFlight<string>();
    const { start, started, finish } = countedWork();
    const first = flights.workFor('a', start);
    finish('first');
    await first.ended;

    const second = flights.join('a', start);
    finish('second');

    await expect(second).resolves.toBe('second');
    expect(started()).toBe(2);
  });

  test('when the work failed, then its waiters get the failure and the next to ask starts again', async () => {
    const flights = createSingleFlight<string>();
    const failing = flights.workFor('a', () => Promise.reject(new Error('broken')));
    await expect(failing.join()).rejects.toThrow('broken');
    await failing.ended;

    await expect(flights.join('a', () => Promise.resolve('fine'))).resolves.toBe('fine');
  });

  test('when every waiter has left, then the work is told so and the next to ask starts afresh rather than join it', async () => {
    const flights = createSingleFlight<string>();
    const { start, started, finish } = countedWork();
    const signals: AbortSignal[] = [];
    const leaving = new AbortController();
    const startNoting = (nobodyWaits: AbortSignal) => {
      signals.push(nobodyWaits);
      return start();
    };
    const left = flights.join('a', startNoting, leaving.signal);

    leaving.abort(new Error('gone'));
    await expect(left).rejects.toThrow('gone');
    const next = flights.join('a', start);
    finish('afresh');

    await expect(next).resolves.toBe('afresh');
    expect(signals[0]?.aborted).toBe(true);
    expect(started()).toBe(2);
  });

  test('when one waiter has no signal, then the others leaving do not abandon the work', async () => {
    const flights = createSingleFlight<string>();
    const { start, started, finish } = countedWork();
    const leaving = new AbortController();
    const staying = flights.join('a', start);
    const left = flights.join('a', start, leaving.signal);

    leaving.abort(new Error('gone'));
    await expect(left).rejects.toThrow('gone');
    const third = flights.join('a', start);
    finish('kept');

    await expect(Promise.all([staying, third])).resolves.toEqual(['kept', 'kept']);
    expect(started()).toBe(1);
  });
});
