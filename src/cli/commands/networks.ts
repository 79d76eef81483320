// Stage: CLI front-end for network attribution: `iotscope networks import-asn FILE...` loads a prefix→ASN table
// (iptoasn.com TSV or CAIDA pfx2as, plain or gzip) into the store, which the dashboard's per-ASN networks use.
import { Command, Option } from 'commander';
import { asnRangeCount, importAsnTables, type AsnTableFormat } from '../../store/sqlite/asn.ts';
import { openStore } from '../store.ts';

interface ImportAsnOptions {
  format: AsnTableFormat | 'auto';
  replace?: boolean;
  db?: string;
}

export function registerNetworkCommands(program: Command): void {
  const networks = program.command('networks').description('network attribution: which autonomous system an address belongs to');
  networks
    .command('import-asn')
    .description('load a prefix→ASN table: iptoasn.com TSV (range_start range_end AS_number country AS_description) or CAIDA pfx2as (prefix length asn), plain or gzip')
    .argument('<files...>', 'table files')
    .addOption(new Option('--format <format>', 'table format').choices(['auto', 'iptoasn', 'pfx2as']).default('auto'))
    .option('--replace', 'clear the loaded table first (otherwise ranges are added; a range already present is overwritten)')
    .option('--db <path>', 'store file (default: $IOTSCOPE_DB or the user data directory)')
    .action(async (files: string[], o: ImportAsnOptions) => {
      const store = await openStore(o.db);
      try {
        const results = await importAsnTables(store.handle, files, { ...(o.format === 'auto' ? {} : { format: o.format }), replace: !!o.replace });
        for (const r of results) process.stdout.write(`${r.path}: ${r.ranges} ranges (${r.format})${r.skipped ? `, ${r.skipped} unrouted skipped` : ''}\n`);
        process.stdout.write(`${asnRangeCount(store.handle)} ranges in the table\n`);
      } finally {
        await store.close();
      }
    });
}
