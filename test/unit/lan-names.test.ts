// lanNames and isHostName (packages/node-bridge/src/tls/lan-names.ts), the subjectAltName of `framewire-bridge tls`:
// the host's own names and loopback are always in, the given names are lower-cased and deduplicated, and a
// malformed --name or --ip is FW_ERR_INVALID_OPTION naming it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHostName, lanNames } from '../../packages/node-bridge/src/tls/lan-names.js';

describe('isHostName', () => {
  const cases: [name: string, expected: boolean][] = [
    ['raspberrypi', true],
    ['raspberrypi.local', true],
    ['cam-1.lan', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    [`${'a.'.repeat(126)}ab`, false],
    ['-pi.local', false],
    ['pi-.local', false],
    ['pi..local', false],
    ['*.local', false],
    ['pi_cam', false],
    ['192.168.1.20', false],
    ['', false],
  ];
  for (const [name, expected] of cases) {
    it(`${JSON.stringify(name.length > 40 ? `${name.slice(0, 20)}…` : name)} is ${expected ? '' : 'not '}a host name`, () => {
      assert.equal(isHostName(name), expected);
    });
  }
});

describe('lanNames', () => {
  it('has the host name, its .local name, localhost and loopback, then the given names lower-cased, once each', () => {
    assert.deepEqual(lanNames('Pi-Cam', ['Raspberrypi.local', 'pi-cam.local', 'cam.lan'], ['192.168.1.20', '::1']), {
      dns: ['pi-cam', 'pi-cam.local', 'localhost', 'raspberrypi.local', 'cam.lan'],
      ips: ['127.0.0.1', '::1', '192.168.1.20'],
    });
  });

  it('keeps a host name that already ends in .local, and leaves out one that is not a host name', () => {
    assert.deepEqual(lanNames('pi.local', [], []).dns, ['pi.local', 'localhost']);
    assert.deepEqual(lanNames('bad_host', [], []).dns, ['localhost']);
  });

  const refused: [names: string[], ips: string[], message: RegExp][] = [
    [['bad_name'], [], /--name must be a host name .*"bad_name"/],
    [['*.local'], [], /--name must be a host name .*"\*\.local"/],
    [[], ['192.168.1.300'], /--ip must be an IPv4 or IPv6 address .*"192\.168\.1\.300"/],
    [[], ['raspberrypi.local'], /--ip must be an IPv4 or IPv6 address/],
  ];
  for (const [names, ips, message] of refused) {
    it(`refuses ${JSON.stringify([...names, ...ips])} with FW_ERR_INVALID_OPTION`, () => {
      assert.throws(() => lanNames('pi', names, ips), { code: 'FW_ERR_INVALID_OPTION', message });
    });
  }
});
