// Stage: lab. The FTP responder: the device's 220 greeting (multi-line when the profile's has several lines), FEAT,
// SYST, USER/PASS checked against the listed default pairs (or anonymous), NOOP and QUIT. No data connections:
// what a scanner and a credential audit need is the control channel.
import net from 'node:net';
import type { ServiceOf } from '../profile.ts';
import { IDLE_MS, type RunningService, type ServiceContext, listenTcp } from './common.ts';
import { onLines } from './lines.ts';

/** An FTP reply; several lines become the RFC 959 "code-" … "code " form. */
export function ftpReply(code: number, text: string): string {
  const lines = text.split('\n');
  if (lines.length === 1) return `${code} ${text}\r\n`;
  return lines.map((l, i) => (i === lines.length - 1 ? `${code} ${l}` : i === 0 ? `${code}-${l}` : ` ${l}`)).join('\r\n') + '\r\n';
}

export async function startFtp(spec: ServiceOf<'ftp'>, ctx: ServiceContext): Promise<RunningService> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.setTimeout(IDLE_MS, () => {
      socket.end('421 Timeout.\r\n');
    });
    let user: string | null = null;
    let loggedIn = false;
    let failures = 0;
    const reply = (code: number, text: string) => {
      if (!socket.destroyed) socket.write(ftpReply(code, text));
    };
    reply(220, spec.greeting.replace(/\n$/, ''));
    onLines(socket, (line) => {
      const sp = line.indexOf(' ');
      const cmd = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
      const arg = sp < 0 ? '' : line.slice(sp + 1);
      switch (cmd) {
        case 'USER':
          user = arg;
          loggedIn = false;
          // the same answer for every name, so user names cannot be probed
          return reply(331, 'Please specify the password.');
        case 'PASS': {
          if (user === null) return reply(503, 'Login with USER first.');
          const anon = spec.anonymous && (user === 'anonymous' || user === 'ftp');
          if (anon || spec.credentials.some((c) => c.user === user && c.password === arg)) {
            loggedIn = true;
            return reply(230, 'Login successful.');
          }
          user = null;
          reply(530, 'Login incorrect.');
          if (++failures >= 3) socket.end();
          return;
        }
        case 'FEAT':
          return spec.features.length ? reply(211, ['Features:', ...spec.features.map((f) => f), 'End'].join('\n')) : reply(211, 'No features');
        case 'SYST':
          return reply(215, spec.syst);
        case 'NOOP':
          return reply(200, 'NOOP ok.');
        case 'QUIT':
          reply(221, 'Goodbye.');
          socket.end();
          return;
        case 'AUTH':
          return reply(502, 'Command not implemented.');
        case 'PWD':
        case 'XPWD':
          return loggedIn ? reply(257, '"/" is the current directory') : reply(530, 'Please login with USER and PASS.');
        case 'TYPE':
          return loggedIn ? reply(200, 'Switching to Binary mode.') : reply(530, 'Please login with USER and PASS.');
        default:
          return loggedIn ? reply(502, 'Command not implemented.') : reply(530, 'Please login with USER and PASS.');
      }
    });
  });
  return listenTcp(server, ctx);
}
