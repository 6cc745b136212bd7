/**
 * What every benchmark returns and how the runner prints it: a section of rows, each a figure
 * with its value, the baseline measured in the same run (when the figure depends on machine
 * speed), and the target it is held to.
 */
export interface BenchRow {
  figure: string;
  value: string;
  /** The same-run baseline this figure is read against, e.g. "bare Hono route 21,400 req/s". */
  baseline?: string;
  /** The target, e.g. "p50 ≤ 50 ms". */
  target?: string;
  /** Whether the target is met; undefined when the row has no target. */
  met?: boolean;
}

export interface BenchSection {
  /** Stable key in results.json, e.g. "api". */
  key: string;
  title: string;
  rows: BenchRow[];
  /** Settings and caveats printed under the table. */
  notes: string[];
  /** Raw figures (samples, percentiles) for results.json. */
  data: Record<string, unknown>;
  /** When and with which command it was measured, set by the runner. */
  measured?: string;
}

export interface BenchOptions {
  /** The short mode: fewer samples, for a run under three minutes in all. */
  quick: boolean;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

export interface Summary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)} ms` : 'n/a');
export const ms1 = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'n/a');

export function renderSection(section: BenchSection): string {
  const mark = (row: BenchRow) => (row.met === undefined ? '' : row.met ? ' ✅' : ' ❌');
  const lines = [
    `### ${section.title}`,
    '',
    '| figure | value | baseline (same run) | target |',
    '|---|---|---|---|',
    ...section.rows.map(
      (row) =>
        `| ${row.figure} | ${row.value} | ${row.baseline ?? ''} | ${row.target ?? ''}${mark(row)} |`,
    ),
  ];
  if (section.notes.length > 0) lines.push('', ...section.notes.map((note) => `- ${note}`));
  return lines.join('\n');
}
