// Browser tests of the dashboard in headless Chromium (playwright-core, Debian's chromium): first start through the
// setup link, login, every page, a filter, a sort, a download and a finding-state change — with hostile device text
// in the store that must show literally and never run, and no request leaving the dashboard's own origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { require_ } from '../../test/testbed.ts';
import { SqliteStore } from '../store/sqlite/store.ts';
import { launchChromium } from '../report/chromium.ts';
import { startServer } from './server.ts';
import { HOSTILE, seedStore } from './testing.ts';

const PASSWORD = 'a long enough passphrase';

test('dashboard in Chromium: setup, login, every page, filter, sort, download; hostile text never runs', { timeout: 180_000 }, async (t) => {
  if (!require_(t, 'chromium')) return;
  const dir = mkdtempSync(join(tmpdir(), 'iotscope-web-'));
  const store = SqliteStore.open(join(dir, 'store.db'));
  const facts = await seedStore(store);
  const server = await startServer({ store, host: '127.0.0.1', port: 0 });
  const browser = await launchChromium({ acceptDownloads: true });
  try {
    const page = await browser.context.newPage();
    const dialogs: string[] = [];
    const errors: string[] = [];
    const foreign: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith(server.url)) foreign.push(r.url());
    });

    // First start: the setup link creates the admin, then works no more.
    assert.ok(server.setupUrl);
    await page.goto(server.setupUrl!);
    await page.fill('input[name=name]', 'chief');
    await page.fill('input[name=password]', PASSWORD);
    await page.fill('input[name=password2]', PASSWORD);
    await Promise.all([page.waitForURL(/\/login/), page.click('button[type=submit]')]);
    assert.match(await page.textContent('.notice') ?? '', /Administrator created/);
    const reuse = await page.goto(server.setupUrl!);
    assert.equal(reuse?.status(), 403);

    // Login.
    await page.goto(`${server.url}/devices`);
    assert.match(page.url(), /\/login\?next=%2Fdevices/);
    await page.fill('input[name=name]', 'chief');
    await page.fill('input[name=password]', PASSWORD);
    await Promise.all([page.waitForURL(`${server.url}/devices`), page.click('button[type=submit]')]);

    // Overview: KPIs from the store and charts drawn by ECharts from the data attribute.
    await page.goto(`${server.url}/`);
    await page.waitForSelector('.chart[data-drawn="1"] canvas');
    const kpis = await page.$$eval('.kpi', (els) => els.map((e) => [e.querySelector('.kpi-label')!.textContent, e.querySelector('.kpi-value')!.textContent]));
    const kpi = Object.fromEntries(kpis);
    assert.equal(kpi.devices, String(facts.devices));
    assert.equal(kpi['vulnerable devices'], String(facts.vulnerableDevices));
    assert.equal(kpi['devices with a KEV CVE'], String(facts.kevDevices));
    assert.equal(await page.locator('.chart[data-drawn="1"]').count(), 6);

    // Every page, hostile text visible as text.
    for (const path of ['/devices', `/devices/${facts.hostileIp}`, '/vulnerabilities?by=cve', '/vulnerabilities?by=vendor', '/vulnerabilities?by=model', '/findings?state=any', '/networks', '/runs', '/admin']) {
      const r = await page.goto(`${server.url}${path}`);
      assert.equal(r?.status(), 200, path);
      await page.waitForLoadState('load');
    }
    await page.goto(`${server.url}/devices/${facts.hostileIp}`);
    const identity = await page.textContent('#identity');
    assert.ok(identity?.includes(HOSTILE.vendor), 'vendor shown literally');
    assert.ok(identity?.includes(HOSTILE.model), 'model shown literally');
    assert.ok(identity?.includes(HOSTILE.firmware), 'firmware shown literally');
    const services = await page.textContent('#services-table');
    assert.ok(services?.includes('\\x1b[31mRED\\x1b]0;owned\\x07 <script>alert(4)</script> login:'), 'banner with terminal escapes made visible');
    assert.equal(await page.locator('#identity script, #identity img, #identity svg, #services-table script').count(), 0, 'no element was created from device text');
    await page.goto(`${server.url}/devices`);
    assert.ok((await page.textContent('#devices-table'))?.includes(HOSTILE.vendor));
    assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined');

    // A filter (htmx swaps the table in and pushes the URL), then a server-side sort.
    await page.selectOption('select[name=vendor]', 'Hikvision');
    await page.waitForURL(/vendor=Hikvision/);
    await page.waitForFunction("document.querySelectorAll('#devices-table tbody tr').length === 1");
    assert.deepEqual(await page.$$eval('#devices-table tbody tr td:first-child', (tds) => tds.map((td) => td.textContent)), ['10.0.0.1']);
    await page.goto(`${server.url}/devices?q=2001:db8::/32`);
    assert.deepEqual(await page.$$eval('#devices-table tbody tr td:first-child', (tds) => tds.map((td) => td.textContent)), ['2001:db8::7']);
    await page.goto(`${server.url}/devices`);
    await Promise.all([page.waitForURL(/sort=cves/), page.click('#devices-table th a:text("cves")')]);
    await Promise.all([page.waitForURL(/dir=desc/), page.click('#devices-table th a:text("cves")')]);
    assert.equal(await page.textContent('#devices-table tbody tr:first-child td:first-child'), '10.0.0.1');

    // A client-side sort on a table of the networks page.
    await page.goto(`${server.url}/networks`);
    const prefixes = () => page.$$eval('#networks-table tbody tr td:first-child', (tds) => tds.map((td) => td.textContent ?? ''));
    await page.click('#networks-table th:nth-child(1)');
    const desc = await prefixes();
    await page.click('#networks-table th:nth-child(1)');
    const asc = await prefixes();
    assert.deepEqual(asc, [...desc].reverse());
    assert.equal(asc.length, 3);

    // The grouping selector: per ASN (no table loaded in this store, so every device is unknown).
    await page.selectOption('#network-grouping', 'asn');
    await Promise.all([page.waitForURL(/by=asn/), page.click('#network-filters button[type="submit"]')]);
    assert.deepEqual(await page.$$eval('#asn-table tbody tr td:first-child', (tds) => tds.map((td) => td.textContent ?? '')), ['unknown']);
    assert.equal(await page.textContent('#asn-table tbody tr td:nth-child(3)'), String(facts.devices));

    // Download a table.
    await page.goto(`${server.url}/findings?state=any`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a.download-csv')]);
    const file = join(dir, 'findings.csv');
    await download.saveAs(file);
    const lines = readFileSync(file, 'utf8').split('\r\n').filter(Boolean);
    assert.match(lines[0]!, /^ip,port,severity,kind,id,title,state/);
    assert.equal(lines.length - 1, (await store.findings({ state: 'any' })).length);

    // An analyst action through the page: accept a finding's risk.
    await page.goto(`${server.url}/findings?kind=exposure&ip=10.0.0.2`);
    await Promise.all([page.waitForURL(/\/findings/), page.click('#findings-table button:text("accept risk")')]);
    assert.equal((await store.findings({ ip: '10.0.0.2', state: 'accepted' })).length, 1);

    // Log out: the pages ask for a login again.
    await Promise.all([page.waitForURL(/\/login/), page.click('form.logout button')]);
    await page.goto(`${server.url}/`);
    assert.match(page.url(), /\/login/);

    assert.deepEqual(dialogs, [], 'no dialog opened');
    assert.deepEqual(errors, [], 'no script error');
    assert.deepEqual(foreign, [], 'nothing loaded from outside the dashboard (works offline)');
  } finally {
    await browser.close();
    await server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
