// Tests of the summary report: `iotscope report` writes HTML (and PDF through Chromium) organised by the six
// questions, with numbers that agree with the store, scope filters that change them, sections that say plainly
// what iotscope does not collect yet, and hostile device text that stays text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { require_ } from '../../test/testbed.ts';
import { main } from '../cli/main.ts';
import { SqliteStore } from '../store/sqlite/store.ts';
import { seedStore } from '../web/testing.ts';
import { collectReport, pdfPageCount, renderReportHtml } from './report.tsx';

function section(html: string, id: string): string {
  const m = new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`).exec(html);
  assert.ok(m, `section ${id} present`);
  return m[1]!;
}

const kpi = (html: string, id: string) => Number(new RegExp(`id="${id}"><b>(\\d+)</b>`).exec(html)?.[1]);
const rowsOf = (html: string, id: string) => {
  const t = new RegExp(`<table id="${id}">[\\s\\S]*?<tbody>([\\s\\S]*?)</tbody>`).exec(html);
  assert.ok(t, `table ${id}`);
  return [...t[1]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]!));
};

test('the report answers the six questions with the store numbers, and keeps hostile text as text', async () => {
  const store = SqliteStore.open(':memory:');
  const facts = await seedStore(store);
  const html = await renderReportHtml(await collectReport(store, {}));
  for (const id of ['status', 'cases', 'solutions', 'challenges', 'policies', 'roles', 'methodology']) section(html, id);
  assert.equal(kpi(html, 'kpi-devices'), facts.devices);
  assert.equal(kpi(html, 'kpi-exposed'), facts.exposedDevices);
  assert.equal(kpi(html, 'kpi-vulnerable'), facts.vulnerableDevices);
  assert.equal(kpi(html, 'kpi-kev'), facts.kevDevices);
  assert.equal(kpi(html, 'kpi-findings'), facts.openFindings);
  // KEV table: exactly the KEV CVEs found on devices, with their device counts.
  assert.deepEqual(rowsOf(html, 't-kev').map((r) => r[0]).sort(), ['CVE-2017-7921', 'CVE-2018-14847', 'CVE-2021-36260']);
  const vendors = rowsOf(html, 't-vendors').map((r) => [r[0], Number(r[3]), Number(r[4])]);
  assert.deepEqual(vendors, [['Hikvision', 2, 2], ['MikroTik', 2, 1]]);
  assert.deepEqual(rowsOf(html, 't-networks').map((r) => r[0]), ['10.0.0.0/24', '10.0.1.0/24', '2001:db8::/48']);
  // Solutions: one fix verified by a re-scan (the FTP exposure), 31 days after it was first seen.
  assert.match(section(html, 'solutions'), /1 finding\(s\) were fixed in this period/);
  assert.match(section(html, 'solutions'), /31 days/);
  const problems = rowsOf(html, 't-problems');
  assert.ok(problems.some((r) => r[0]!.startsWith('ftp-exposed') && r[3] === '1'));
  assert.equal(problems.find((r) => r[0]!.startsWith('telnet-exposed'))![2], '1', 'the honeypot host is not counted');
  // Sections without data say so plainly.
  for (const id of ['cases', 'policies', 'roles']) assert.match(section(html, id), /class="gap">\s*iotscope does not/);
  // Charts are inline SVG; no script anywhere, hostile text escaped in tables and charts.
  assert.equal((html.match(/<svg/g) ?? []).length, 5, 'five charts');
  assert.ok(!/<script/i.test(html), 'no script element at all');
  assert.ok(!/<img src=x/i.test(html) && !/<svg onload/i.test(html));
  assert.ok(html.includes('&lt;script&gt;window'), 'hostile vendor drawn as text in the vendor chart');
  assert.ok(!html.includes('\u001b'));
  assert.match(html, /Content-Security-Policy" content="default-src (&#39;|')none/);

  // The network filter narrows everything to it.
  const one = await renderReportHtml(await collectReport(store, { network: '10.0.1.0/24' }));
  assert.equal(kpi(one, 'kpi-devices'), 1);
  assert.equal(kpi(one, 'kpi-vulnerable'), 1);
  assert.deepEqual(rowsOf(one, 't-kev').map((r) => r[0]), ['CVE-2018-14847']);
  // A date range before the second scan sees neither its findings nor its run.
  const early = await renderReportHtml(await collectReport(store, { to: '2026-10-15' }));
  assert.equal(kpi(early, 'kpi-vulnerable'), 0);
  assert.deepEqual(rowsOf(early, 't-runs').map((r) => r[0]), ['run-1']);
  assert.equal(kpi(early, 'kpi-devices'), facts.devices, 'devices first seen before the end of the window count');
  assert.equal(kpi(early, 'kpi-exposed'), 1, 'only the telnet exposure was seen by then');
  // A window after every sighting holds nothing.
  const late = await renderReportHtml(await collectReport(store, { from: '2026-11-15' }));
  assert.equal(kpi(late, 'kpi-devices'), 0);
  assert.equal(kpi(late, 'kpi-findings'), 0);
  await store.close();
});

test('iotscope report writes the HTML and the PDF', { timeout: 120_000 }, async (t) => {
  if (!require_(t, 'chromium')) return;
  const dir = mkdtempSync(join(tmpdir(), 'iotscope-report-'));
  try {
    const db = join(dir, 'store.db');
    const store = SqliteStore.open(db);
    const facts = await seedStore(store);
    await store.close();
    const out = join(dir, 'r.html');
    const pdf = join(dir, 'r.pdf');
    const code = await main(['node', 'iotscope', 'report', '--db', db, '--out', out, '--pdf', pdf, '--from', '2026-01-01']);
    assert.equal(code, 0);
    const html = readFileSync(out, 'utf8');
    assert.equal(kpi(html, 'kpi-devices'), facts.devices);
    assert.ok(existsSync(pdf));
    const bytes = readFileSync(pdf);
    assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
    assert.ok(pdfPageCount(pdf) >= 3, `several pages (${pdfPageCount(pdf)})`);
    assert.equal(await main(['node', 'iotscope', 'report', '--db', db, '--out', out, '--network', 'not-a-net']), 2);
    assert.equal(await main(['node', 'iotscope', 'report', '--db', db, '--out', out, '--from', 'yesterday']), 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
