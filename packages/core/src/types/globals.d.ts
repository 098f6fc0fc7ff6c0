// The isomorphic core compiles without DOM or Node types; `console` is the one host global it uses, and every
// host (browsers, workers, Node) provides it. Files that use it reference this file.
declare const console: {
  debug(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
};
