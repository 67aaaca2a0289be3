/**
 * Responses of the application API (spec §4, A7). A method answers a small element tree; it is
 * rendered as XML (`<api status="ok">…</api>`) or as JSON the way ipernity's live JSON reads:
 * `{"api":{"status":"ok"}, …payload}`, attributes as keys, a text-only element as a string, repeated
 * elements as an array under the singular name, and every scalar a string.
 */
import type { ApiNode } from '@switchboard/contracts';

// The tree crosses from auth to the gateway (ApiResult); its message is written in libs/contracts.
export type { ApiNode } from '@switchboard/contracts';

export const el = (tag: string, attrs: ApiNode['attrs'] = {}, content?: ApiNode[] | string | number): ApiNode =>
  Array.isArray(content) ? { tag, attrs, children: content } : content === undefined ? { tag, attrs } : { tag, attrs, text: content };

const str = (v: string | number | boolean) => (typeof v === 'boolean' ? (v ? '1' : '0') : String(v));

function nodeToJson(node: ApiNode): unknown {
  const attrs = Object.fromEntries(Object.entries(node.attrs ?? {}).map(([k, v]) => [k, str(v)]));
  const hasAttrs = Object.keys(attrs).length > 0;
  if (node.children === undefined) {
    if (node.text === undefined) return hasAttrs ? attrs : '';
    return hasAttrs ? { ...attrs, _value: str(node.text) } : str(node.text);
  }
  const out: Record<string, unknown> = { ...attrs };
  const groups = new Map<string, ApiNode[]>();
  for (const child of node.children) groups.set(child.tag, [...(groups.get(child.tag) ?? []), child]);
  for (const [tag, nodes] of groups) {
    out[tag] = nodes.length > 1 || nodes[0].list ? nodes.map(nodeToJson) : nodeToJson(nodes[0]);
  }
  return out;
}

export function renderJson(payload: ApiNode[]): string {
  const body: Record<string, unknown> = { api: { status: 'ok' } };
  for (const node of payload) body[node.tag] = nodeToJson(node);
  return JSON.stringify(body);
}

const xmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

function nodeToXml(node: ApiNode): string {
  const attrs = Object.entries(node.attrs ?? {})
    .map(([k, v]) => ` ${k}="${xmlEscape(str(v))}"`)
    .join('');
  if (node.children === undefined && node.text === undefined) return `<${node.tag}${attrs}/>`;
  const inner = node.children ? node.children.map(nodeToXml).join('') : xmlEscape(str(node.text!));
  return `<${node.tag}${attrs}>${inner}</${node.tag}>`;
}

export function renderXml(payload: ApiNode[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<api status="ok">${payload.map(nodeToXml).join('')}</api>`;
}

export function renderError(format: 'json' | 'xml', code: number, message: string): string {
  if (format === 'xml') {
    return `<?xml version="1.0" encoding="UTF-8"?>\n<api status="error" code="${code}" message="${xmlEscape(message)}"></api>`;
  }
  return JSON.stringify({ api: { status: 'error', code: String(code), message } });
}
