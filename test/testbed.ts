// Test support: the real-daemon testbed in ../shared/testbed (network namespaces on this machine). Tests that need
// it call requireTestbed(t): without root or without ../shared it skips with the reason, except under CI, where
// a skip would hide a broken run and so fails instead.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

const here = dirname(fileURLToPath(import.meta.url));
export const SHARED = resolve(process.env.IOTSCOPE_SHARED ?? join(here, '..', '..', 'shared'));
export const TESTBED = join(SHARED, 'testbed');
export const FIXTURES = join(SHARED, 'fixtures');
/** Debian's Chromium, driven by playwright-core in the browser and PDF tests. */
export const CHROMIUM = process.env.IOTSCOPE_CHROMIUM ?? '/usr/bin/chromium';

export interface TestbedTarget {
  host: string;
  ip: string;
  proto: 'tcp' | 'udp';
  port: number;
  service: string;
  software: string;
  auth: string;
}

function unavailable(what: string): string | null {
  if (what === 'testbed' || what === 'root') {
    if (process.getuid?.() !== 0) return 'needs root (network namespaces, ports below 1024)';
  }
  if (what === 'testbed' && !existsSync(join(TESTBED, 'start.sh'))) return `needs ../shared/testbed (looked in ${TESTBED})`;
  if (what === 'fixtures' && !existsSync(FIXTURES)) return `needs ../shared/fixtures (looked in ${FIXTURES})`;
  if (what === 'chromium' && !existsSync(CHROMIUM)) return `needs Debian's chromium at ${CHROMIUM} (apt-get install chromium)`;
  return null;
}

/** Skip (locally) or fail (under CI) when the requirement is missing. Returns true when the test may go on. */
export function require_(t: TestContext, what: 'testbed' | 'root' | 'fixtures' | 'chromium'): boolean {
  const why = unavailable(what);
  if (!why) return true;
  if (process.env.CI) throw new Error(`${t.name}: ${why}; CI must run this test, not skip it`);
  t.skip(why);
  return false;
}

let started = false;
const LAB_CHECK = [
  "ip netns list | grep -q iotlab-cam",
  "ip netns list | grep -q iotlab-router",
  "ip netns list | grep -q iotlab-broker",
  "timeout 3 bash -c 'exec 3<>/dev/tcp/10.213.0.30/1883'",
  "timeout 3 bash -c 'exec 3<>/dev/tcp/10.213.0.10/23'",
  "timeout 3 bash -c 'exec 3<>/dev/tcp/10.213.0.20/22'",
].join(' && ');

/**
 * Start the testbed unless it is already up, and return its targets. Test files run in parallel: the check and the
 * start happen under one lock, so a second file never tears down (start.sh rebuilds from scratch) a lab the first
 * one just started.
 */
export function ensureTestbed(): TestbedTarget[] {
  if (!started) {
    const script = `${LAB_CHECK} || ${JSON.stringify(join(TESTBED, 'start.sh'))} >/dev/null`;
    const r = spawnSync('flock', ['-w', '900', '/run/iotscope-testbed.lock', 'bash', '-c', script], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 900_000 });
    if (r.status !== 0) throw new Error(`the testbed did not come up (start.sh exit ${r.status}); see its log lines above`);
  }
  started = true;
  return readTargets();
}

export function readTargets(): TestbedTarget[] {
  return readFileSync(join(TESTBED, 'targets.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const [host, ip, proto, port, service, software, auth] = l.split('\t');
      return { host: host!, ip: ip!, proto: proto as 'tcp' | 'udp', port: Number(port), service: service!, software: software!, auth: auth ?? '' };
    });
}

/** A scope that allows exactly the lab network (and loopback, for in-process fixtures). */
export const LAB_SCOPE_YAML = 'allow: [10.213.0.0/24, 127.0.0.0/8]\noperator: iotscope test suite\n';
