// The bridge flags of a service (packages/node-bridge/src/service/service-flags.ts): checked against the bridge's
// option table, secrets moved to the environment, relative paths made absolute, --record made writable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertOutsideHome,
  serviceFlags,
  type BridgeOptionTable,
} from '../../packages/node-bridge/src/service/service-flags.js';

// A slice of the bridge CLI's table, plus --record and --tls-cert (flags of the recording and HTTPS features).
const TABLE: BridgeOptionTable = {
  source: { type: 'string', multiple: true },
  webrtc: { type: 'boolean' },
  port: { type: 'string' },
  token: { type: 'string' },
  'room-token': { type: 'string' },
  'whip-push-token': { type: 'string' },
  'janus-secret': { type: 'string' },
  config: { type: 'string' },
  static: { type: 'string' },
  record: { type: 'string' },
  'tls-cert': { type: 'string' },
  ffmpeg: { type: 'string' },
  'camera-command': { type: 'string' },
};
const CWD = '/srv/cam';

describe('serviceFlags', () => {
  const CASES: {
    name: string;
    args: string[];
    env?: Record<string, string>;
    expected: { args: string[]; environment: Record<string, string>; writableDirs: string[] };
  }[] = [
    {
      name: 'keeps plain flags as written, in order',
      args: ['--source', 'picamera#id=cam', '--webrtc', '--port=8443', '--source', 'testpattern'],
      expected: {
        args: ['--source', 'picamera#id=cam', '--webrtc', '--port=8443', '--source', 'testpattern'],
        environment: {},
        writableDirs: [],
      },
    },
    {
      name: 'moves every secret flag to its variable',
      args: ['--token', 't1', '--room-token=t2', '--whip-push-token', 't3', '--janus-secret', 't 4', '--webrtc'],
      expected: {
        args: ['--webrtc'],
        environment: {
          FRAMEWIRE_TOKEN: 't1',
          FRAMEWIRE_ROOM_TOKEN: 't2',
          FRAMEWIRE_WHIP_PUSH_TOKEN: 't3',
          FRAMEWIRE_JANUS_SECRET: 't 4',
        },
        writableDirs: [],
      },
    },
    {
      name: "copies the shell's FRAMEWIRE_* variables; a flag wins; others and empty ones are left out",
      args: ['--token', 'from-flag'],
      env: {
        FRAMEWIRE_TOKEN: 'from-env',
        FRAMEWIRE_MQTT_PASSWORD: 'mqtt',
        FRAMEWIRE_TURN_CREDENTIAL: '',
        FRAMEWIRE_LOG_LEVEL: 'debug',
        HOME: '/root',
      },
      expected: {
        args: [],
        environment: { FRAMEWIRE_TOKEN: 'from-flag', FRAMEWIRE_MQTT_PASSWORD: 'mqtt', FRAMEWIRE_LOG_LEVEL: 'debug' },
        writableDirs: [],
      },
    },
    {
      name: 'makes relative paths absolute, executables only when they hold a slash',
      args: [
        '--config',
        'bridge.json',
        '--static=site/out',
        '--tls-cert',
        '/etc/ssl/pi.pem',
        '--ffmpeg',
        'ffmpeg',
        '--camera-command',
        './bin/rpicam-vid',
      ],
      expected: {
        args: [
          '--config',
          '/srv/cam/bridge.json',
          '--static=/srv/cam/site/out',
          '--tls-cert',
          '/etc/ssl/pi.pem',
          '--ffmpeg',
          'ffmpeg',
          '--camera-command',
          '/srv/cam/bin/rpicam-vid',
        ],
        environment: {},
        writableDirs: [],
      },
    },
    {
      name: 'reports --record directories as writable',
      args: ['--record', 'recordings', '--record=/mnt/usb/cam'],
      expected: {
        args: ['--record', '/srv/cam/recordings', '--record=/mnt/usb/cam'],
        environment: {},
        writableDirs: ['/srv/cam/recordings', '/mnt/usb/cam'],
      },
    },
  ];
  for (const { name, args, env, expected } of CASES) {
    it(name, () => {
      assert.deepEqual(serviceFlags(args, TABLE, env ?? {}, CWD), expected);
    });
  }

  for (const [name, args] of [
    ['an unknown flag', ['--no-such-flag']],
    ['a missing value', ['--port']],
    ['a positional argument', ['picamera']],
  ] as const) {
    it(`refuses ${name} with FW_ERR_INVALID_OPTION`, () => {
      assert.throws(() => serviceFlags(args, TABLE, {}, CWD), {
        code: 'FW_ERR_INVALID_OPTION',
        message: /^bridge flags of the service: /,
      });
    });
  }
});

describe('assertOutsideHome', () => {
  it('accepts system paths and refuses home directories with FW_ERR_INVALID_OPTION', () => {
    for (const path of ['/usr/bin/node', '/usr/lib/node_modules/x.js', '/opt/framewire/bin.js', '/homes/x']) {
      assertOutsideHome(path, 'the bridge');
    }
    for (const path of ['/home/pi/.nvm/node', '/root/.npm/_npx/x.js', '/run/user/1000/x', '/home']) {
      assert.throws(() => assertOutsideHome(path, 'Node'), {
        code: 'FW_ERR_INVALID_OPTION',
        message: /in a home directory/,
      });
    }
  });
});
