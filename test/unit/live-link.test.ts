// LiveLink (packages/browser-sdk/src/sources/live-link.ts), the reconnect supervisor WhepSource and JanusSource share:
// the first frame resolves open(), the first connection's failure or no frame in time rejects it (fatal), a lost or
// stalled connection is reported non-fatal and replaced after the backoff delay with a new generation, callbacks of
// an old generation are ignored, a fatal cause or used-up retries end it, stop() is final. Driven by a scripted
// "connection" whose hooks the test watches; every wait is on an event of those hooks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramewireError } from '../../packages/core/src/index.js';
import { LiveLink, type LiveLinkOptions } from '../../packages/browser-sdk/src/sources/live-link.js';

/** A LiveLink whose hooks record what it did and let the test wait for the next connect or failure. */
function scripted(options: Partial<LiveLinkOptions> = {}, connectResult?: (generation: number) => Promise<void>) {
  const connects: number[] = [];
  const failures: FramewireError[] = [];
  let teardowns = 0;
  const waiters: { test: () => boolean; resolve: () => void }[] = [];
  const check = (): void => {
    for (const waiter of [...waiters])
      if (waiter.test()) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
  };
  const link = new LiveLink(
    {
      label: 'http://127.0.0.1:1/x',
      stage: 'network',
      reconnect: undefined,
      defaultBackoff: { initialDelayMs: 1, maxDelayMs: 4, maxRetries: 3 },
      stallTimeoutMs: 60_000,
      ...options,
    },
    {
      connect: (generation) => {
        connects.push(generation);
        queueMicrotask(check);
        return connectResult ? connectResult(generation) : Promise.resolve();
      },
      teardown: () => {
        teardowns++;
      },
      fail: (error) => {
        failures.push(error);
        queueMicrotask(check);
      },
    },
  );
  const until = (test: () => boolean): Promise<void> =>
    test() ? Promise.resolve() : new Promise((resolve) => waiters.push({ test, resolve }));
  return { link, connects, failures, teardowns: () => teardowns, until };
}

const lostError = (fatal = false): FramewireError =>
  new FramewireError('FW_ERR_CONNECTION_FAILED', 'the connection failed', { fatal, stage: 'network' });

describe('LiveLink', () => {
  it('opens with the first frame of connection 1', async () => {
    const s = scripted();
    const opened = s.link.open(60_000);
    await s.until(() => s.connects.length === 1);
    s.link.frameArrived();
    await opened;
    assert.deepEqual(s.connects, [1]);
    assert.equal(s.link.isCurrent(1), true);
    assert.equal(s.link.reconnects, 0);
    s.link.stop();
  });

  it('rejects open() with the first connection’s failure, made fatal, and tears it down', async () => {
    const s = scripted({}, () => Promise.reject(lostError()));
    await assert.rejects(s.link.open(60_000), (error: FramewireError) => {
      assert.equal(error.code, 'FW_ERR_CONNECTION_FAILED');
      assert.equal(error.fatal, true);
      return true;
    });
    assert.equal(s.teardowns(), 1);
    assert.deepEqual(s.connects, [1], 'no reconnection before the first frame');
    s.link.stop();
  });

  it('rejects open() with a fatal FW_ERR_STREAM_STALLED when no frame comes in time', async () => {
    const s = scripted();
    await assert.rejects(s.link.open(20), (error: FramewireError) => {
      assert.equal(error.code, 'FW_ERR_STREAM_STALLED');
      assert.equal(error.fatal, true);
      assert.match(error.message, /No frame from http:\/\/127\.0\.0\.1:1\/x within 20 ms/);
      return true;
    });
    s.link.stop();
  });

  it('replaces a lost connection after the backoff, reports it non-fatal, and ignores the old generation', async () => {
    const s = scripted();
    const opened = s.link.open(60_000);
    await s.until(() => s.connects.length === 1);
    s.link.frameArrived();
    await opened;
    s.link.lost(1, lostError());
    await s.until(() => s.connects.length === 2);
    assert.equal(s.failures.length, 1);
    assert.equal(s.failures[0]?.fatal, false);
    assert.equal(s.teardowns(), 1);
    const generation = s.connects[1] ?? 0;
    assert.ok(generation > 1 && s.link.isCurrent(generation) && !s.link.isCurrent(1));
    s.link.lost(1, lostError()); // late news from the old connection
    assert.equal(s.failures.length, 1, 'an old generation’s loss is ignored');
    assert.equal(s.link.reconnects, 1);
    s.link.stop();
  });

  it('replaces a stalled connection with a non-fatal FW_ERR_STREAM_STALLED', async () => {
    const s = scripted({ stallTimeoutMs: 40 });
    const opened = s.link.open(60_000);
    await s.until(() => s.connects.length === 1);
    s.link.frameArrived();
    await opened;
    await s.until(() => s.connects.length === 2);
    const [stall] = s.failures;
    assert.equal(stall?.code, 'FW_ERR_STREAM_STALLED');
    assert.equal(stall.fatal, false);
    assert.match(stall.message, /No frame from .* for \d+ ms/);
    s.link.stop();
  });

  it('gives up with a fatal FW_ERR_CONNECTION_FAILED once its retries are used up', async () => {
    const s = scripted({}, (generation) => (generation === 1 ? Promise.resolve() : Promise.reject(lostError())));
    const opened = s.link.open(60_000);
    await s.until(() => s.connects.length === 1);
    s.link.frameArrived();
    await opened;
    s.link.lost(1, lostError());
    await s.until(() => s.failures.some((f) => f.fatal));
    const last = s.failures.at(-1);
    assert.equal(last?.code, 'FW_ERR_CONNECTION_FAILED');
    assert.match(last.message, /did not come back after 3 retries/);
    assert.equal(s.connects.length, 4, 'the first connection and 3 retries');
    assert.equal(s.link.stopped, true);
  });

  it('ends at once on a fatal cause, and with reconnect: false on any loss', async () => {
    for (const [options, cause] of [
      [{}, lostError(true)],
      [{ reconnect: false }, lostError(false)],
    ] as const) {
      const s = scripted(options);
      const opened = s.link.open(60_000);
      await s.until(() => s.connects.length === 1);
      s.link.frameArrived();
      await opened;
      s.link.lost(1, cause);
      await s.until(() => s.failures.length === 1);
      assert.equal(s.failures[0]?.fatal, true);
      assert.equal(s.link.stopped, true);
      assert.deepEqual(s.connects, [1], 'no reconnection');
    }
  });

  it('stop() is final and idempotent: one teardown, nothing current, losses ignored', async () => {
    const s = scripted();
    const opened = s.link.open(60_000);
    await s.until(() => s.connects.length === 1);
    s.link.frameArrived();
    await opened;
    s.link.stop();
    s.link.stop();
    s.link.lost(1, lostError());
    assert.equal(s.teardowns(), 1);
    assert.equal(s.link.isCurrent(1), false);
    assert.deepEqual(s.failures, []);
  });
});
