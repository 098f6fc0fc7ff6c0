/** One metric family of the Prometheus text exposition format. */
export interface MetricFamily {
  /** Metric name, e.g. `framewire_source_fps`. */
  name: string;
  /** `gauge` or `counter`. */
  type: 'gauge' | 'counter';
  /** One-line help text. */
  help: string;
  /** Samples: label set and value. */
  samples: { labels?: Record<string, string>; value: number }[];
}

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** Renders metric families in the Prometheus text exposition format (version 0.0.4). */
export function formatPrometheus(families: MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const { labels, value } of family.samples) {
      const set = Object.entries(labels ?? {})
        .map(([key, label]) => `${key}="${escapeLabel(label)}"`)
        .join(',');
      lines.push(`${family.name}${set ? `{${set}}` : ''} ${Number.isFinite(value) ? value : 0}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
