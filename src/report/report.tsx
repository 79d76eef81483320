// Stage: presentation (summary report). The constituency report, organised by the six questions of the design:
// numbers from the dashboard's queries over the store for a date range and network, charts rendered server-side
// as SVG with the dashboard's own ECharts options, one self-contained HTML file with no script; PDF via Chromium.
import * as echarts from 'echarts';
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { SqliteStore } from '../store/sqlite/store.ts';
import { SqliteKnowledgeBase } from '../knowledge/kb.ts';
import { KB_SOURCES } from '../knowledge/records.ts';
import { printable } from '../core/bytes.ts';
import { DashboardQueries, type CveRow, type EventSummary, type NetworkRow, type Overview, type ProblemRow, type RunTrend, type Scope, type VendorVulnRow } from '../web/queries.ts';
import { barChart, findingDaysChart, runTrendChart, severityChart, type ChartOptions } from '../web/charts.ts';
import { readFileSync } from 'node:fs';
import { launchChromium } from './chromium.ts';

export interface ReportData {
  generatedAt: string;
  scope: Scope;
  overview: Overview;
  cves: CveRow[];
  vendors: VendorVulnRow[];
  models: VendorVulnRow[];
  networks: NetworkRow[];
  problems: ProblemRow[];
  events: EventSummary;
  fixed: number;
  runs: (RunTrend & { spec: Record<string, unknown> })[];
  kb: { counts: Record<string, number>; updated: Record<string, string | null> };
}

export async function collectReport(store: SqliteStore, scope: Scope, now = new Date()): Promise<ReportData> {
  const q = new DashboardQueries(store, store.handle);
  const kb = new SqliteKnowledgeBase(store.handle);
  const updated: Record<string, string | null> = {};
  for (const s of KB_SOURCES) updated[s] = kb.sourceState(s).lastSuccess;
  return {
    generatedAt: now.toISOString(),
    scope,
    overview: await q.overview(scope),
    cves: await q.vulnerabilitiesByCve({ ...scope, limit: 25 }),
    vendors: await q.vulnerabilitiesByVendor({ ...scope, limit: 15 }),
    models: await q.vulnerabilitiesByVendor({ ...scope, byModel: true, limit: 15 }),
    networks: (await q.networks(scope)).slice(0, 25),
    problems: q.topProblems(scope, 20),
    events: q.eventSummary(scope),
    fixed: q.fixedCount(scope),
    runs: await q.runs(scope),
    kb: { counts: { ...kb.counts() }, updated },
  };
}

/** An ECharts chart as an SVG string, rendered in Node with the options the dashboard uses in the browser. */
export function chartSvg(options: ChartOptions, width = 640, height = 320): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption(options);
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

const CSS = `
body { font-family: "DejaVu Sans", system-ui, sans-serif; color: #1a1a1a; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.7rem; } h2 { font-size: 1.3rem; border-bottom: 2px solid #102a43; padding-bottom: .2rem; margin-top: 2.2rem; page-break-after: avoid; }
h3 { font-size: 1.05rem; page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; font-size: .82rem; margin: .5rem 0 1rem; page-break-inside: auto; }
th, td { border: 1px solid #c8d1db; padding: .25rem .4rem; text-align: left; vertical-align: top; }
th { background: #e4e7eb; } tr { page-break-inside: avoid; }
td.n, th.n { text-align: right; }
.kpis { display: flex; flex-wrap: wrap; gap: .6rem; }
.kpi { border: 1px solid #c8d1db; border-radius: 4px; padding: .4rem .8rem; min-width: 8rem; }
.kpi b { font-size: 1.4rem; display: block; }
.chart { page-break-inside: avoid; margin: .5rem 0; }
.chart svg { max-width: 100%; height: auto; }
.gap { background: #fff8e1; border-left: 4px solid #f9a825; padding: .5rem .8rem; }
.muted { color: #52606d; font-size: .85rem; }
@page { size: A4; margin: 15mm; }
`;

