// Stage: lab. Splits a client's byte stream into lines for the line-based responders (FTP, the banner service),
// with a cap so a client that never sends a line end cannot make the lab hold unbounded memory.
import type net from 'node:net';
import { MAX_REQUEST_BYTES } from './common.ts';

export function onLines(socket: net.Socket, handle: (line: string) => void): void {
  let pending = '';
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0 && !socket.destroyed) {
      const line = pending.slice(0, nl).replace(/\r$/, '');
      pending = pending.slice(nl + 1);
      handle(line);
    }
    if (pending.length > MAX_REQUEST_BYTES) socket.destroy();
  });
}
