// The names of the three published packages against docs/guides/names.md: read from the API reference that
// scripts/api-docs.mjs generates from the doc comments (docs/api/*.md, checked up to date by `npm test`), every
// static method that makes its own class is `open` or `start`, no name spells the keyframe interval another way, and
// every duration option carries its unit. A name marked deprecated (kept for one release) is allowed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

interface Row {
  reference: string;
  owner: string;
  isStatic: boolean;
  name: string;
  /** `(` for a method, `:` for a property or getter. */
  kind: '(' | ':';
  rest: string;
  deprecated: boolean;
}

/** Types that are not framewire's own names: mqtt.js's connect options, described for users of loadMqtt(). */
const VENDOR_TYPES = new Set(['MqttJsConnectOptions']);

function rows(): Row[] {
  const all: Row[] = [];
  for (const reference of ['browser-sdk', 'node-bridge', 'signaling']) {
    let owner = '';
    for (const line of readFileSync(`docs/api/${reference}.md`, 'utf8').split('\n')) {
      const heading = /^### (\S+)/.exec(line);
      if (heading) owner = heading[1] ?? '';
      const row = /^\| `(static )?(?:get )?([A-Za-z_$][\w$]*)\??(\(|:)(.*?)` \| (.*)\|$/.exec(line);
      if (!row || VENDOR_TYPES.has(owner)) continue;
      all.push({
        reference,
        owner,
        isStatic: row[1] !== undefined,
        name: row[2] ?? '',
        kind: row[3] === '(' ? '(' : ':',
        rest: row[4] ?? '',
        deprecated: (row[5] ?? '').includes('**Deprecated:**'),
      });
    }
  }
  return all;
}

const current = rows().filter((row) => !row.deprecated);
const where = (row: Row): string => `${row.reference}: ${row.owner}.${row.name}`;

describe('API names (docs/guides/names.md)', () => {
  it('reads the API reference', () => {
    assert.ok(current.length > 500, `${current.length} members read`);
    assert.ok(current.some((row) => row.owner === 'CameraSource' && row.isStatic && row.name === 'open'));
  });

  it('makes objects with open() (asynchronous) or start() (a server), or new', () => {
    const makers = current.filter(
      (row) => row.isStatic && row.kind === '(' && new RegExp(`(Promise<${row.owner}>|: ${row.owner})$`).test(row.rest),
    );
    assert.ok(makers.length >= 15, `${makers.length} static makers found`);
    assert.deepEqual(
      makers.filter((row) => row.name !== 'open' && row.name !== 'start').map(where),
      [],
      'static methods that make their class under another verb',
    );
  });

  it('spells the keyframe interval keyframeIntervalFrames', () => {
    assert.deepEqual(current.filter((row) => row.name.includes('keyFrame')).map(where), []);
    assert.ok(current.some((row) => row.name === 'keyframeIntervalFrames'));
  });

  it('gives every duration option its unit (…Ms, …Us, …S)', () => {
    const unitless = current.filter(
      (row) =>
        row.kind === ':' &&
        /^(timeout|delay|interval|duration|period|age)$|[a-z](Timeout|Delay|Interval|Duration|Period|Age)$/.test(
          row.name,
        ),
    );
    assert.deepEqual(unitless.map(where), []);
  });
});
