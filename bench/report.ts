/** One row of the benchmark report: a figure, the baseline measured in the same run, their ratio and the goal. */
export interface BenchRow {
  name: string;
  figure: number;
  baseline: number | null;
  baselineName?: string;
  ratio: number | null;
  goal: string;
  ok: boolean | null;
  note?: string;
}

export function markdownTable(rows: BenchRow[]): string {
  const head = '| figure | value | baseline (same run) | ratio | goal | met |\n| --- | ---: | ---: | ---: | --- | --- |';
  const lines = rows.map((r) => {
    const base = r.baseline === null ? '' : `${r.baseline}${r.baselineName ? ` (${r.baselineName})` : ''}`;
    const ratio = r.ratio === null ? '' : r.ratio.toFixed(2);
    const met = r.ok === null ? '' : r.ok ? 'yes' : 'no';
    return `| ${r.name}${r.note ? ` (${r.note})` : ''} | ${r.figure} | ${base} | ${ratio} | ${r.goal} | ${met} |`;
  });
  return [head, ...lines].join('\n');
}
