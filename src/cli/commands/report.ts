// Stage: CLI front-end for the summary report: `iotscope report` writes the constituency report as one
// self-contained HTML file and, with --pdf, as PDF through Chromium.
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { parseRange } from '../../core/ipnum.ts';
import { collectReport, renderReportHtml, renderReportPdf } from '../../report/report.tsx';
import type { Scope } from '../../web/queries.ts';
import { CliError } from '../errors.ts';
import { openStore } from '../store.ts';

interface ReportOptions {
  db?: string;
  from?: string;
  to?: string;
  network?: string;
  out: string;
  pdf?: string;
  chromium?: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/;

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('the constituency summary report, by the six questions: status, real cases, solutions, challenges, policies, roles')
    .option('--db <path>', 'store file (default $IOTSCOPE_DB or the user data directory)')
    .option('--from <date>', 'only what was seen on or after this date (YYYY-MM-DD)')
    .option('--to <date>', 'only what was seen on or before this date (YYYY-MM-DD)')
    .option('--network <cidr>', 'only addresses in this CIDR or range')
    .option('--out <file>', 'HTML output', 'report.html')
    .option('--pdf <file>', 'also write a PDF (needs Chromium)')
    .option('--chromium <path>', 'Chromium executable for the PDF (default /usr/bin/chromium or $IOTSCOPE_CHROMIUM)')
    .action(async (o: ReportOptions) => {
      const scope: Scope = {};
      for (const k of ['from', 'to'] as const) {
        const v = o[k];
        if (v === undefined) continue;
        if (!DATE.test(v) || Number.isNaN(Date.parse(v))) throw new CliError(`--${k} must be a date like 2026-11-01`);
        scope[k] = v;
      }
      if (o.network) {
        if (!parseRange(o.network)) throw new CliError(`--network "${o.network}" is not a CIDR or range`);
        scope.network = o.network;
      }
      const store = await openStore(o.db);
      try {
        const html = await renderReportHtml(await collectReport(store, scope));
        writeFileSync(o.out, html);
        process.stderr.write(`report written to ${o.out}\n`);
        if (o.pdf) {
          try {
            await renderReportPdf(html, o.pdf, o.chromium);
          } catch (e) {
            throw new CliError(`cannot write the PDF: ${(e as Error).message}`);
          }
          process.stderr.write(`PDF written to ${o.pdf}\n`);
        }
      } finally {
        await store.close();
      }
    });
}
