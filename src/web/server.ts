// Stage: web front-end (process). Starts the dashboard's HTTP server over an open store and, on a first start
// with no account, makes the one-time setup link. Used by `iotscope serve`, the browser tests and bench/web.
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { SqliteStore } from '../store/sqlite/store.ts';
import { Accounts } from './accounts.ts';
import { createApp, type AppOptions } from './app.tsx';
import { DashboardQueries } from './queries.ts';

export interface ServerOptions {
  store: SqliteStore;
  host: string;
  port: number;
  secureCookies?: boolean;
  loginLimits?: AppOptions['loginLimits'];
}

export interface RunningServer {
  url: string;
  /** the link to create the first administrator, when no account exists yet */
  setupUrl: string | null;
  accounts: Accounts;
  queries: DashboardQueries;
  close(): Promise<void>;
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const accounts = new Accounts(o.store.handle);
  const queries = new DashboardQueries(o.store, o.store.handle);
  const app = createApp({ accounts, queries, secureCookies: o.secureCookies, loginLimits: o.loginLimits });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: o.port, hostname: o.host }, () => resolve(s));
    s.once('error', reject);
  });
  const addr = server.address() as AddressInfo;
  // An unspecified listen address is reachable on loopback; the printed link should work when pasted locally.
  const shownHost = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host.includes(':') ? `[${o.host}]` : o.host;
  const url = `${o.secureCookies ? 'https' : 'http'}://${shownHost}:${addr.port}`;
  const setupUrl = accounts.userCount() === 0 ? `${url}/setup?token=${accounts.createSetupLink()}` : null;
  return {
    url,
    setupUrl,
    accounts,
    queries,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
