// httpErrorBody and parseHttpErrorBody (packages/core/src/http-error-body.ts): the one error body of the bridge and
// the signaling server, and the SDK's reader of it (which also reads the flat shape of earlier bridges).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { httpErrorBody, parseHttpErrorBody } from '../../packages/core/src/http-error-body.js';

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
    {
      name: 'the flat body of earlier bridges',
      text: '{"error":"FW_ERR_CAPACITY_REACHED","message":"try later"}',
      expected: { code: 'FW_ERR_CAPACITY_REACHED', message: 'try later' },
    },
    {
      name: 'the flat body without a message',
      text: '{"error":"FW_ERR_UNAUTHORIZED"}',
      expected: { code: 'FW_ERR_UNAUTHORIZED', message: '' },
    },
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
