// Stage: CLI front-end for the dashboard: `iotscope serve` runs the JSON API and the web pages over the store.
import type { Command } from 'commander';
import { startServer } from '../../web/server.ts';
import { CliError } from '../errors.ts';
import { openStore } from '../store.ts';

interface ServeOptions {
  db?: string;
  port: string;
  host: string;
  secureCookies?: boolean;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('web dashboard and JSON API over the store (accounts with roles; the first start prints a one-time setup link)')
    .option('--db <path>', 'store file (default $IOTSCOPE_DB or the user data directory)')
    .option('--port <n>', 'TCP port (0 picks a free one)', '8080')
    .option('--host <address>', 'listen address', '127.0.0.1')
    .option('--secure-cookies', 'mark cookies Secure and send HSTS: use when a TLS proxy fronts the dashboard')
    .action(async (o: ServeOptions) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError('--port must be 0–65535');
      const store = await openStore(o.db);
      let server;
      try {
        server = await startServer({ store, host: o.host, port, secureCookies: !!o.secureCookies });
      } catch (e) {
        await store.close();
        throw new CliError(`cannot listen on ${o.host}:${port}: ${(e as Error).message}`);
      }
      process.stdout.write(`iotscope dashboard on ${server.url} (store ${store.location})\n`);
      if (server.setupUrl) {
        process.stdout.write(`No account exists yet. Create the administrator with this one-time link (valid 60 minutes):\n  ${server.setupUrl}\n`);
      }
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      await store.close();
    });
}
