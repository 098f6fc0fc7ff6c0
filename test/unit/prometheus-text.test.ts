// formatPrometheus (packages/core/src/node/prometheus-text.ts), the one Prometheus text writer of the bridge's and
// the signaling server's /metrics: families with HELP and TYPE, labels escaped, non-finite values written as 0.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPrometheus } from '../../packages/core/src/node/prometheus-text.js';

describe('formatPrometheus', () => {
  it('writes HELP, TYPE and one line per sample, labelled or not', () => {
    const text = formatPrometheus([
      { name: 'fw_peers', type: 'gauge', help: 'Peers.', samples: [{ value: 3 }] },
      {
        name: 'fw_errors_total',
        type: 'counter',
        help: 'Errors by code.',
        samples: [
          { labels: { code: 'FW_ERR_TIMEOUT' }, value: 2 },
          { labels: { code: 'FW_ERR_BAD_MESSAGE', node: 'a' }, value: 1 },
        ],
      },
    ]);
    assert.equal(
      text,
      [
        '# HELP fw_peers Peers.',
        '# TYPE fw_peers gauge',
        'fw_peers 3',
        '# HELP fw_errors_total Errors by code.',
        '# TYPE fw_errors_total counter',
        'fw_errors_total{code="FW_ERR_TIMEOUT"} 2',
        'fw_errors_total{code="FW_ERR_BAD_MESSAGE",node="a"} 1',
        '',
      ].join('\n'),
    );
  });

  it('keeps a family without samples (a counter nothing has counted yet)', () => {
    assert.equal(
      formatPrometheus([{ name: 'fw_rejected_total', type: 'counter', help: 'Refused.', samples: [] }]),
      '# HELP fw_rejected_total Refused.\n# TYPE fw_rejected_total counter\n',
    );
  });

  it('escapes backslashes, quotes and newlines in label values', () => {
    const text = formatPrometheus([
      { name: 'fw_x', type: 'gauge', help: 'x', samples: [{ labels: { source: 'a\\b"c\nd' }, value: 1 }] },
    ]);
    assert.match(text, /^fw_x\{source="a\\\\b\\"c\\nd"\} 1$/m);
  });

  it('writes NaN and infinities as 0', () => {
    const text = formatPrometheus([
      {
        name: 'fw_fps',
        type: 'gauge',
        help: 'fps',
        samples: [
          { labels: { s: 'a' }, value: Number.NaN },
          { labels: { s: 'b' }, value: Infinity },
        ],
      },
    ]);
    assert.deepEqual(text.split('\n').slice(2, 4), ['fw_fps{s="a"} 0', 'fw_fps{s="b"} 0']);
  });
});
