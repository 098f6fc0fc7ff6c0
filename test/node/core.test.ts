import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ERROR_CODES,
  FramewireError,
  TypedEmitter,
  assertOption,
  consoleSink,
  createLogger,
  getLogLevel,
  isErrorCode,
  setLogLevel,
  type LogRecord,
} from '@framewire/core';
import { FramewireError as BridgeCopyOfFramewireError } from '@framewire/node-bridge';

describe('TypedEmitter', () => {
  type Events = { tick: { n: number }; done: { reason: string } };

  it('TypedEmitter, on() delivers payloads in order and returns an unsubscribe function', () => {
    const events = new TypedEmitter<Events>();
    const seen: number[] = [];
    const off = events.on('tick', ({ n }) => seen.push(n));
    events.emit('tick', { n: 1 });
    events.emit('tick', { n: 2 });
    off();
    events.emit('tick', { n: 3 });
    assert.deepEqual(seen, [1, 2]);
    assert.equal(events.listenerCount('tick'), 0);
  });

  it('TypedEmitter, once() and next() fire a single time', async () => {
    const events = new TypedEmitter<Events>();
    let calls = 0;
    events.once('done', () => calls++);
    const next = events.next('done');
    events.emit('done', { reason: 'a' });
    events.emit('done', { reason: 'b' });
    assert.equal(calls, 1);
    assert.deepEqual(await next, { reason: 'a' });
  });

  it('TypedEmitter, a throwing listener is logged and does not stop the others', () => {
    const records: LogRecord[] = [];
    const previous = getLogLevel();
    setLogLevel('error', (r) => records.push(r));
    try {
      const events = new TypedEmitter<Events>();
      const seen: number[] = [];
      events.on('tick', () => {
        throw new Error('listener bug');
      });
      events.on('tick', ({ n }) => seen.push(n));
      events.emit('tick', { n: 7 });
      assert.deepEqual(seen, [7]);
      assert.equal(records.length, 1);
      assert.match(records[0]!.message, /listener for "tick" threw/);
    } finally {
      setLogLevel(previous, consoleSink);
    }
  });

  it('TypedEmitter, a listener may unsubscribe itself while the event is delivered', () => {
    const events = new TypedEmitter<Events>();
    const seen: string[] = [];
    const off = events.on('tick', () => {
      seen.push('first');
      off();
    });
    events.on('tick', () => seen.push('second'));
    events.emit('tick', { n: 1 });
    events.emit('tick', { n: 2 });
    assert.deepEqual(seen, ['first', 'second', 'second']);
  });
});

describe('FramewireError', () => {
  it('FramewireError, carries a stable code, cause, fatal flag, stage and a default message', () => {
    const cause = new Error('EADDRINUSE');
    const error = new FramewireError('FW_ERR_LISTEN_FAILED', undefined, { cause, fatal: true, stage: 'listen' });
    assert.equal(error.code, 'FW_ERR_LISTEN_FAILED');
    assert.equal(error.message, ERROR_CODES.FW_ERR_LISTEN_FAILED);
    assert.equal(error.cause, cause);
    assert.equal(error.fatal, true);
    assert.equal(error.stage, 'listen');
    assert.equal(error.name, 'FramewireError');
    assert.ok(error instanceof Error);
    assert.deepEqual(JSON.parse(JSON.stringify(error)), {
      name: 'FramewireError',
      code: 'FW_ERR_LISTEN_FAILED',
      message: ERROR_CODES.FW_ERR_LISTEN_FAILED,
      fatal: true,
      stage: 'listen',
    });
  });

  it('FramewireError, instanceof holds across two bundled copies of the package', () => {
    assert.notEqual(BridgeCopyOfFramewireError, FramewireError, 'the bridge bundles its own copy');
    const fromBridge = new BridgeCopyOfFramewireError('FW_ERR_CLOSED');
    assert.ok(fromBridge instanceof FramewireError);
    assert.ok(new FramewireError('FW_ERR_CLOSED') instanceof BridgeCopyOfFramewireError);
    assert.ok(!(new Error('plain') instanceof FramewireError));
  });

  it('FramewireError, every code has the FW_ERR_ prefix and a summary; isErrorCode checks membership', () => {
    for (const [code, summary] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^FW_ERR_[A-Z_]+$/);
      assert.ok(summary.length > 10);
      assert.ok(isErrorCode(code));
    }
    assert.ok(!isErrorCode('FW_ERR_NOPE'));
    assert.ok(!isErrorCode(42));
  });

  it('assertOption, throws FW_ERR_INVALID_OPTION with the message naming the option', () => {
    assert.throws(
      () => assertOption(false, 'options.width must be > 0'),
      (error: unknown) =>
        error instanceof FramewireError &&
        error.code === 'FW_ERR_INVALID_OPTION' &&
        error.message.includes('options.width'),
    );
    assert.doesNotThrow(() => assertOption(true, 'never'));
  });
});

describe('logger', () => {
  it('logger, drops records below the level and sends the rest to the sink with scope and details', () => {
    const records: LogRecord[] = [];
    const previous = getLogLevel();
    setLogLevel('info', (r) => records.push(r));
    try {
      const log = createLogger('unit');
      log.debug('hidden');
      log.info('shown', { id: 1 });
      log.error('also shown');
      assert.deepEqual(
        records.map(({ level, scope, message, details }) => ({ level, scope, message, details })),
        [
          { level: 'info', scope: 'unit', message: 'shown', details: { id: 1 } },
          { level: 'error', scope: 'unit', message: 'also shown', details: undefined },
        ],
      );
      setLogLevel('silent');
      log.error('silenced');
      assert.equal(records.length, 2);
    } finally {
      setLogLevel(previous, consoleSink);
    }
  });

  it('logger, an unknown level is rejected', () => {
    assert.throws(() => setLogLevel('loud' as 'info'), TypeError);
  });
});
