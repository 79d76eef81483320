// Stage: presentation (dashboard pages). One component per page; each shows a table from tables.ts with filters,
// pagination and download links, and the overview its charts. Device text goes through devText and JSX escaping.
import type { Finding } from '../core/finding.ts';
import { FINDING_KINDS, SEVERITIES, findingKey } from '../core/finding.ts';
import type { Device, DeviceEvent } from '../fingerprint/types.ts';
import type { InventoryStats, ServiceRow } from '../store/store.ts';
import { describeObservation } from '../cli/describe.ts';
import type { TokenInfo, User } from './accounts.ts';
import { ROLES } from './accounts.ts';
import { overviewCharts, runTrendChart } from './charts.ts';
import type { AsnRow, CveRow, DeviceQuery, NetworkRow, Overview, RunTrend, Scope, VendorVulnRow } from './queries.ts';
import { PREFIX_LENGTHS } from './queries.ts';
import { ASN_COLUMNS, CVE_COLUMNS, DEVICE_COLUMNS, FINDING_COLUMNS, MODEL_COLUMNS, NETWORK_COLUMNS, RUN_COLUMNS, SERVICE_COLUMNS, VENDOR_COLUMNS } from './tables.ts';
import { Chart, DataTable, DownloadLinks, FindingStateForm, Kpi, Layout, Pager, Select, SeverityBadge, devText, type PageContext } from './views.tsx';
import type { FindingFilter } from '../store/store.ts';
import { roleAtLeast } from './accounts.ts';

const deviceLink = (ip: string) => <a href={`/devices/${encodeURIComponent(ip)}`}>{ip}</a>;

export function SetupPage(props: { token: string; minPassword: number; error?: string }) {
  return (
    <Layout title="Create the administrator">
      <p>This one-time link creates the first account, with the admin role. It stops working once used.</p>
      {props.error && <p class="error">{props.error}</p>}
      <form method="post" action="/setup" class="login">
        <input type="hidden" name="token" value={props.token} />
        <label>
          Name <input name="name" required autocomplete="username" pattern="[A-Za-z0-9._@\-]{1,64}" />
        </label>
        <label>
          Password (at least {props.minPassword} characters) <input name="password" type="password" required minlength={props.minPassword} autocomplete="new-password" />
        </label>
        <label>
          Password again <input name="password2" type="password" required minlength={props.minPassword} autocomplete="new-password" />
        </label>
        <button type="submit">Create administrator</button>
      </form>
    </Layout>
  );
}

export function LoginPage(props: { pre: string; next: string; error?: string; notice?: string }) {
  return (
    <Layout title="Log in">
      {props.notice && <p class="notice">{props.notice}</p>}
      {props.error && <p class="error">{props.error}</p>}
      <form method="post" action="/login" class="login">
        <input type="hidden" name="_login" value={props.pre} />
        <input type="hidden" name="next" value={props.next} />
        <label>
          Name <input name="name" required autocomplete="username" />
        </label>
        <label>
          Password <input name="password" type="password" required autocomplete="current-password" />
        </label>
        <button type="submit">Log in</button>
      </form>
    </Layout>
  );
}

