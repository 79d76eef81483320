// Stage: lab. A plain TCP service: an optional greeting, then a fixed reply to any request holding a given text
// (an HP JetDirect port 9100 answering a PJL INFO ID, for instance).
import net from 'node:net';
import type { ServiceOf } from '../profile.ts';
import { IDLE_MS, MAX_REQUEST_BYTES, type RunningService, type ServiceContext, listenTcp } from './common.ts';

export async function startBanner(spec: ServiceOf<'banner'>, ctx: ServiceContext): Promise<RunningService> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    if (spec.greeting) socket.write(Buffer.from(spec.greeting, 'latin1'));
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (const r of spec.replies) {
        const at = pending.indexOf(r.contains);
        if (at >= 0) {
          socket.write(Buffer.from(r.reply, 'latin1'));
          pending = pending.slice(at + r.contains.length);
        }
      }
      if (pending.length > MAX_REQUEST_BYTES) pending = pending.slice(-1024);
    });
  });
  return listenTcp(server, ctx);
}
