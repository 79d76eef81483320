// Stage: probes (dns, mdns). Several DNS queries in flight on one UDP channel: each answer is matched to its query
// by the message id, unanswered queries are resent a bounded number of times, and anything else that arrives is
// kept (the first of it) as evidence of a service that is not DNS.
import { randomInt } from 'node:crypto';
import type { UdpChannel } from '../../scan/udp.ts';
import { type DnsHeader, type DnsMessage, decodeHeader, decodeMessage } from './codec.ts';

export interface DnsAnswer {
  header: DnsHeader;
  /** absent when the answer carried our id but did not decode past the header */
  message?: DnsMessage;
  error?: string;
  bytes: Buffer;
}

export interface ExchangeResult {
  answers: Map<number, DnsAnswer>;
  /** the first datagram that was not an answer to one of our queries */
  foreign: Buffer | null;
}

export interface ExchangeOptions {
  /** how many times an unanswered query is sent in all */
  tries: number;
  /** how long to wait for answers after each round of sending, ms */
  perTryMs: number;
}

/** Query ids: unpredictable (an off-path sender cannot guess them), distinct, never 0 (mDNS responders use 0 for
 *  their own multicast announcements). */
export function freshIds(n: number): number[] {
  if (n > 0xfffe) throw new RangeError('more queries than DNS ids');
  const ids = new Set<number>();
  while (ids.size < n) ids.add(randomInt(1, 0x10000));
  return [...ids];
}

export async function exchange(ch: UdpChannel, queries: ReadonlyMap<number, Buffer>, opts: ExchangeOptions): Promise<ExchangeResult> {
  const answers = new Map<number, DnsAnswer>();
  let foreign: Buffer | null = null;
  for (let round = 0; round < opts.tries && answers.size < queries.size; round++) {
    for (const [id, bytes] of queries) if (!answers.has(id)) await ch.send(bytes);
    const deadline = Date.now() + opts.perTryMs;
    while (answers.size < queries.size) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const m = await ch.receive(left);
      if (!m) break;
      const header = decodeHeader(m);
      if (header && header.qr && queries.has(header.id) && !answers.has(header.id)) {
        const d = decodeMessage(m);
        answers.set(header.id, d.ok ? { header, message: d.message, bytes: m } : { header, error: d.error, bytes: m });
      } else if (!header || !header.qr || !queries.has(header.id)) {
        foreign ??= m;
      }
    }
  }
  return { answers, foreign };
}
