// Stage: lab. The SSH responder: ssh2's Server with host keys made at start and the device's identification line
// (dropbear, OpenSSH, …). Password logins succeed only for a pair the profile lists, and then open a fake shell.
import net from 'node:net';
import ssh2 from 'ssh2';
import type { ServiceOf } from '../profile.ts';
import { IDLE_MS, type RunningService, type ServiceContext, crlf, listenTcp } from './common.ts';

const { Server, utils } = ssh2;

function generateOnce(type: 'rsa' | 'ecdsa' | 'ed25519'): Promise<string> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, keys: { private: string }) => (err ? reject(err) : resolve(keys.private));
    if (type === 'rsa') utils.generateKeyPair('rsa', { bits: 2048 }, done);
    else if (type === 'ecdsa') utils.generateKeyPair('ecdsa', { bits: 256 }, done);
    else utils.generateKeyPair('ed25519', done);
  });
}

/** A host key ssh2 can load. Its own generator now and then (about 1 in 400 ed25519 keys here) writes an OpenSSH
 *  key its parser then rejects, so each key is parsed before use and made again when it does not load. */
async function generateHostKey(type: 'rsa' | 'ecdsa' | 'ed25519'): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const key = await generateOnce(type);
    const parsed = utils.parseKey(key);
    if (!(parsed instanceof Error)) return key;
    if (attempt >= 5) throw parsed;
  }
}

export async function startSsh(spec: ServiceOf<'ssh'>, ctx: ServiceContext): Promise<RunningService> {
  const hostKeys = await Promise.all(spec.hostKeys.map(generateHostKey));
  const server = new Server({ hostKeys, ident: spec.ident.slice('SSH-2.0-'.length), ...(spec.banner ? { banner: spec.banner } : {}) }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (auth) => {
      if (auth.method === 'password' && spec.credentials.some((c) => c.user === auth.username && c.password === auth.password)) auth.accept();
      else auth.reject(['publickey', 'password']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('pty', (accept) => accept?.());
        session.on('env', (accept) => accept?.());
        session.on('exec', (accept, _reject, info) => {
          const channel = accept();
          const cmd = info.command.trim();
          const out = spec.commands[cmd];
          if (out !== undefined) channel.write(out.endsWith('\n') ? out : `${out}\n`);
          else channel.stderr.write(`sh: ${cmd.split(/\s+/)[0]}: not found\n`);
          channel.exit(out !== undefined ? 0 : 127);
          channel.end();
        });
        session.on('shell', (accept) => {
          const channel = accept();
          let line = '';
          channel.write(crlf(spec.motd) + spec.shellPrompt);
          channel.on('data', (d: Buffer) => {
            for (const ch of d.toString('latin1')) {
              if (ch === '\r' || ch === '\n') {
                const cmd = line.trim();
                line = '';
                channel.write('\r\n');
                if (cmd === 'exit' || cmd === 'logout') {
                  channel.exit(0);
                  channel.end();
                  return;
                }
                const out = cmd === '' ? '' : (spec.commands[cmd] ?? `-sh: ${cmd.split(/\s+/)[0]}: not found`);
                channel.write(out ? `${crlf(out.replace(/\n$/, ''))}\r\n${spec.shellPrompt}` : spec.shellPrompt);
              } else if (line.length < 1024) {
                line += ch;
                channel.write(ch);
              }
            }
          });
        });
      });
    });
  });
  // our own listener hands each socket to ssh2, so the lab can time out idle sessions and close them all
  const listener = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    server.injectSocket(socket);
  });
  return listenTcp(listener, ctx);
}
