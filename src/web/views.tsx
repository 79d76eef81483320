// Stage: presentation (dashboard pages). Server-rendered JSX: hono/jsx escapes every text child and attribute, so
// device text (banners, titles, vendor strings) is shown as text. Chart options travel in a data attribute,
// escaped like any attribute, and are read by /assets/app.js; the pages carry no inline script.
import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';
import type { Finding } from '../core/finding.ts';
import { printable } from '../core/bytes.ts';
import type { Column } from './csv.ts';
import type { User } from './accounts.ts';
import type { ChartOptions } from './charts.ts';

export interface PageContext {
  user: User;
  csrf: string;
  /** the current path and query, for redirects back after a form */
  here: string;
}

const NAV: [string, string][] = [
  ['/', 'Overview'],
  ['/devices', 'Devices'],
  ['/vulnerabilities', 'Vulnerabilities'],
  ['/findings', 'Findings'],
  ['/networks', 'Networks'],
  ['/runs', 'Runs'],
];

export function Layout(props: { title: string; ctx?: PageContext; children?: Child }) {
  const path = props.ctx?.here.split('?')[0] ?? '';
  // The doctype is a constant (standards mode); no data ever goes through raw().
  return (
    <>
      {raw('<!DOCTYPE html>')}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content='{"allowEval":false,"allowScriptTags":false,"includeIndicatorStyles":false,"selfRequestsOnly":true}' />
        <title>{`${props.title} · iotscope`}</title>
        <link rel="stylesheet" href="/assets/style.css" />
        <script src="/assets/htmx.min.js" defer></script>
        <script src="/assets/echarts.min.js" defer></script>
        <script src="/assets/app.js" defer></script>
      </head>
      <body>
        <header>
          <strong class="brand">iotscope</strong>
          {props.ctx && (
            <nav>
              {NAV.map(([href, name]) => (
                <a href={href} class={path === href || (href !== '/' && path.startsWith(href)) ? 'active' : ''}>
                  {name}
                </a>
              ))}
              {props.ctx.user.role === 'admin' && (
                <a href="/admin" class={path === '/admin' ? 'active' : ''}>
                  Admin
                </a>
              )}
            </nav>
          )}
          {props.ctx && (
            <form method="post" action="/logout" class="logout">
              <span class="who">
                {props.ctx.user.name} ({props.ctx.user.role})
              </span>
              <input type="hidden" name="_csrf" value={props.ctx.csrf} />
              <button type="submit">Log out</button>
            </form>
          )}
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
    </>
  );
}

export function Chart(props: { id: string; options: ChartOptions; height?: number }) {
  return <div class="chart" id={`chart-${props.id}`} data-chart={JSON.stringify(props.options)} style={`height:${props.height ?? 320}px`}></div>;
}

export function Kpi(props: { label: string; value: number | string; href?: string }) {
  return (
    <div class="kpi">
      <div class="kpi-value">{props.href ? <a href={props.href}>{String(props.value)}</a> : String(props.value)}</div>
      <div class="kpi-label">{props.label}</div>
    </div>
  );
}

/** Device-supplied text, made terminal- and layout-safe and capped; escaping is done by JSX. */
export function devText(v: unknown, max = 200): string {
  if (v === null || v === undefined) return '';
  return printable(typeof v === 'string' ? v : JSON.stringify(v), max);
}

export function DownloadLinks(props: { api: string; query: URLSearchParams }) {
  const q = (format: string) => {
    const p = new URLSearchParams(props.query);
    p.delete('limit');
    p.delete('offset');
    p.delete('page');
    p.set('format', format);
    return `${props.api}?${p.toString()}`;
  };
  return (
    <p class="downloads">
      Download this table:{' '}
      <a href={q('csv')} download class="download-csv" hx-boost="false">
        CSV
      </a>{' '}
      ·{' '}
      <a href={q('json')} download class="download-json" hx-boost="false">
        JSON
      </a>
    </p>
  );
}

