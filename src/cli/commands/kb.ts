// Stage: CLI front-end for the knowledge stage: `kb update` (online, or --from local files), `kb status`, `vulns`
// (matches the inventory again, then lists findings by device, CVE, vendor, KEV first; or a look-up by CPE for a
// product not in the inventory).
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { SqliteKnowledgeBase } from '../../knowledge/kb.ts';
import { importFrom } from '../../knowledge/import.ts';
import { updateEpss, updateKev, updateNvd, DownloadError } from '../../knowledge/download.ts';
import { assessVulnerabilities } from '../../knowledge/assess.ts';
import { VulnIndex, type VulnMatch } from '../../knowledge/match.ts';
import { KB_SOURCES, type KbSource } from '../../knowledge/records.ts';
import { tryParseCpe } from '../../knowledge/cpe.ts';
import type { Finding } from '../../core/finding.ts';
import type { SqliteStore } from '../../store/sqlite/store.ts';
import type { Store } from '../../store/store.ts';
import { CliError } from '../errors.ts';
import { openStore } from '../store.ts';
import { renderTable } from '../table.ts';

function parseSources(s: string | undefined): KbSource[] {
  if (!s) return KB_SOURCES;
  const list = s.split(',').map((x) => x.trim()).filter(Boolean);
  for (const x of list) if (!KB_SOURCES.includes(x as KbSource)) throw new CliError(`--source: "${x}" is not one of ${KB_SOURCES.join(', ')}`);
  return list as KbSource[];
}

