// httpErrorBody and parseHttpErrorBody (packages/core/src/http-error-body.ts): the one error body of the bridge and
// the signaling server, the SDK's reader of it, and the servers'
// HttpFailure (packages/core/src/node/http-failure.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramewireError } from '../../packages/core/src/framewire-error.js';
import { httpErrorBody, parseHttpErrorBody } from '../../packages/core/src/http-error-body.js';
import { HttpFailure } from '../../packages/core/src/node/http-failure.js';

describe('httpErrorBody', () => {
  it('nests the code and the message under error', () => {
    assert.deepEqual(httpErrorBody('FW_ERR_NOT_FOUND', 'no session x'), {
      error: { code: 'FW_ERR_NOT_FOUND', message: 'no session x' },
    });
  });

  it('round-trips through JSON and parseHttpErrorBody', () => {
    const text = JSON.stringify(httpErrorBody('FW_ERR_CAPACITY_REACHED', 'full'));
    assert.deepEqual(parseHttpErrorBody(text), { code: 'FW_ERR_CAPACITY_REACHED', message: 'full' });
  });
});

describe('parseHttpErrorBody', () => {
  const cases: { name: string; text: string; expected: { code: string; message: string } | undefined }[] = [
    {
      name: 'the nested body',
      text: '{"error":{"code":"FW_ERR_SDP_INVALID","message":"bad offer"}}',
      expected: { code: 'FW_ERR_SDP_INVALID', message: 'bad offer' },
    },
    {
      name: 'the nested body without a message',
      text: '{"error":{"code":"FW_ERR_TIMEOUT"}}',
      expected: { code: 'FW_ERR_TIMEOUT', message: '' },
    },
    { name: 'the flat body of earlier bridges', text: '{"error":"FW_ERR_TIMEOUT","message":"x"}', expected: undefined },
    { name: 'not JSON', text: '<html>502 Bad Gateway</html>', expected: undefined },
    { name: 'empty', text: '', expected: undefined },
    { name: 'JSON without error', text: '{"ok":false}', expected: undefined },
    { name: 'a nested error without a string code', text: '{"error":{"code":42,"message":"x"}}', expected: undefined },
    { name: 'a JSON string', text: '"FW_ERR_TIMEOUT"', expected: undefined },
    { name: 'JSON null', text: 'null', expected: undefined },
  ];
  for (const { name, text, expected } of cases) {
    it(name, () => {
      assert.deepEqual(parseHttpErrorBody(text), expected);
    });
  }
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