export interface CellRender<T> {
  /** column header, as in the Column list */
  header: string;
  render?: (row: T) => Child;
  /** server-side sort key, when the table sorts on the server */
  sort?: string;
}

/**
 * A table from the shared column list. Sortable on the server when `sortLink` is given (the devices list,
 * which is paginated); otherwise app.js sorts the rows shown in the browser.
 */
export function DataTable<T>(props: {
  id: string;
  columns: Column<T>[];
  rows: T[];
  renders?: CellRender<T>[];
  sortLink?: (key: string) => string;
  current?: { sort?: string; dir?: string };
  empty?: string;
}) {
  const renders = new Map((props.renders ?? []).map((r) => [r.header, r]));
  return (
    <table id={props.id} class={props.sortLink ? 'data' : 'data sortable'}>
      <thead>
        <tr>
          {props.columns.map((c) => {
            const r = renders.get(c.header);
            if (props.sortLink && r?.sort) {
              const active = props.current?.sort === r.sort;
              const arrow = active ? (props.current?.dir === 'desc' ? ' ▼' : ' ▲') : '';
              return (
                <th>
                  <a href={props.sortLink(r.sort)}>{c.header.replace(/_/g, ' ') + arrow}</a>
                </th>
              );
            }
            return <th>{c.header.replace(/_/g, ' ')}</th>;
          })}
        </tr>
      </thead>
      <tbody>
        {props.rows.length === 0 ? (
          <tr>
            <td colspan={props.columns.length} class="empty">
              {props.empty ?? 'Nothing matches.'}
            </td>
          </tr>
        ) : (
          props.rows.map((row) => (
            <tr>
              {props.columns.map((c) => {
                const r = renders.get(c.header);
                const v = c.value(row);
                return <td data-value={typeof v === 'number' ? String(v) : undefined}>{r?.render ? r.render(row) : devText(v, 300)}</td>;
              })}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

export function Pager(props: { base: string; query: URLSearchParams; offset: number; limit: number; shown: number; total?: number; hasNext?: boolean }) {
  const link = (offset: number) => {
    const p = new URLSearchParams(props.query);
    p.set('offset', String(Math.max(0, offset)));
    return `${props.base}?${p.toString()}`;
  };
  const next = props.total !== undefined ? props.offset + props.limit < props.total : !!props.hasNext;
  return (
    <nav class="pager">
      {props.offset > 0 ? (
        <a href={link(props.offset - props.limit)} class="prev" rel="prev">
          ← previous
        </a>
      ) : (
        <span class="disabled">← previous</span>
      )}
      <span class="range">
        {props.shown ? `${props.offset + 1}–${props.offset + props.shown}` : '0'}
        {props.total !== undefined ? ` of ${props.total}` : ''}
      </span>
      {next ? (
        <a href={link(props.offset + props.limit)} class="next" rel="next">
          next →
        </a>
      ) : (
        <span class="disabled">next →</span>
      )}
    </nav>
  );
}

export function SeverityBadge(props: { severity: string }) {
  return <span class={`sev sev-${props.severity}`}>{props.severity}</span>;
}

export function FindingStateForm(props: { finding: Finding; ctx: PageContext; key_: string }) {
  const f = props.finding;
  if (f.state === 'fixed') return <span>fixed</span>;
  const target = f.state === 'open' ? 'accepted' : 'open';
  return (
    <form method="post" action="/findings/state" class="inline">
      <input type="hidden" name="_csrf" value={props.ctx.csrf} />
      <input type="hidden" name="key" value={props.key_} />
      <input type="hidden" name="state" value={target} />
      <input type="hidden" name="back" value={props.ctx.here} />
      <span>{f.state}</span> <button type="submit">{target === 'accepted' ? 'accept risk' : 'reopen'}</button>
    </form>
  );
}

export function Select(props: { name: string; value?: string; options: string[]; any?: string }) {
  return (
    <select name={props.name}>
      <option value="">{props.any ?? 'any'}</option>
      {props.options.map((o) => (
        <option value={o} selected={o === props.value}>
          {o}
        </option>
      ))}
    </select>
  );
}
