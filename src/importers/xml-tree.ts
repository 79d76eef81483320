// Stage: imports (foreign files → observations). Builds small JSON trees from streamed XML for the parts of a
// record an importer keeps whole (Nmap script output, elements it does not model): bounded in size, so a hostile
// file cannot make one record grow without limit.
import type { XmlAttrs } from './xml.ts';

export interface XmlNode {
  name: string;
  attrs: XmlAttrs;
  children: XmlNode[];
  text: string;
}

const MAX_NODES = 4096;
const MAX_TEXT = 65536;

/** Collects the subtree of one element while the tokenizer streams through it. */
export class TreeCapture {
  private readonly stack: XmlNode[] = [];
  private nodes = 0;
  root: XmlNode | null = null;

  get active(): boolean {
    return this.stack.length > 0;
  }

  open(name: string, attrs: XmlAttrs): void {
    const node: XmlNode = { name, attrs, children: [], text: '' };
    if (this.stack.length === 0) {
      this.root = node;
      this.nodes = 1;
    } else if (this.nodes < MAX_NODES) {
      this.stack[this.stack.length - 1]!.children.push(node);
      this.nodes++;
    }
    this.stack.push(node);
  }

  /** Returns the finished root when the captured element closes. */
  close(): XmlNode | null {
    this.stack.pop();
    return this.stack.length === 0 ? this.root : null;
  }

  text(t: string): void {
    const top = this.stack[this.stack.length - 1];
    if (top && top.text.length < MAX_TEXT) top.text += t.length + top.text.length > MAX_TEXT ? t.slice(0, MAX_TEXT - top.text.length) : t;
  }
}

/** An element as JSON: its attributes, plus its children grouped by name (arrays), plus non-blank text as `_text`. */
export function nodeToJson(node: XmlNode): Record<string, unknown> {
  const out: Record<string, unknown> = { ...node.attrs };
  for (const c of node.children) {
    const list = (out[c.name] ??= []) as unknown[];
    if (Array.isArray(list)) list.push(nodeToJson(c));
  }
  const t = node.text.trim();
  if (t) out._text = t;
  return out;
}

/**
 * Nmap NSE structured output (<elem key>, <table key>) as JSON: a table whose children all carry keys becomes an
 * object, otherwise an array; an elem becomes its text.
 */
export function nseToJson(node: XmlNode): unknown {
  if (node.name === 'elem') return node.text;
  const kids = node.children.filter((c) => c.name === 'elem' || c.name === 'table');
  if (!kids.length) return node.name === 'table' ? {} : undefined;
  if (kids.every((c) => c.attrs.key !== undefined)) {
    const o: Record<string, unknown> = {};
    for (const c of kids) {
      const k = c.attrs.key!;
      // repeated keys exist in the wild: keep all values
      if (k in o) o[k] = ([] as unknown[]).concat(o[k], [nseToJson(c)]);
      else o[k] = nseToJson(c);
    }
    return o;
  }
  return kids.map((c) => (c.attrs.key !== undefined ? { [c.attrs.key]: nseToJson(c) } : nseToJson(c)));
}
