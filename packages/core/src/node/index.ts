export { listen, closeServer } from './listen.js';
export { sendJson } from './http-json.js';
export { sendError, sendFailure } from './http-error.js';
export { HttpFailure } from './http-failure.js';
export { readRequestBody } from './read-request-body.js';
export { formatPrometheus, type MetricFamily } from './prometheus-text.js';
export { applyCliLogLevel, runCli, type Stoppable } from './run-cli.js';
export { assertTlsOptions, readTlsFiles, type TlsOptions } from './tls-files.js';
export { cliNumber } from './cli-number.js';
