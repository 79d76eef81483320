// Stage: scan engine. The engine's own mechanics — identification by answer, scope, per-host cap, cancel and
// resume — exercised with small probes against in-process servers on loopback addresses.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseRange } from '../core/ipnum.ts';
import type { Observation } from '../core/observation.ts';
import { parseScopeYaml } from '../core/scope.ts';
import { TargetSet } from '../core/targets.ts';
import type { RunProgress } from '../store/store.ts';
import { runScan } from './engine.ts';
import { type Probe, ProbeError } from './probe.ts';

// A service that talks first, one that answers a request, one that accepts and says nothing.
const GREETER = 20001;
const PINGER = 20002;
const SILENT = 20003;
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
const accepted = new Map<string, number>();
// probe runs in flight per host, counted where the engine starts them
let maxConcurrentPerHost = 0;
const live = new Map<string, number>();
async function counted<T>(ip: string, f: () => Promise<T>): Promise<T> {
  live.set(ip, (live.get(ip) ?? 0) + 1);
  maxConcurrentPerHost = Math.max(maxConcurrentPerHost, live.get(ip)!);
  try {
    return await f();
  } finally {
    live.set(ip, live.get(ip)! - 1);
  }
}

function serve(ip: string, port: number, onConn: (s: net.Socket) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((s) => {
      accepted.set(`${ip}:${port}`, (accepted.get(`${ip}:${port}`) ?? 0) + 1);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
      onConn(s);
    });
    srv.once('error', reject);
    srv.listen(port, ip, () => resolve());
    servers.push(srv);
  });
}

const greeterProbe: Probe = {
  name: 'greeter',
  transport: 'tcp',
  defaultPorts: [],
  recognizes: (b) => b.toString('latin1').startsWith('HELLO'),
  scan: (ctx, t) =>
    counted(t.ip, async () => {
      const c = await ctx.connect();
      const b = await c.readUntil((x) => x.includes('\n'));
      return { status: 'success', data: { banner: b.toString('latin1').trim() } };
    }),
};
const pingProbe: Probe = {
  name: 'ping',
  transport: 'tcp',
  defaultPorts: [PINGER],
  scan: (ctx, t) =>
    counted(t.ip, async () => {
      const c = await ctx.connect();
      await c.write('PING\n');
      const b = await c.readUntil((x) => x.includes('\n'), 1000);
      if (!b.toString().startsWith('PONG')) return { status: 'protocol-error', data: {}, raw: b };
      return { status: 'success', data: { reply: 'PONG' } };
    }),
};
const failingProbe: Probe = {
  name: 'never',
  transport: 'tcp',
  defaultPorts: [],
  async scan() {
    throw new ProbeError('protocol-error', 'not mine');
  },
};
const PROBES = [greeterProbe, pingProbe, failingProbe];

const hosts = ['127.0.0.21', '127.0.0.22', '127.0.0.23'];
const scope = parseScopeYaml('allow: [127.0.0.21-127.0.0.22]\n', 'test', parseYaml);

