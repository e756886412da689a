import { AppError } from '../../src/core/app-error';
import { createTransformationLimiter } from '../../src/variants/transformation-limiter';

interface ControlledTask {
  readonly task: () => Promise<string>;
  readonly finish: () => void;
}

/** A task that runs until `finish` is called, recording that it started. */
function controlledTask(started: string[], name: string): ControlledTask {
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    task: async () => {
      started.push(name);
      await done;
      return name;
    },
    finish: () => {
      finish();
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('createTransformationLimiter', () => {
  test('when more tasks come than may run, then the rest wait their turn in order and the queue overflow is refused with Retry-After', async () => {
    const limiter = createTransformationLimiter({ concurrency: 2, queueLength: 1 });
    const started: string[] = [];
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => controlledTask(started, name)) as [
      ControlledTask,
      ControlledTask,
      ControlledTask,
      ControlledTask,
    ];

    const runs = [a, b, c].map(({ task }) => limiter.run(task));
    const refused = limiter.run(d.task).catch((error: unknown) => error);
    await tick();

    expect(started).toEqual(['a', 'b']);
    const error = await refused;
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'transformations-busy', status: 503, headers: { 'Retry-After': '1' } });
    a.finish();
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    b.finish();
    c.finish();
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'c']);
  });

  test('when a waiting task is abandoned, then it leaves the queue unstarted while the running one goes on, and the next takes its turn', async () => {
    const limiter = createTransformationLimiter({ concurrency: 1, queueLength: 2 });
    const started: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => controlledTask(started, name)) as [ControlledTask, ControlledTask, ControlledTask];
    const abandonA = new AbortController();
    const abandonB = new AbortController();

    const runA = limiter.run(a.task, abandonA.signal);
    const runB = limiter.run(b.task, abandonB.signal).catch((error: unknown) => error);
    const runC = limiter.run(c.task);
    await tick();
    expect({ running: limiter.running, waiting: limiter.waiting }).toEqual({ running: 1, waiting: 2 });

    abandonA.abort(new Error('a left'));
    abandonB.abort(new Error('b left'));
    expect(await runB).toEqual(new Error('b left'));
    expect({ running: limiter.running, waiting: limiter.waiting }).toEqual({ running: 1, waiting: 1 });
    a.finish();
    await tick();
    expect(started).toEqual(['a', 'c']);
    c.finish();
    expect(await Promise.all([runA, runC])).toEqual(['a', 'c']);
    expect({ running: limiter.running, waiting: limiter.waiting }).toEqual({ running: 0, waiting: 0 });
  });

  test('when a task comes already abandoned, then it is refused with the reason and takes no slot', async () => {
    const limiter = createTransformationLimiter({ concurrency: 1, queueLength: 0 });
    const gone = new AbortController();
    gone.abort(new Error('gone'));

    await expect(limiter.run(() => Promise.resolve('never'), gone.signal)).rejects.toThrow('gone');
    await expect(limiter.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });

  test('when a task fails, then its slot is freed for the next', async () => {
    const limiter = createTransformationLimiter({ concurrency: 1, queueLength: 0 });

    await expect(limiter.run(() => Promise.reject(new Error('broken')))).rejects.toThrow('broken');
    await expect(limiter.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });
});
