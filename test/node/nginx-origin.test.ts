// The nginx origin of the live publishing tests (test/helpers/nginx-origin.mjs, the configuration of
// docs/guides/origin.md): its refusals, the njs recording handler's offsets, and the message when nginx is missing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startNginxOrigin } from '../helpers/nginx-origin.mjs';

describe('nginx origin (docs/guides/origin.md)', () => {
  let origin: Awaited<ReturnType<typeof startNginxOrigin>>;
  before(async () => {
    origin = await startNginxOrigin({ token: 'node-test-token' });
  });
  after(() => origin.close());

  const post = (path: string, headers: Record<string, string>, body: string): Promise<Response> =>
    fetch(`${origin.url}${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer node-test-token', ...headers },
      body,
    });

  it('the recording handler writes each body at its offset; a new upload id starts the file over', async () => {
    const part = (id: string, offset: number, body: string, extra: Record<string, string> = {}) =>
      post(
        '/recordings/a/b.mp4',
        { 'x-framewire-upload-id': id, 'x-framewire-offset': String(offset), ...extra },
        body,
      );
    assert.equal((await part('one', 4, 'WXYZ')).status, 200);
    assert.equal((await part('one', 0, 'abcd')).status, 200);
    assert.equal((await part('one', 8, '', { 'x-framewire-final': '8' })).status, 200);
    assert.equal(await (await fetch(`${origin.url}/recordings/a/b.mp4`)).text(), 'abcdWXYZ');
    assert.equal((await part('two', 0, 'new')).status, 200);
    assert.equal(await (await fetch(`${origin.url}/recordings/a/b.mp4`)).text(), 'new');
  });

  it('refuses a write without the token (401) and a malformed upload request (400)', async () => {
    const put = await fetch(`${origin.url}/live/x/seg-1.m4s`, { method: 'PUT', body: 'x' });
    assert.equal(put.status, 401);
    assert.equal(put.headers.get('access-control-allow-origin'), '*', 'a refusal a browser can read');
    const noOffset = await post('/recordings/c.mp4', { 'x-framewire-upload-id': 'id' }, 'x');
    assert.equal(noOffset.status, 400);
    const badId = await post('/recordings/c.mp4', { 'x-framewire-upload-id': 'a b', 'x-framewire-offset': '0' }, 'x');
    assert.equal(badId.status, 400);
    assert.deepEqual(
      origin.files().filter((f: string) => f.includes('c.mp4')),
      [],
    );
  });

  it('says to run scripts/setup.sh when nginx is not installed', async () => {
    process.env['NGINX_PATH'] = '/nonexistent/nginx';
    try {
      await assert.rejects(startNginxOrigin(), /run scripts\/setup\.sh/);
    } finally {
      delete process.env['NGINX_PATH'];
    }
  });
});
