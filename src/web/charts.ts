// Stage: statistics → presentation. ECharts options built from the dashboard's aggregates. The same options are
// rendered in the browser (canvas, from a data attribute) and server-side as SVG for the report, so both show the
// same picture. Labels are device text: charts draw them as text, tooltips use rich text, never HTML.
import type { Overview, RunTrend, DayCount } from './queries.ts';
import type { CountRow } from '../store/store.ts';

export type ChartOptions = Record<string, unknown>;

const SEVERITY_COLOURS: Record<string, string> = { critical: '#7b1fa2', high: '#c62828', medium: '#ef6c00', low: '#f9a825', info: '#607d8b' };

function label(s: string, max = 40): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

const base = (title: string): ChartOptions => ({
  animation: false,
  title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
  tooltip: { trigger: 'item', renderMode: 'richText' },
  grid: { left: 150, right: 30, top: 40, bottom: 30 },
});

export function barChart(title: string, rows: CountRow[], top = 10): ChartOptions {
  const chosen = rows.slice(0, top).reverse();
  return {
    ...base(title),
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: chosen.map((r) => label(r.key)), axisLabel: { width: 140, overflow: 'truncate' } },
    series: [{ type: 'bar', data: chosen.map((r) => r.count), itemStyle: { color: '#1565c0' }, label: { show: true, position: 'right' } }],
  };
}

export function severityChart(o: Pick<Overview, 'bySeverity'>): ChartOptions {
  return {
    ...base('Open findings by severity'),
    grid: { left: 70, right: 30, top: 55, bottom: 30 },
    xAxis: { type: 'category', data: o.bySeverity.map((r) => r.key) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', data: o.bySeverity.map((r) => ({ value: r.count, itemStyle: { color: SEVERITY_COLOURS[r.key] ?? '#888' } })), label: { show: true, position: 'top' } }],
  };
}

export function runTrendChart(runs: RunTrend[]): ChartOptions {
  return {
    ...base('Hosts and services per scan or import run'),
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    legend: { bottom: 0 },
    grid: { left: 60, right: 30, top: 40, bottom: 60 },
    xAxis: { type: 'category', data: runs.map((r) => `${r.startedAt.slice(0, 16).replace('T', ' ')} ${r.kind}`) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: 'hosts', type: 'line', data: runs.map((r) => r.hosts) },
      { name: 'services', type: 'line', data: runs.map((r) => r.services) },
    ],
  };
}

export function findingDaysChart(days: DayCount[]): ChartOptions {
  return {
    ...base('Findings opened and fixed per day'),
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    legend: { bottom: 0 },
    grid: { left: 60, right: 30, top: 40, bottom: 60 },
    xAxis: { type: 'category', data: days.map((d) => d.day) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: 'opened', type: 'bar', data: days.map((d) => d.opened), itemStyle: { color: '#c62828' } },
      { name: 'fixed', type: 'bar', data: days.map((d) => d.fixed), itemStyle: { color: '#2e7d32' } },
    ],
  };
}

/** The overview's charts, in page order. */
export function overviewCharts(o: Overview): { id: string; options: ChartOptions }[] {
  return [
    { id: 'severity', options: severityChart(o) },
    { id: 'types', options: barChart('Devices by type', o.stats.byType) },
    { id: 'vendors', options: barChart('Devices by vendor', o.stats.byVendor) },
    { id: 'protocols', options: barChart('Hosts by protocol', o.stats.byProtocol) },
    { id: 'runs', options: runTrendChart(o.runs) },
    { id: 'finding-days', options: findingDaysChart(o.findingDays) },
  ];
}
