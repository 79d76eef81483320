// Stage: lab. The Telnet responder: BusyBox-telnetd-like option negotiation, the device's banner and login prompt,
// "Login incorrect" for every pair the profile does not list, and a fake shell prompt for a listed default pair
// (what the credential audit is tested against).
import net from 'node:net';
import type { ServiceOf } from '../profile.ts';
import { IDLE_MS, type RunningService, type ServiceContext, crlf, listenTcp } from './common.ts';

const IAC = 255;
const SB = 250;
const SE = 240;
const WILL = 251;
const DO = 253;
/** BusyBox login waits before it says no; a shorter pause keeps the lab quick */
const FAIL_DELAY_MS = 300;
const MAX_LINE = 1024;

/** Strips Telnet commands from client bytes; the state survives across chunks. */
export class TelnetInput {
  private state: 'data' | 'iac' | 'opt' | 'sb' | 'sb-iac' = 'data';
  private sbLength = 0;

  feed(chunk: Uint8Array): number[] {
    const out: number[] = [];
    for (const b of chunk) {
      switch (this.state) {
        case 'data':
          if (b === IAC) this.state = 'iac';
          else out.push(b);
          break;
        case 'iac':
          if (b === IAC) {
            out.push(IAC);
            this.state = 'data';
          } else if (b >= WILL && b <= 254) this.state = 'opt';
          else if (b === SB) {
            this.state = 'sb';
            this.sbLength = 0;
          } else this.state = 'data';
          break;
        case 'opt':
          this.state = 'data';
          break;
        case 'sb':
          // subnegotiation contents (window size, terminal type) are not needed; a runaway one is ended
          if (b === IAC) this.state = 'sb-iac';
          else if (++this.sbLength > 512) this.state = 'data';
          break;
        case 'sb-iac':
          this.state = b === SE ? 'data' : 'sb';
          break;
      }
    }
    return out;
  }
}

export async function startTelnet(spec: ServiceOf<'telnet'>, ctx: ServiceContext): Promise<RunningService> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    const input = new TelnetInput();
    let stage: 'login' | 'password' | 'checking' | 'shell' = 'login';
    let line = '';
    let lastCr = false;
    let user = '';
    let attempts = 0;
    const write = (s: string) => {
      if (!socket.destroyed) socket.write(Buffer.from(s, 'latin1'));
    };

    const negotiation = [...spec.options.do.flatMap((o) => [IAC, DO, o]), ...spec.options.will.flatMap((o) => [IAC, WILL, o])];
    socket.write(Buffer.from(negotiation));
    write(crlf(spec.banner) + spec.loginPrompt);

    const onLine = (text: string) => {
      if (stage === 'login') {
        user = text.trim();
        if (!user) {
          write(spec.loginPrompt);
          return;
        }
        stage = 'password';
        write(spec.passwordPrompt);
      } else if (stage === 'password') {
        stage = 'checking';
        const ok = spec.credentials.some((c) => c.user === user && c.password === text);
        if (ok) {
          stage = 'shell';
          write(crlf(spec.motd) + spec.shellPrompt);
          return;
        }
        attempts++;
        setTimeout(() => {
          write(`\r\n${spec.loginFailed}\r\n`);
          if (attempts >= spec.maxAttempts) {
            socket.end();
            return;
          }
          stage = 'login';
          write(spec.loginPrompt);
        }, FAIL_DELAY_MS);
      } else if (stage === 'shell') {
        const cmd = text.trim();
        if (cmd === 'exit' || cmd === 'logout') {
          socket.end();
          return;
        }
        const output = cmd === '' ? '' : (spec.commands[cmd] ?? `-sh: ${cmd.split(/\s+/)[0]}: not found`);
        write(output ? `${crlf(output.replace(/\n$/, ''))}\r\n${spec.shellPrompt}` : spec.shellPrompt);
      }
    };

    socket.on('data', (chunk: Buffer) => {
      for (const b of input.feed(chunk)) {
        if (stage === 'checking') continue;
        if (b === 0x0d || b === 0x0a) {
          // CR LF, CR NUL and a bare LF all end a line
          if (b === 0x0a && lastCr) {
            lastCr = false;
            continue;
          }
          lastCr = b === 0x0d;
          if (stage !== 'password') write('\r\n');
          const text = line;
          line = '';
          onLine(text);
          continue;
        }
        if (b === 0 && lastCr) continue;
        lastCr = false;
        if (b === 0x7f || b === 0x08) {
          if (line.length) {
            line = line.slice(0, -1);
            if (stage !== 'password') write('\b \b');
          }
          continue;
        }
        if (b < 0x20) continue;
        if (line.length >= MAX_LINE) {
          socket.destroy();
          return;
        }
        line += String.fromCharCode(b);
        // the server said WILL ECHO: it echoes what is typed, except the password
        if (stage !== 'password') write(String.fromCharCode(b));
      }
    });
  });
  return listenTcp(server, ctx);
}
