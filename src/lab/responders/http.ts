// Stage: lab. The HTTP and HTTPS responder: fixed routes from the profile (status, headers, body), Basic or Digest
// 401 challenges with the device's realm, the UPnP description documents the lab adds, and a self-signed
// certificate made at start for HTTPS.
import http from 'node:http';
import https from 'node:https';
import { makeSelfSignedCert } from '../cert.ts';
import type { HttpServiceSpec } from '../profile.ts';
import { type RunningService, type ServiceContext, authorized, challenge, listenTcp, makeNonce } from './common.ts';

export type HttpRoute = HttpServiceSpec['routes'][number];

export async function startHttp(spec: HttpServiceSpec, ctx: ServiceContext, extraRoutes: HttpRoute[] = []): Promise<RunningService> {
  const nonce = makeNonce();
  const routes = [...spec.routes, ...extraRoutes];
  const common = (): Record<string, string> => ({ ...(spec.server ? { Server: spec.server } : {}), ...spec.headers });

  const handler: http.RequestListener = (req, res) => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0]!;
    const wanted = method === 'HEAD' ? 'GET' : method;
    const samePath = routes.filter((r) => r.path === path);
    const route = samePath.find((r) => r.method === wanted);
    // the request body is never used; drain it so keep-alive works and nothing is kept
    req.resume();
    if (!route) {
      if (samePath.length) {
        res.writeHead(405, { ...common(), Allow: [...new Set(samePath.map((r) => r.method))].join(', '), 'Content-Length': '0' });
        res.end();
        return;
      }
      const body = Buffer.from(spec.notFound.body, 'utf8');
      res.writeHead(spec.notFound.status, { ...common(), 'Content-Type': 'text/html', ...spec.notFound.headers, 'Content-Length': String(body.length) });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    if (route.auth && !authorized(route.auth, req.headers.authorization, method, nonce)) {
      const body = Buffer.from('<html><head><title>401 Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>\n');
      res.writeHead(401, 'Unauthorized', {
        ...common(),
        'WWW-Authenticate': challenge(route.auth, nonce),
        'Content-Type': 'text/html',
        'Content-Length': String(body.length),
      });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    const body = route.bodyBase64 !== undefined ? Buffer.from(route.bodyBase64, 'base64') : Buffer.from(route.body ?? '', 'utf8');
    const headers: Record<string, string> = { ...common(), ...route.headers };
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type') && body.length) headers['Content-Type'] = 'text/html';
    headers['Content-Length'] = String(body.length);
    if (route.reason) res.writeHead(route.status, route.reason, headers);
    else res.writeHead(route.status, headers);
    res.end(method === 'HEAD' ? undefined : body);
  };

  let server: http.Server;
  if (spec.protocol === 'https') {
    const cert = await makeSelfSignedCert(spec.tls);
    server = https.createServer({ key: cert.keyPem, cert: cert.certPem, minVersion: 'TLSv1.2' }, handler);
  } else server = http.createServer(handler);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
  server.setTimeout(60_000, (s) => s.destroy());
  const running = await listenTcp(server, ctx);
  return {
    close: async () => {
      server.closeAllConnections();
      await running.close();
    },
  };
}