/** A progress bar on a terminal, plain lines otherwise. */
function progress(label: string): { update: (done: number, total: number, note?: string) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {value}/{total} {note}`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
    let started = false;
    return {
      update(done, total, note = '') {
        if (!started) {
          bar.start(total, done, { note });
          started = true;
        }
        bar.setTotal(total);
        bar.update(done, { note });
      },
      stop: () => started && bar.stop(),
    };
  }
  let last = 0;
  return {
    update(done, total, note = '') {
      const now = Date.now();
      if (done === total || now - last > 2000) {
        last = now;
        process.stderr.write(`${label}: ${done}/${total} ${note}\n`);
      }
    },
    stop: () => undefined,
  };
}

export function knowledgeBaseOf(store: SqliteStore): SqliteKnowledgeBase {
  return new SqliteKnowledgeBase(store.handle);
}

interface UpdateOptions {
  db?: string;
  from?: string;
  apiKey?: string;
  source?: string;
  force?: boolean;
  nvdUrl?: string;
  kevUrl?: string;
  epssUrl?: string;
  json?: boolean;
}

async function runUpdate(o: UpdateOptions): Promise<void> {
  const sources = parseSources(o.source);
  const store = await openStore(o.db);
  try {
    const kb = knowledgeBaseOf(store);
    if (o.from) {
      if (!existsSync(o.from)) throw new CliError(`no such file or folder: ${o.from}`);
      const bar = progress('import');
      const r = importFrom(kb, o.from, { sources, force: !!o.force, onFile: (done, total, f) => bar.update(done, total, f.status === 'failed' ? 'failed' : (f.format ?? '')) });
      bar.stop();
      for (const f of r.files) if (f.status === 'failed') process.stderr.write(`iotscope: ${f.error}\n`);
      const unchanged = r.files.filter((f) => f.status === 'skipped-unchanged').length;
      if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else
        process.stdout.write(
          `${r.files.filter((f) => f.status === 'imported').length} file(s) imported (${Object.entries(r.bySource).filter(([, n]) => n).map(([s, n]) => `${s} ${n}`).join(', ') || 'no records'}), ${r.written} record(s) new or newer; ${unchanged} unchanged file(s) skipped; ${r.failed} failed\n`,
        );
      if (r.failed) process.exitCode = 1;
    } else {
      const apiKey = o.apiKey ?? process.env.NVD_API_KEY;
      const urls = { ...(o.nvdUrl ? { nvd: o.nvdUrl } : {}), ...(o.kevUrl ? { kev: o.kevUrl } : {}), ...(o.epssUrl ? { epss: o.epssUrl } : {}) };
      const ctl = new AbortController();
      const onSig = () => ctl.abort();
      process.once('SIGINT', onSig);
      try {
        for (const s of sources) {
          if (s === 'cve5') {
            process.stderr.write('cve5: CVE JSON 5 records are imported from a local cvelistV5 or vulnrichment checkout: kb update --from PATH\n');
            continue;
          }
          const bar = progress(s);
          const opts = { urls, ...(apiKey ? { apiKey } : {}), signal: ctl.signal, onProgress: (_: string, d: number, t: number) => bar.update(d, t), log: (l: string) => process.stderr.write(`${s}: ${l}\n`) };
          try {
            const n = s === 'nvd' ? await updateNvd(kb, opts) : s === 'kev' ? await updateKev(kb, opts) : await updateEpss(kb, opts);
            bar.stop();
            process.stdout.write(`${s}: ${n} record(s) received\n`);
          } catch (e) {
            bar.stop();
            if (e instanceof DownloadError) throw new CliError(`${s}: ${e.message} (what was stored so far is kept; run kb update again to resume)`);
            throw e;
          }
        }
      } finally {
        process.removeListener('SIGINT', onSig);
      }
    }
    const a = await assessVulnerabilities(store, kb);
    process.stderr.write(`assessed ${a.devices} device(s): ${a.findings} CVE finding(s), ${a.opened} new, ${a.fixed} no longer matched\n`);
  } finally {
    await store.close();
  }
}

function kevFirst(a: Finding, b: Finding): number {
  const ka = a.details?.kev ? 1 : 0;
  const kb = b.details?.kev ? 1 : 0;
  if (ka !== kb) return kb - ka;
  const sa = (a.details?.cvss as { score?: number } | undefined)?.score ?? 0;
  const sb = (b.details?.cvss as { score?: number } | undefined)?.score ?? 0;
  if (sa !== sb) return sb - sa;
  return a.ip.localeCompare(b.ip) || a.id.localeCompare(b.id);
}

function matchRow(m: VulnMatch): unknown[] {
  return [m.cve, m.answer, m.confidence, m.cvss ? `${m.cvss.score} (${m.cvss.version})` : '', m.kev ? `KEV ${m.kev.dateAdded}${m.kev.knownRansomwareCampaignUse === 'Known' ? ' ransomware' : ''}` : '', m.epss ? m.epss.score.toFixed(3) : '', m.fixedVersion ?? '', m.reasons.join('; ')];
}

async function vendorIps(store: Store, vendor: string): Promise<Set<string>> {
  return new Set((await store.devices({ vendor, noise: 'include' })).map((d) => d.ip));
}

export function registerKnowledgeCommands(program: Command): void {
  const kbCmd = program.command('kb').description('the vulnerability knowledge base: NVD CVEs, CVE JSON 5, CISA KEV, EPSS');
  kbCmd
    .command('update')
    .description('download NVD (incremental), KEV and EPSS, or import local files with --from; then re-assess devices')
    .option('--db <path>', 'store file (default $IOTSCOPE_DB or the user data directory)')
    .option('--from <path>', 'import files or folders instead of downloading (NVD 2.0/1.1 JSON, CVE JSON 5, KEV JSON/CSV, EPSS CSV; .gz too)')
    .option('--api-key <key>', 'NVD API key (default $NVD_API_KEY): 50 instead of 5 requests per 30 s')
    .option('--source <list>', `sources to update, comma-separated: ${KB_SOURCES.join(',')}`)
    .option('--force', 'with --from: re-import files already imported unchanged')
    .option('--nvd-url <url>', 'NVD CVE API 2.0 endpoint (default $IOTSCOPE_NVD_URL or NIST)')
    .option('--kev-url <url>', 'KEV catalog JSON (default $IOTSCOPE_KEV_URL or CISA)')
    .option('--epss-url <url>', 'EPSS daily CSV .gz (default $IOTSCOPE_EPSS_URL or FIRST)')
    .option('--json', 'with --from: print the per-file report as JSON')
    .action(runUpdate);

  kbCmd
    .command('status')
    .description('what the knowledge base holds and when each source was last updated')
    .option('--db <path>', 'store file')
    .option('--json', 'JSON output')
    .action(async (o: { db?: string; json?: boolean }) => {
      const store = await openStore(o.db);
      try {
        const kb = knowledgeBaseOf(store);
        const counts = kb.counts();
        const sources = KB_SOURCES.map((s) => kb.sourceState(s));
        if (o.json) process.stdout.write(`${JSON.stringify({ counts, sources }, null, 2)}\n`);
        else
          process.stdout.write(
            `${renderTable(['source', 'records', 'last update', 'in progress'], sources.map((s) => [s.source, counts[s.source], s.lastSuccess ?? 'never', Object.keys(s.state).length ? JSON.stringify(s.state) : '']))}\n`,
          );
      } finally {
        await store.close();
      }
    });

  program
    .command('vulns')
    .description('known vulnerabilities of the inventory (KEV first), or of a product given by its CPEs')
    .option('--db <path>', 'store file')
    .option('--cpe <cpe...>', 'answer for a product not in the inventory: its CPE 2.3 names (e.g. firmware and hardware)')
    .option('--cve <id>', 'only this CVE')
    .option('--vendor <name>', 'only devices of this vendor')
    .option('--ip <address>', 'only this device')
    .option('--no-refresh', 'list the stored findings without matching again')
    .option('--json', 'JSON output')
    .action(async (o: { db?: string; cpe?: string[]; cve?: string; vendor?: string; ip?: string; refresh: boolean; json?: boolean }) => {
      const store = await openStore(o.db);
      try {
        const kb = knowledgeBaseOf(store);
        if (o.cpe) {
          for (const c of o.cpe) if (!tryParseCpe(c)) throw new CliError(`--cpe: not a CPE 2.3 formatted string: ${c}`);
          const ix = VulnIndex.fromKnowledgeBase(kb);
          let ms = ix.match(ix.profileOfCpes(o.cpe));
          if (o.cve) ms = ms.filter((m) => m.cve === o.cve);
          ms.sort((a, b) => Number(!!b.kev) - Number(!!a.kev) || (a.answer === b.answer ? 0 : a.answer === 'definite' ? -1 : 1) || (b.cvss?.score ?? 0) - (a.cvss?.score ?? 0));
          if (o.json) process.stdout.write(`${JSON.stringify(ms, null, 2)}\n`);
          else process.stdout.write(`${renderTable(['cve', 'answer', 'confidence', 'cvss', 'kev', 'epss', 'fixed in', 'why'], ms.map(matchRow), 90)}\n${ms.length} CVE(s)\n`);
          return;
        }
        if (o.refresh) await assessVulnerabilities(store, kb);
        let rows = await store.findings({ kind: 'vulnerability', state: 'open', ...(o.cve ? { id: o.cve } : {}), ...(o.ip ? { ip: o.ip } : {}) });
        if (o.vendor) {
          const ips = await vendorIps(store, o.vendor);
          rows = rows.filter((f) => ips.has(f.ip));
        }
        rows.sort(kevFirst);
        if (o.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        const table = rows.map((f) => {
          const d = f.details ?? {};
          const cvss = d.cvss as { score: number; version: string } | undefined;
          const kev = d.kev as { dateAdded: string; knownRansomwareCampaignUse: string } | null;
          const epss = d.epss as { score: number } | null;
          return [f.ip, f.id, f.severity, d.answer, d.confidence, cvss ? `${cvss.score} (${cvss.version})` : '', kev ? `KEV ${kev.dateAdded}${kev.knownRansomwareCampaignUse === 'Known' ? ' ransomware' : ''}` : '', epss ? epss.score.toFixed(3) : '', d.fixedVersion ?? '', f.title];
        });
        process.stdout.write(`${renderTable(['address', 'cve', 'severity', 'answer', 'confidence', 'cvss', 'kev', 'epss', 'fixed in', 'title'], table, 60)}\n${rows.length} finding(s) on ${new Set(rows.map((r) => r.ip)).size} device(s)\n`);
      } finally {
        await store.close();
      }
    });
}

/** Counts for `iotscope stats`: devices with open CVE findings, distinct CVEs, and those in KEV. */
export async function vulnerabilityStats(store: Store): Promise<{ vulnerableDevices: number; cves: number; kevCves: number; kevDevices: number; definite: number; possible: number }> {
  const rows = await store.findings({ kind: 'vulnerability', state: 'open' });
  const kevRows = rows.filter((f) => f.details?.kev);
  return {
    vulnerableDevices: new Set(rows.map((f) => f.ip)).size,
    cves: new Set(rows.map((f) => f.id)).size,
    kevCves: new Set(kevRows.map((f) => f.id)).size,
    kevDevices: new Set(kevRows.map((f) => f.ip)).size,
    definite: rows.filter((f) => f.details?.answer === 'definite').length,
    possible: rows.filter((f) => f.details?.answer === 'possible').length,
  };
}
