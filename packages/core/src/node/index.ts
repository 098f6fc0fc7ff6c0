export { listen, closeServer } from './listen.js';
export { sendJson } from './http-json.js';
export { applyCliLogLevel, runCli, type Stoppable } from './run-cli.js';
