// Stage: web front-end (static files). htmx and ECharts come from node_modules, app.js and style.css from
// src/web/assets; all are read once and served by the dashboard itself, so it needs no CDN and works offline.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const own = (name: string) => fileURLToPath(new URL(`./assets/${name}`, import.meta.url));

const FILES: Record<string, { path: () => string; type: string }> = {
  'htmx.min.js': { path: () => require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
  'echarts.min.js': { path: () => require.resolve('echarts/dist/echarts.min.js'), type: 'text/javascript; charset=utf-8' },
  'app.js': { path: () => own('app.js'), type: 'text/javascript; charset=utf-8' },
  'style.css': { path: () => own('style.css'), type: 'text/css; charset=utf-8' },
};

const loaded = new Map<string, Buffer>();

export function readAsset(name: string): { body: Uint8Array<ArrayBuffer>; type: string } | null {
  const f = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
  if (!f) return null;
  let body = loaded.get(name);
  if (!body) {
    body = readFileSync(f.path());
    loaded.set(name, body);
  }
  return { body: new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)) as Uint8Array<ArrayBuffer>, type: f.type };
}