function ScopeForm(props: { action: string; scope: Scope; extra?: Record<string, string> }) {
  return (
    <form method="get" action={props.action} class="filters">
      {Object.entries(props.extra ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      <label>
        network (CIDR) <input name="network" value={props.scope.network ?? ''} placeholder="10.0.0.0/8" />
      </label>
      <button type="submit">Apply</button>
    </form>
  );
}

export function OverviewPage(props: { ctx: PageContext; scope: Scope; overview: Overview }) {
  const o = props.overview;
  const net = props.scope.network ? `&network=${encodeURIComponent(props.scope.network)}` : '';
  return (
    <Layout title="Overview" ctx={props.ctx}>
      <ScopeForm action="/" scope={props.scope} />
      <div class="kpis" id="kpis">
        <Kpi label="devices" value={o.devices} href={`/devices?${net.slice(1)}`} />
        <Kpi label="exposed devices" value={o.exposedDevices} href={`/findings?${net.slice(1)}`} />
        <Kpi label="open exposure findings" value={o.exposureFindings} />
        <Kpi label="vulnerable devices" value={o.vulnerableDevices} href={`/vulnerabilities?by=cve${net}`} />
        <Kpi label="devices with a KEV CVE" value={o.kevDevices} href={`/vulnerabilities?by=cve&kev=1${net}`} />
        <Kpi label="KEV CVEs present" value={o.kevCves} />
        <Kpi label="median days to fix" value={o.medianDaysToFix ?? '–'} />
      </div>
      {o.noiseExcluded > 0 && <p>{o.noiseExcluded} likely honeypot or tarpit host(s) are left out of these counts.</p>}
      <div class="charts">
        {overviewCharts(o).map((c) => (
          <Chart id={c.id} options={c.options} />
        ))}
      </div>
    </Layout>
  );
}

export function DevicesPage(props: { ctx: PageContext; q: DeviceQuery; result: { total: number; rows: import('./queries.ts').DeviceRow[] }; query: URLSearchParams; stats: InventoryStats }) {
  const { q, query } = props;
  const sortLink = (key: string) => {
    const p = new URLSearchParams(query);
    p.set('sort', key);
    p.set('dir', q.sort === key && q.dir !== 'desc' ? 'desc' : 'asc');
    p.delete('offset');
    return `/devices?${p.toString()}`;
  };
  const sorts: Record<string, string> = { ip: 'ip', vendor: 'vendor', model: 'model', firmware: 'firmware', type: 'type', last_seen: 'lastSeen', open_findings: 'findings', cves: 'cves', kev: 'kev' };
  return (
    <Layout title="Devices" ctx={props.ctx}>
      <form method="get" action="/devices" class="filters" id="device-filters" hx-get="/devices" hx-target="#results" hx-select="#results" hx-swap="outerHTML" hx-push-url="true" hx-trigger="submit, change">
        <label>
          search <input name="q" value={q.q ?? ''} placeholder="address, vendor, model" />
        </label>
        <label>
          vendor <Select name="vendor" value={q.vendor} options={props.stats.byVendor.map((r) => r.key).filter((k) => k !== '(unknown)')} />
        </label>
        <label>
          type <Select name="type" value={q.type} options={props.stats.byType.map((r) => r.key).filter((k) => k !== '(unknown)')} />
        </label>
        <label>
          model <input name="model" value={q.model ?? ''} />
        </label>
        <label>
          firmware <input name="firmware" value={q.firmware ?? ''} />
        </label>
        <label>
          network <input name="network" value={q.network ?? ''} placeholder="CIDR" />
        </label>
        <button type="submit">Filter</button>
      </form>
      <div id="results">
        <DownloadLinks api="/api/devices" query={query} />
        <DataTable
          id="devices-table"
          columns={DEVICE_COLUMNS}
          rows={props.result.rows}
          sortLink={sortLink}
          current={{ sort: q.sort ?? 'ip', dir: q.dir ?? 'asc' }}
          renders={[
            ...Object.entries(sorts).map(([header, sort]) => ({ header, sort, ...(header === 'ip' ? { render: (r: { ip: string }) => deviceLink(r.ip) } : {}) })),
          ]}
          empty="No device matches these filters."
        />
        <Pager base="/devices" query={query} offset={q.offset ?? 0} limit={q.limit ?? 50} shown={props.result.rows.length} total={props.result.total} />
      </div>
    </Layout>
  );
}

export function DevicePage(props: { ctx: PageContext; device: Device; services: ServiceRow[]; findings: Finding[]; events: DeviceEvent[] }) {
  const d = props.device;
  const cves = props.findings.filter((f) => f.kind === 'vulnerability');
  const others = props.findings.filter((f) => f.kind !== 'vulnerability');
  const canChange = roleAtLeast(props.ctx.user.role, 'analyst');
  const identity: [string, unknown][] = [
    ['vendor', d.vendor],
    ['product', d.product],
    ['model', d.model],
    ['firmware', d.firmware],
    ['type', d.deviceType],
    ['operating system', d.os ? [d.os.vendor, d.os.product, d.os.version].filter(Boolean).join(' ') : undefined],
    ['CPE', d.cpe.join(' ')],
    ['confidence', d.confidence.toFixed(2)],
    ['first seen', d.firstSeen],
    ['last seen', d.lastSeen],
    ['noise', d.noise ? `${d.noise.kind}: ${d.noise.reasons.join('; ')}` : undefined],
  ];
  const findingRenders = [
    { header: 'severity', render: (f: Finding) => <SeverityBadge severity={f.severity} /> },
    { header: 'state', render: (f: Finding) => (canChange ? <FindingStateForm finding={f} ctx={props.ctx} key_={findingKey(f)} /> : f.state) },
  ];
  const ipq = new URLSearchParams({ ip: d.ip, state: 'any' });
  return (
    <Layout title={`Device ${d.ip}`} ctx={props.ctx}>
      <table class="data" id="identity">
        <tbody>
          {identity.map(([k, v]) => (
            <tr>
              <th>{k}</th>
              <td>{devText(v, 500)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Services</h2>
      <DownloadLinks api={`/api/devices/${encodeURIComponent(d.ip)}`} query={new URLSearchParams({ table: 'services' })} />
      <DataTable id="services-table" columns={SERVICE_COLUMNS} rows={props.services} renders={[{ header: 'summary', render: (s: ServiceRow) => devText(describeObservation(s), 300) }]} empty="No service answered." />
      <details>
        <summary>What each service said (raw fields)</summary>
        {props.services.map((s) => (
          <div class="service-data">
            <h3>
              {s.port}/{s.transport} {s.protocol}
            </h3>
            <pre class="data">{JSON.stringify(s.data, null, 2).slice(0, 16_000)}</pre>
          </div>
        ))}
      </details>
      <h2>Vulnerabilities (CVEs)</h2>
      <DataTable id="cves-table" columns={FINDING_COLUMNS.filter((c) => ['id', 'title', 'severity', 'cvss', 'kev', 'epss', 'state', 'remediation'].includes(c.header))} rows={cves} renders={findingRenders} empty="No CVE matched this device." />
      <h2>Other findings</h2>
      <DownloadLinks api="/api/findings" query={ipq} />
      <DataTable id="findings-table" columns={FINDING_COLUMNS.filter((c) => !['cvss', 'kev', 'epss'].includes(c.header))} rows={others} renders={findingRenders} empty="No exposure finding." />
      <h2>Evidence</h2>
      <table class="data sortable" id="evidence-table">
        <thead>
          <tr>
            <th>service</th>
            <th>rule</th>
            <th>field</th>
            <th>value</th>
            <th>certainty</th>
            <th>used</th>
          </tr>
        </thead>
        <tbody>
          {d.evidence.slice(0, 200).map((e) => (
            <tr>
              <td>
                {e.observation.port}/{e.observation.transport} {e.observation.protocol}
              </td>
              <td>{devText(e.ruleId)}</td>
              <td>{devText(e.field)}</td>
              <td>{devText(e.value, 300)}</td>
              <td data-value={String(e.certainty)}>{e.certainty.toFixed(2)}</td>
              <td>{e.accepted ? 'yes' : 'no (outweighed)'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>History</h2>
      <table class="data sortable" id="history-table">
        <thead>
          <tr>
            <th>time</th>
            <th>event</th>
            <th>detail</th>
          </tr>
        </thead>
        <tbody>
          {props.events.map((e) => (
            <tr>
              <td>{e.time}</td>
              <td>{e.kind}</td>
              <td>{e.kind === 'new-device' ? '' : devText(`${'field' in e ? `${e.field}: ` : ''}${e.from} → ${e.to}`, 300)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}

export function VulnerabilitiesPage(props: { ctx: PageContext; by: 'cve' | 'vendor' | 'model'; query: URLSearchParams; cveRows?: CveRow[]; vendorRows?: VendorVulnRow[] }) {
  const tab = (by: string, name: string) => {
    const p = new URLSearchParams(props.query);
    p.set('by', by);
    return (
      <a href={`/vulnerabilities?${p.toString()}`} class={props.by === by ? 'active' : ''}>
        {name}
      </a>
    );
  };
  const kev = props.query.get('kev') === '1';
  return (
    <Layout title="Vulnerabilities" ctx={props.ctx}>
      <p class="tabs">
        {tab('cve', 'by CVE')} {tab('vendor', 'by vendor')} {tab('model', 'by model')}
      </p>
      <form method="get" action="/vulnerabilities" class="filters" id="vuln-filters">
        <input type="hidden" name="by" value={props.by} />
        <label>
          network <input name="network" value={props.query.get('network') ?? ''} placeholder="CIDR" />
        </label>
        <label>
          <span>
            <input type="checkbox" name="kev" value="1" checked={kev} /> KEV only
          </span>
        </label>
        <button type="submit">Filter</button>
      </form>
      <DownloadLinks api="/api/vulnerabilities" query={props.query.has('by') ? props.query : new URLSearchParams([...props.query, ['by', props.by]])} />
      {props.cveRows && (
        <DataTable
          id="vulns-table"
          columns={CVE_COLUMNS}
          rows={props.cveRows}
          renders={[
            { header: 'cve', render: (r: CveRow) => <a href={`/findings?kind=vulnerability&id=${encodeURIComponent(r.cve)}`}>{r.cve}</a> },
            { header: 'severity', render: (r: CveRow) => <SeverityBadge severity={r.severity} /> },
            { header: 'kev', render: (r: CveRow) => (r.kev ? 'KEV' : '') },
          ]}
          empty="No open CVE finding."
        />
      )}
      {props.vendorRows && <DataTable id="vulns-table" columns={props.by === 'model' ? MODEL_COLUMNS : VENDOR_COLUMNS} rows={props.vendorRows} empty="No open CVE finding." />}
    </Layout>
  );
}

export function FindingsPage(props: { ctx: PageContext; filter: FindingFilter & { limit: number; offset: number }; result: { rows: Finding[]; hasNext: boolean }; query: URLSearchParams }) {
  const f = props.filter;
  const canChange = roleAtLeast(props.ctx.user.role, 'analyst');
  return (
    <Layout title="Findings" ctx={props.ctx}>
      <form method="get" action="/findings" class="filters" id="finding-filters" hx-get="/findings" hx-target="#results" hx-select="#results" hx-swap="outerHTML" hx-push-url="true" hx-trigger="submit, change">
        <label>
          kind <Select name="kind" value={f.kind} options={[...FINDING_KINDS]} />
        </label>
        <label>
          severity (or worse) <Select name="severity" value={f.minSeverity} options={[...SEVERITIES]} />
        </label>
        <label>
          state <Select name="state" value={f.state === 'open' ? undefined : f.state} options={['fixed', 'accepted', 'any']} any="open" />
        </label>
        <label>
          check or CVE id <input name="id" value={f.id ?? ''} />
        </label>
        <label>
          address <input name="ip" value={f.ip ?? ''} />
        </label>
        <label>
          network <input name="network" value={f.network ?? ''} placeholder="CIDR" />
        </label>
        <button type="submit">Filter</button>
      </form>
      <div id="results">
        <DownloadLinks api="/api/findings" query={props.query} />
        <DataTable
          id="findings-table"
          columns={FINDING_COLUMNS}
          rows={props.result.rows}
          renders={[
            { header: 'ip', render: (x: Finding) => deviceLink(x.ip) },
            { header: 'severity', render: (x: Finding) => <SeverityBadge severity={x.severity} /> },
            { header: 'state', render: (x: Finding) => (canChange ? <FindingStateForm finding={x} ctx={props.ctx} key_={findingKey(x)} /> : x.state) },
          ]}
          empty="No finding matches these filters."
        />
        <Pager base="/findings" query={props.query} offset={f.offset} limit={f.limit} shown={props.result.rows.length} hasNext={props.result.hasNext} />
      </div>
    </Layout>
  );
}

export function NetworksPage(props: { ctx: PageContext; rows: NetworkRow[]; query: URLSearchParams }) {
  return (
    <Layout title="Networks" ctx={props.ctx}>
      <p>Devices and open findings per prefix, worst first.</p>
      <form method="get" action="/networks" class="filters" id="network-filters">
        <label>
          network (CIDR) <input name="network" value={props.query.get('network') ?? ''} placeholder="10.0.0.0/8" />
        </label>
        <GroupingSelect by="prefix" />
        <label>
          IPv4 prefix <Select name="v4" value={props.query.get('v4') ?? '24'} options={PREFIX_LENGTHS.v4.map(String)} any="/24" />
        </label>
        <label>
          IPv6 prefix <Select name="v6" value={props.query.get('v6') ?? '48'} options={PREFIX_LENGTHS.v6.map(String)} any="/48" />
        </label>
        <button type="submit">Apply</button>
      </form>
      <DownloadLinks api="/api/networks" query={props.query} />
      <DataTable id="networks-table" columns={NETWORK_COLUMNS} rows={props.rows} renders={[{ header: 'prefix', render: (r: NetworkRow) => <a href={`/devices?network=${encodeURIComponent(r.prefix)}`}>{r.prefix}</a> }]} empty="No device in this scope." />
    </Layout>
  );
}

/** The networks page's choice of grouping: fixed-length prefixes or autonomous systems. */
function GroupingSelect(props: { by: 'prefix' | 'asn' }) {
  return (
    <label>
      group by{' '}
      <select name="by" id="network-grouping">
        <option value="prefix" selected={props.by === 'prefix'}>
          prefix
        </option>
        <option value="asn" selected={props.by === 'asn'}>
          ASN
        </option>
      </select>
    </label>
  );
}

export function AsnNetworksPage(props: { ctx: PageContext; rows: AsnRow[]; query: URLSearchParams }) {
  return (
    <Layout title="Networks" ctx={props.ctx}>
      <p>
        Devices and open findings per autonomous system, worst first. An address's AS comes from the prefix→ASN table loaded with <code>iotscope networks import-asn</code>, else from
        imported records that name it (Shadowserver, Shodan, IntelMQ); the rest count as unknown.
      </p>
      <form method="get" action="/networks" class="filters" id="network-filters">
        <label>
          network (CIDR) <input name="network" value={props.query.get('network') ?? ''} placeholder="10.0.0.0/8" />
        </label>
        <GroupingSelect by="asn" />
        <button type="submit">Apply</button>
      </form>
      <DownloadLinks api="/api/networks" query={props.query} />
      <DataTable id="asn-table" columns={ASN_COLUMNS} rows={props.rows} empty="No device in this scope." />
    </Layout>
  );
}

export function RunsPage(props: { ctx: PageContext; rows: (RunTrend & { finishedAt: string | null })[]; query: URLSearchParams }) {
  return (
    <Layout title="Runs and trends" ctx={props.ctx}>
      <ScopeForm action="/runs" scope={{ network: props.query.get('network') ?? undefined }} />
      <Chart id="runs" options={runTrendChart(props.rows)} />
      <DownloadLinks api="/api/runs" query={props.query} />
      <DataTable id="runs-table" columns={RUN_COLUMNS} rows={[...props.rows].reverse()} empty="No scan or import yet." />
    </Layout>
  );
}

export function AdminPage(props: { ctx: PageContext; users: User[]; tokens: TokenInfo[]; error?: string; newToken?: string }) {
  const csrf = <input type="hidden" name="_csrf" value={props.ctx.csrf} />;
  return (
    <Layout title="Users and API tokens" ctx={props.ctx}>
      {props.error && <p class="error">{props.error}</p>}
      {props.newToken && (
        <p>
          New API token (shown once, store it now): <span class="token" id="new-token">{props.newToken}</span>
        </p>
      )}
      <h2>Users</h2>
      <table class="data" id="users-table">
        <thead>
          <tr>
            <th>name</th>
            <th>role</th>
            <th>created</th>
            <th>status</th>
            <th>change</th>
          </tr>
        </thead>
        <tbody>
          {props.users.map((u) => (
            <tr>
              <td>{u.name}</td>
              <td>{u.role}</td>
              <td>{u.createdAt}</td>
              <td>{u.disabled ? 'disabled' : 'active'}</td>
              <td>
                <form method="post" action={`/admin/users/${u.id}`} class="inline">
                  {csrf}
                  <Select name="role" value={u.role} options={[...ROLES]} any="(keep)" />
                  <button type="submit">set role</button>
                </form>{' '}
                <form method="post" action={`/admin/users/${u.id}`} class="inline">
                  {csrf}
                  <input type="hidden" name="disabled" value={u.disabled ? '0' : '1'} />
                  <button type="submit">{u.disabled ? 'enable' : 'disable'}</button>
                </form>{' '}
                <form method="post" action={`/admin/users/${u.id}`} class="inline">
                  {csrf}
                  <input name="password" type="password" placeholder="new password" autocomplete="new-password" />
                  <button type="submit">set password</button>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Add a user</h3>
      <form method="post" action="/admin/users" class="filters" id="add-user">
        {csrf}
        <label>
          name <input name="name" required />
        </label>
        <label>
          role <Select name="role" options={[...ROLES]} any="(pick)" />
        </label>
        <label>
          password <input name="password" type="password" required autocomplete="new-password" />
        </label>
        <button type="submit">Add</button>
      </form>
      <h2>API tokens</h2>
      <table class="data" id="tokens-table">
        <thead>
          <tr>
            <th>id</th>
            <th>user</th>
            <th>label</th>
            <th>created</th>
            <th>expires</th>
            <th>last used</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {props.tokens.map((t) => (
            <tr>
              <td>{t.id}</td>
              <td>{t.userName}</td>
              <td>{t.label}</td>
              <td>{t.createdAt}</td>
              <td>{t.expiresAt ?? 'never'}</td>
              <td>{t.lastUsed ?? 'never'}</td>
              <td>
                <form method="post" action={`/admin/tokens/${t.id}/revoke`} class="inline">
                  {csrf}
                  <button type="submit">revoke</button>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>New token</h3>
      <form method="post" action="/admin/tokens" class="filters" id="add-token">
        {csrf}
        <label>
          for user{' '}
          <select name="userId">
            {props.users.map((u) => (
              <option value={String(u.id)}>{u.name}</option>
            ))}
          </select>
        </label>
        <label>
          label <input name="label" value="api" />
        </label>
        <label>
          expires after (days, empty = never) <input name="days" type="number" min="1" />
        </label>
        <button type="submit">Create token</button>
      </form>
    </Layout>
  );
}