const n = (v: number | null | undefined) => (v === null || v === undefined ? '–' : String(v));
const text = (v: unknown, max = 160) => printable(v === null || v === undefined ? '' : String(v), max);

function Table(props: { id: string; head: string[]; rows: (string | number | null)[][]; numeric?: number[]; empty?: string }) {
  const numeric = new Set(props.numeric ?? []);
  return (
    <table id={props.id}>
      <thead>
        <tr>
          {props.head.map((h, i) => (
            <th class={numeric.has(i) ? 'n' : undefined}>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.length === 0 ? (
          <tr>
            <td colspan={props.head.length}>{props.empty ?? 'None in this scope.'}</td>
          </tr>
        ) : (
          props.rows.map((r) => (
            <tr>
              {r.map((c, i) => (
                <td class={numeric.has(i) ? 'n' : undefined}>{typeof c === 'number' ? String(c) : text(c)}</td>
              ))}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

function Figure(props: { id: string; options: ChartOptions }) {
  // The SVG is ECharts' own output: it escapes every label it draws (device text included) as SVG text.
  return <div class="chart" id={`fig-${props.id}`}>{raw(chartSvg(props.options))}</div>;
}

function Gap(props: { children?: Child }) {
  return <p class="gap">{props.children}</p>;
}

function scopeText(s: Scope): string {
  const parts = [s.network ? `network ${s.network}` : 'all networks in the store', s.from ? `from ${s.from}` : 'from the first record', s.to ? `to ${s.to}` : 'to the latest record'];
  return parts.join(', ');
}

export function ReportDocument(props: { data: ReportData }) {
  const d = props.data;
  const o = d.overview;
  const sev = Object.fromEntries(o.bySeverity.map((r) => [r.key, r.count]));
  const kevRows = d.cves.filter((c) => c.kev);
  const topEpss = [...d.cves].filter((c) => c.epss !== null).sort((a, b) => (b.epss ?? 0) - (a.epss ?? 0)).slice(0, 10);
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          {/* The report carries no script; this policy keeps it so even if a copy is edited or served. */}
          <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:" />
          <title>IoT security in the constituency — iotscope report</title>
          <style>{raw(CSS)}</style>
        </head>
        <body>
          <h1>IoT security in the constituency</h1>
          <p class="muted">
            Generated {d.generatedAt} by iotscope. Scope: {scopeText(d.scope)}.
          </p>

          <section id="status">
            <h2>1. Current status of IoT device security</h2>
            <div class="kpis">
              <div class="kpi" id="kpi-devices">
                <b>{o.devices}</b>devices identified
              </div>
              <div class="kpi" id="kpi-exposed">
                <b>{o.exposedDevices}</b>exposed devices
              </div>
              <div class="kpi" id="kpi-vulnerable">
                <b>{o.vulnerableDevices}</b>with a known CVE
              </div>
              <div class="kpi" id="kpi-kev">
                <b>{o.kevDevices}</b>with an exploited (KEV) CVE
              </div>
              <div class="kpi" id="kpi-findings">
                <b>{o.exposureFindings + o.vulnerabilityFindings}</b>open findings
              </div>
            </div>
            <p>
              Open findings by severity: critical {n(sev.critical ?? 0)}, high {n(sev.high ?? 0)}, medium {n(sev.medium ?? 0)}, low {n(sev.low ?? 0)}, info {n(sev.info ?? 0)}.
              {o.noiseExcluded > 0 ? ` ${o.noiseExcluded} host(s) that look like honeypots or tarpits are left out of all counts.` : ''}
            </p>
            <Figure id="severity" options={severityChart(o)} />
            <Figure id="types" options={barChart('Devices by type', o.stats.byType)} />
            <Figure id="vendors" options={barChart('Devices by vendor', o.stats.byVendor)} />
            <h3>Devices by type</h3>
            <Table id="t-types" head={['type', 'devices']} rows={o.stats.byType.map((r) => [r.key, r.count])} numeric={[1]} />
            <h3>Exposed services (hosts per protocol)</h3>
            <Table id="t-protocols" head={['protocol', 'hosts']} rows={o.stats.byProtocol.slice(0, 15).map((r) => [r.key, r.count])} numeric={[1]} />
            <h3>Trend across scans and imports</h3>
            <Figure id="runs" options={runTrendChart(o.runs)} />
          </section>

          <section id="cases">
            <h2>2. Real cases seen</h2>
            <Gap>
              iotscope does not build incidents yet: honeypot, sinkhole and infection feeds are imported as event records, but their
              correlation into incidents (families, time windows, de-duplication) is not implemented. What follows is only the join
              of the imported events to the inventory by address.
            </Gap>
            <p id="events-summary">
              {d.events.addresses} address(es) appear in imported event feeds; {d.events.inInventory} of them are devices in the inventory and{' '}
              {d.events.withOpenFindings} have open findings (reported by a feed and exposed or vulnerable).
            </p>
            <Table id="t-events" head={['feed', 'category', 'events', 'addresses']} rows={d.events.byFeed.map((r) => [r.feed, r.category, r.events, r.addresses])} numeric={[2, 3]} empty="No event feed has been imported for this scope." />
          </section>

          <section id="solutions">
            <h2>3. Solutions available</h2>
            <p>
              Every finding carries its remediation. {d.fixed} finding(s) were fixed in this period — a later scan no longer saw the problem, which
              verifies the fix. Median time from first seen to fixed: {o.medianDaysToFix === null ? 'no fix observed yet' : `${o.medianDaysToFix} days`}.
            </p>
            <Figure id="finding-days" options={findingDaysChart(o.findingDays)} />
            <h3>Most common problems and their remediation</h3>
            <Table
              id="t-problems"
              head={['check', 'severity', 'open devices', 'fixed', 'accepted', 'remediation']}
              rows={d.problems.map((p) => [`${p.id} — ${p.title}`, p.severity, p.openDevices, p.fixed, p.accepted, p.remediation])}
              numeric={[2, 3, 4]}
            />
          </section>

          <section id="challenges">
            <h2>4. Challenges and opportunities</h2>
            <p>
              Fix first what is exploited: {o.kevCves} CVE(s) from CISA's Known Exploited Vulnerabilities catalogue are present on {o.kevDevices} device(s).
            </p>
            <h3>Known exploited vulnerabilities present</h3>
            <Table id="t-kev" head={['CVE', 'title', 'CVSS', 'EPSS', 'devices']} rows={kevRows.map((c) => [c.cve, c.title, c.cvss, c.epss, c.devices])} numeric={[2, 3, 4]} empty="No KEV CVE on a device in this scope." />
            <h3>Highest exploitation probability (EPSS)</h3>
            <Table id="t-epss" head={['CVE', 'EPSS', 'CVSS', 'KEV', 'devices']} rows={topEpss.map((c) => [c.cve, c.epss, c.cvss, c.kev ? 'yes' : 'no', c.devices])} numeric={[1, 2, 4]} />
            <h3>Vendors ranked</h3>
            <Table id="t-vendors" head={['vendor', 'devices', 'vulnerable', 'CVEs', 'KEV CVEs']} rows={d.vendors.map((v) => [v.vendor, v.devices, v.vulnerableDevices, v.cves, v.kevCves])} numeric={[1, 2, 3, 4]} />
            <h3>Models ranked</h3>
            <Table id="t-models" head={['vendor', 'model', 'devices', 'vulnerable', 'CVEs', 'KEV CVEs']} rows={d.models.map((v) => [v.vendor, v.model ?? '', v.devices, v.vulnerableDevices, v.cves, v.kevCves])} numeric={[2, 3, 4, 5]} />
            <h3>Networks ranked (/24 and /48)</h3>
            <Table id="t-networks" head={['prefix', 'devices', 'exposed', 'vulnerable', 'KEV', 'open findings']} rows={d.networks.map((r) => [r.prefix, r.devices, r.exposedDevices, r.vulnerableDevices, r.kevDevices, r.openFindings])} numeric={[1, 2, 3, 4, 5]} />
          </section>

          <section id="policies">
            <h2>5. Policies that guide this area</h2>
            <Gap>
              iotscope does not evaluate baselines yet (ETSI EN 303 645, UK PSTI, NISTIR 8259A, OWASP IoT Top 10, a national baseline):
              the baselines-as-data stage is not built, so this report gives no verdict per clause. Where a finding relates to a baseline
              provision (default passwords, cleartext management, exposed services), it is listed under sections 1, 3 and 4.
            </Gap>
          </section>

          <section id="roles">
            <h2>6. Who must act, and how they cooperate</h2>
            <Gap>
              iotscope does not map networks to owners, ISPs or peer CERTs yet and sends no notifications: the stakeholder stage and the
              STIX/MISP/IntelMQ exchange are not built. The networks table (section 4) and the vendors and models tables show where action is
              needed: network owners for exposed services, manufacturers for vulnerable models.
            </Gap>
          </section>

          <section id="methodology">
            <h2>Methodology and data sources</h2>
            <p>
              Observations come from iotscope's own scans, only inside an authorised scope, and from imported scan data. Devices are identified by
              fingerprint rules over banners, headers, certificates and protocol fields; each identity has a confidence. Exposure findings come from
              checks kept as data; CVEs are matched to identified firmware versions (confidence: version verified, model only, or undecidable). A
              remote check can show a problem; it cannot prove that a device is secure. Hosts that look like honeypots or tarpits are excluded.
            </p>
            <h3>Scans and imports in scope</h3>
            <Table
              id="t-runs"
              head={['run', 'kind', 'started', 'source', 'observations', 'hosts']}
              rows={d.runs.map((r) => [r.runId, r.kind, r.startedAt, String(r.spec.file ?? r.spec.format ?? r.spec.targets ?? ''), r.observations, r.hosts])}
              numeric={[4, 5]}
            />
            <h3>Vulnerability knowledge</h3>
            <Table
              id="t-kb"
              head={['source', 'records', 'last update']}
              rows={[
                ['NVD CVE API 2.0', d.kb.counts.nvd ?? 0, d.kb.updated.nvd ?? 'never'],
                ['CVE JSON 5 (cvelistV5, vulnrichment)', d.kb.counts.cve5 ?? 0, d.kb.updated.cve5 ?? 'never'],
                ['CISA KEV', d.kb.counts.kev ?? 0, d.kb.updated.kev ?? 'never'],
                ['FIRST EPSS', d.kb.counts.epss ?? 0, d.kb.updated.epss ?? 'never'],
              ]}
              numeric={[1]}
            />
          </section>
        </body>
      </html>
    </>
  );
}

export async function renderReportHtml(data: ReportData): Promise<string> {
  return String(await (<ReportDocument data={data} />).toString());
}

/** Print the HTML to PDF in headless Chromium; the page is loaded from a file with networking unused. */
export async function renderReportPdf(html: string, out: string, chromiumPath?: string): Promise<void> {
  const browser = await launchChromium(chromiumPath ? { executablePath: chromiumPath } : {});
  try {
    const page = await browser.context.newPage();
    await page.setContent(html, { waitUntil: 'load' });
    await page.pdf({ path: out, format: 'A4', printBackground: true, margin: { top: '15mm', bottom: '15mm', left: '12mm', right: '12mm' } });
  } finally {
    await browser.close();
  }
}

/** Text of every page of a PDF is compressed; tests read the HTML for numbers and check the PDF's shape. */
export function pdfPageCount(file: string): number {
  const bytes = readFileSync(file).toString('latin1');
  return (bytes.match(/\/Type\s*\/Page[^s]/g) ?? []).length;
}