before(async () => {
  for (const ip of hosts) {
    await serve(ip, GREETER, (s) => s.write('HELLO v1\r\n'));
    await serve(ip, PINGER, (s) => s.on('data', (d) => d.toString().startsWith('PING') && s.write('PONG\n')));
    await serve(ip, SILENT, () => {});
  }
  await serve('::1', GREETER, (s) => s.write('HELLO v6\r\n'));
});
after(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

function plan(runId: string, seed = 1) {
  return { runId, seed, targets: new TargetSet([parseRange('127.0.0.21-127.0.0.22')!]), ports: { tcp: [GREETER, PINGER, SILENT, 20009], udp: [] } };
}
const fast = { bannerWaitMs: 300, shortBannerWaitMs: 100, limits: { timeoutMs: 400, connectTimeoutMs: 500 } };

describe('scan engine', () => {
  it('identifies services by what they answer and records one observation per open service', async () => {
    const committed: Observation[] = [];
    let last: RunProgress | null = null;
    const out = await runScan(plan('r1'), {
      scope,
      probes: PROBES,
      rate: 0,
      concurrency: 16,
      perHost: 2,
      ...fast,
      commit: async (o, p) => {
        committed.push(...o);
        last = p;
      },
    });
    assert.equal(out.interrupted, false);
    assert.deepEqual(out.progress, { total: 8, watermark: 8, doneAbove: [], found: 6 });
    assert.deepEqual(last, out.progress);
    const by = (ip: string, port: number) => committed.find((o) => o.ip === ip && o.port === port);
    for (const ip of ['127.0.0.21', '127.0.0.22']) {
      assert.equal(by(ip, GREETER)?.protocol, 'greeter');
      assert.equal(by(ip, GREETER)?.data.banner, 'HELLO v1');
      assert.equal(by(ip, PINGER)?.protocol, 'ping');
      // the silent port is open but nothing recognised it
      assert.equal(by(ip, SILENT)?.protocol, 'unknown');
      assert.equal(by(ip, 20009), undefined, 'a closed port leaves no observation');
    }
    assert.ok(maxConcurrentPerHost <= 2, `per-host cap broken: ${maxConcurrentPerHost} at once`);
    assert.equal(accepted.get(`127.0.0.23:${GREETER}`), undefined, 'the out-of-scope host was never contacted');
  });

  it('stops cleanly on cancel and a resume finishes exactly the rest', async () => {
    const controller = new AbortController();
    const first: Observation[] = [];
    let saved: RunProgress | null = null;
    const p = plan('r2', 99);
    const before = await runScan(p, {
      scope,
      probes: PROBES,
      rate: 0,
      concurrency: 1,
      perHost: 1,
      ...fast,
      signal: controller.signal,
      onObservation: () => {
        if (first.length === 0) setImmediate(() => controller.abort());
      },
      commit: async (o, prog) => {
        first.push(...o);
        saved = prog;
      },
    });
    assert.equal(before.interrupted, true);
    const progress = saved as RunProgress | null;
    assert.ok(progress, 'progress was committed on cancel');
    const done = progress.watermark + progress.doneAbove.length;
    assert.ok(done >= 1 && done < 8, `done ${done}`);
    assert.equal(first.length, progress.found);

    const second: Observation[] = [];
    const after = await runScan(p, { scope, probes: PROBES, rate: 0, concurrency: 4, perHost: 2, ...fast, resume: progress, commit: async (o) => void second.push(...o) });
    assert.equal(after.interrupted, false);
    assert.equal(after.progress.watermark, 8);
    const keys = [...first, ...second].map((o) => `${o.ip}:${o.port}`).sort();
    assert.equal(keys.length, 6, 'every open service exactly once across both sessions');
    assert.equal(new Set(keys).size, 6);
  });

  it('scans IPv6 targets the same way', async () => {
    const v6scope = parseScopeYaml('allow: ["::1"]\n', 'test', parseYaml);
    const found: Observation[] = [];
    const out = await runScan(
      { runId: 'r6', seed: 3, targets: new TargetSet([parseRange('::1')!]), ports: { tcp: [GREETER, 20009], udp: [] } },
      { scope: v6scope, probes: PROBES, rate: 0, concurrency: 2, perHost: 2, ...fast, commit: async (o) => void found.push(...o) },
    );
    assert.equal(out.progress.watermark, 2);
    assert.deepEqual(found.map((o) => [o.ip, o.port, o.protocol, o.data.banner]), [['::1', GREETER, 'greeter', 'HELLO v6']]);
  });

  it('honours the global rate limit', async () => {
    const t0 = performance.now();
    await runScan({ ...plan('r3'), ports: { tcp: [20011, 20012, 20013, 20014, 20015, 20016], udp: [] } }, { scope, probes: PROBES, rate: 20, concurrency: 12, perHost: 6, ...fast, commit: async () => {} });
    // 12 connection attempts evenly spaced at 20/s span at least 11 × 50 ms (a lower bound: a slow machine only adds)
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 540, `12 dials at 20/s took only ${elapsed.toFixed(0)} ms`);
  });
});
