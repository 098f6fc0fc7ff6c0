import { expect } from 'chai';
import { FrameQueue, FramewireError } from '@framewire/browser-sdk';
import { isClosed, sleep, solidFrame, thrown } from '../helpers/browser.js';

const closeFrame = (frame: VideoFrame): void => frame.close();

describe('FrameQueue', () => {
  it('FrameQueue, latest policy drops (and closes) the oldest frame when full', async () => {
    const queue = new FrameQueue<VideoFrame>({ policy: 'latest', capacity: 2, dispose: closeFrame });
    const frames = [0, 1, 2, 3].map((i) => solidFrame(i * 1000));
    for (const frame of frames) expect(await queue.push(frame)).to.equal(true);
    expect(queue.stats).to.deep.equal({ pushed: 4, shifted: 0, dropped: 2, queued: 2 });
    expect(isClosed(frames[0]!)).to.equal(true);
    expect(isClosed(frames[1]!)).to.equal(true);
    const first = await queue.shift();
    const second = await queue.shift();
    expect([first?.timestamp, second?.timestamp]).to.deep.equal([2000, 3000]);
    first?.close();
    second?.close();
  });

  it('FrameQueue, backpressure policy makes the producer wait and never drops', async () => {
    const queue = new FrameQueue<VideoFrame>({ policy: 'backpressure', capacity: 2, dispose: closeFrame });
    await queue.push(solidFrame(0));
    await queue.push(solidFrame(1));
    let thirdAccepted = false;
    const third = queue.push(solidFrame(2)).then((ok) => (thirdAccepted = ok));
    await sleep(30);
    expect(thirdAccepted, 'push waits while the queue is full').to.equal(false);
    const taken = await queue.shift();
    await third;
    expect(thirdAccepted).to.equal(true);
    const rest = [await queue.shift(), await queue.shift()];
    expect([taken, ...rest].map((f) => f?.timestamp)).to.deep.equal([0, 1, 2]);
    expect(queue.stats.dropped).to.equal(0);
    for (const frame of [taken, ...rest]) frame?.close();
  });

  it('FrameQueue, end() drains queued frames then yields null; a waiting consumer is released', async () => {
    const queue = new FrameQueue<VideoFrame>({ dispose: closeFrame });
    const waiting = queue.shift();
    await queue.push(solidFrame(7));
    expect((await waiting)?.timestamp).to.equal(7);
    await queue.push(solidFrame(8));
    queue.end();
    const last = await queue.shift();
    expect(last?.timestamp).to.equal(8);
    last?.close();
    expect(await queue.shift()).to.equal(null);
    const pending = queue.shift();
    expect(await pending).to.equal(null);
  });

  it('FrameQueue, close() disposes queued frames, rejects later pushes and frees a blocked producer', async () => {
    const queue = new FrameQueue<VideoFrame>({ policy: 'backpressure', capacity: 1, dispose: closeFrame });
    const queued = solidFrame(1);
    await queue.push(queued);
    const blockedFrame = solidFrame(2);
    const blocked = queue.push(blockedFrame);
    queue.close();
    expect(await blocked).to.equal(false);
    expect(isClosed(queued)).to.equal(true);
    expect(isClosed(blockedFrame)).to.equal(true);
    const late = solidFrame(3);
    expect(await queue.push(late)).to.equal(false);
    expect(isClosed(late)).to.equal(true);
    expect(await queue.shift()).to.equal(null);
    queue.close();
  });

  it('FrameQueue, bad options fail with FW_ERR_INVALID_OPTION naming the option', () => {
    for (const options of [{ capacity: 0 }, { capacity: 1.5 }, { policy: 'newest' as 'latest' }]) {
      const error = thrown(() => new FrameQueue(options));
      expect(error).to.be.instanceOf(FramewireError);
      expect((error as FramewireError).code).to.equal('FW_ERR_INVALID_OPTION');
      expect((error as FramewireError).message).to.match(/queue\.(capacity|policy)/);
    }
  });
});
