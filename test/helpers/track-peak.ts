/** Listens to an audio track in a page: the loudest sample an AnalyserNode hears on it. */
import type { JSHandle, Page } from 'puppeteer-core';

/**
 * Plays `track` (a handle on a page's audio track) and returns the loudest sample (0..1) an AnalyserNode hears on it,
 * as soon as it reaches `atLeast`, or after 60 s.
 */
export function trackPeak(page: Page, track: JSHandle<MediaStreamTrack | undefined>, atLeast: number): Promise<number> {
  return page.evaluate(
    async (audio: MediaStreamTrack | undefined, threshold: number) => {
      if (!audio) throw new Error('no audio track');
      // Chromium renders a remote audio track only while a media element plays it.
      const player = document.createElement('audio');
      player.srcObject = new MediaStream([audio]);
      document.body.append(player);
      await player.play();
      const context = new AudioContext();
      await context.resume();
      const analyser = context.createAnalyser();
      context.createMediaStreamSource(new MediaStream([audio])).connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      let loudest = 0;
      const until = performance.now() + 60_000;
      while (loudest < threshold && performance.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        analyser.getFloatTimeDomainData(samples);
        for (const sample of samples) loudest = Math.max(loudest, Math.abs(sample));
      }
      await context.close();
      return loudest;
    },
    track,
    atLeast,
  );
}
