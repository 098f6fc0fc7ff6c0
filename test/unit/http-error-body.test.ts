// httpErrorBody (packages/core/src/http-error-body.ts): the one error body of the bridge and the signaling server;
// and the servers' HttpFailure (packages/core/src/node/http-failure.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramewireError } from '../../packages/core/src/framewire-error.js';
import { httpErrorBody } from '../../packages/core/src/http-error-body.js';
import { HttpFailure } from '../../packages/core/src/node/http-failure.js';

describe('httpErrorBody', () => {
  it('nests the code and the message under error', () => {
    assert.deepEqual(httpErrorBody('FW_ERR_NOT_FOUND', 'no session x'), {
      error: { code: 'FW_ERR_NOT_FOUND', message: 'no session x' },
    });
  });
});

describe('HttpFailure', () => {
  it('is a FramewireError with a status; a plain FramewireError is not an HttpFailure', () => {
    const failure = new HttpFailure(404, 'FW_ERR_NOT_FOUND', 'no session');
    assert.ok(failure instanceof HttpFailure);
    assert.ok(failure instanceof FramewireError);
    assert.equal(failure.status, 404);
    assert.equal(new FramewireError('FW_ERR_INVALID_OPTION', 'bad role') instanceof HttpFailure, false);
    assert.equal(new Error('x') instanceof HttpFailure, false);
  });
});
