// Preloaded (`node --expose-gc --require`) into the servers of the signaling crowd benches: SIGUSR2 runs a full
// garbage collection, so that resident memory is read without garbage on either side of a comparison.
globalThis.process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
});
