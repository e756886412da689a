import { systemClock } from '../../src/core/clock';
import { createImageCache } from '../../src/storage/image-cache';
import type { ImageRecord } from '../../src/storage/image-repository';
import { stoppedClock } from '../helpers/clock';

function record(id: string): ImageRecord {
  return {
    id,
    fileId: id,
    filename: 'a.png',
    contentType: 'image/png',
    size: 10,
    uploadDate: new Date(0),
    sha256: undefined,
    width: undefined,
    height: undefined,
    chunkSize: 261120,
    entityTag: id,
  };
}

describe('createImageCache', () => {
  test('when bodies exceed the byte budget, then the least recently used go first', () => {
    const cache = createImageCache({ maxBytes: 3000, maxItemBytes: 1000, ttlSeconds: 0, clock: systemClock });
    cache.setBody('a', Buffer.alloc(1000));
    cache.setBody('b', Buffer.alloc(1000));
    cache.getBody('a');
    cache.setBody('c', Buffer.alloc(1000));
    cache.setBody('d', Buffer.alloc(1000));

    expect(cache.getBody('b')).toBeUndefined();
    expect(cache.getBody('a')).toBeDefined();
    expect(cache.getBody('c')).toBeDefined();
    expect(cache.getBody('d')).toBeDefined();
  });

  test('when a body is over the item limit, then it is not kept', () => {
    const cache = createImageCache({ maxBytes: 10_000, maxItemBytes: 100, ttlSeconds: 0, clock: systemClock });
    cache.setBody('big', Buffer.alloc(101));

    expect(cache.getBody('big')).toBeUndefined();
  });

  test('when an image is forgotten, then neither its record nor its body remain', () => {
    const cache = createImageCache({ maxBytes: 10_000, maxItemBytes: 100, ttlSeconds: 0, clock: systemClock });
    cache.setRecord(record('x'));
    cache.setBody('x', Buffer.alloc(10));

    cache.forget('x');

    expect(cache.getRecord('x')).toBeUndefined();
    expect(cache.getBody('x')).toBeUndefined();
  });

  test('when the budget is 0, then nothing is kept', () => {
    const cache = createImageCache({ maxBytes: 0, maxItemBytes: 100, ttlSeconds: 0, clock: systemClock });
    cache.setRecord(record('x'));
    cache.setBody('x', Buffer.alloc(10));

    expect(cache.getRecord('x')).toBeUndefined();
    expect(cache.getBody('x')).toBeUndefined();
  });
});

describe('createImageCache with a time to live', () => {
  test('when an entry is older than the TTL, then it is looked up again', () => {
    const clock = stoppedClock();
    const cache = createImageCache({ maxBytes: 10_000, maxItemBytes: 100, ttlSeconds: 1, clock: clock.now });
    cache.setRecord(record('x'));
    cache.setBody('x', Buffer.alloc(10));

    clock.advance(1000);
    const atTheTtl = [cache.getRecord('x'), cache.getBody('x')];
    clock.advance(1);
    const pastTheTtl = [cache.getRecord('x'), cache.getBody('x')];

    expect(atTheTtl).toEqual([record('x'), Buffer.alloc(10)]);
    expect(pastTheTtl).toEqual([undefined, undefined]);
  });
});
