/**
 * Server-rendered HTML for the web console, escaped by construction: `html` is a tagged template
 * whose every interpolated value is escaped as text unless it is itself `Html` (built by `html`).
 * Values are only ever placed in element text or in double-quoted attributes, where escaping
 * `& < > " '` makes them inert (no URL from the data is ever an href).
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function esc(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

function render(value: Value): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return esc(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** A console URL with query parameters (values percent-encoded; empty ones left out). */
export function href(path: string, params: Record<string, string | number | undefined | null> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** An ISO time as `2025-01-02 08:30:00 UTC` in a <time> element, or a dash. */
export function when(iso: string | Date | null | undefined): Html {
  if (!iso) return html`<span class="muted">—</span>`;
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return html`<span class="muted">—</span>`;
  const text = d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
  return html`<time datetime="${d.toISOString()}">${text}</time>`;
}

export const CONSOLE_BASE = '/admin/console';

/** The nav entries: path below CONSOLE_BASE and label. */
const NAV: [string, string][] = [
  ['', 'Overview'],
  ['/slaves', 'Slaves'],
  ['/deliveries', 'Deliveries'],
  ['/lockouts', 'Lockouts'],
  ['/audit', 'Audit'],
];

export interface PageOptions {
  title: string;
  /** The nav entry to mark (a NAV path), or undefined. */
  current?: string;
  /** Signed in: the token's name and the CSRF token for the sign-out form. */
  session?: { name: string; csrf: string };
  /** Show the queue dashboard's link (when it is mounted). */
  queues?: boolean;
  /** A notice above the content: ok (green) or error (red). */
  notice?: { kind: 'ok' | 'error'; text: string | Html };
  body: Html;
}

/** A whole page: stylesheet from the console itself, no script, no inline style (CSP). */
export function page(options: PageOptions): string {
  const nav = options.session
    ? html`<nav aria-label="Console">
  <ul>${NAV.map(([path, label]) => html`<li><a href="${CONSOLE_BASE + path}"${options.current === path ? html` aria-current="page"` : ''}>${label}</a></li>`)}${
    options.queues ? html`<li><a href="/admin/queues">Queues</a></li>` : ''
  }</ul>
  <form method="post" action="${CONSOLE_BASE}/sign-out" class="signout"><span class="who">Signed in as <strong id="who">${options.session.name}</strong></span>${csrfField(options.session.csrf)}<button type="submit">Sign out</button></form>
</nav>`
    : '';
  const notice = options.notice ? html`<p class="notice ${options.notice.kind}" role="${options.notice.kind === 'error' ? 'alert' : 'status'}">${options.notice.text}</p>` : '';
  return `<!DOCTYPE html>
${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${options.title} · Switchboard console</title>
<link rel="stylesheet" href="${CONSOLE_BASE}/console.css">
<link rel="icon" href="${CONSOLE_BASE}/favicon.svg" type="image/svg+xml">
</head>
<body>
<header><a class="brand" href="${CONSOLE_BASE}">Switchboard</a>${nav}</header>
<main>
<h1>${options.title}</h1>
${notice}
${options.body}
</main>
</body>
</html>
`}`;
}

export function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

/** A POST button form (one action on one row), CSRF-protected. */
export function actionButton(action: string, label: string, csrf: string, options: { extra?: Html; danger?: boolean; testId?: string } = {}): Html {
  return html`<form method="post" action="${action}" class="inline">${csrfField(csrf)}${options.extra ?? ''}<button type="submit"${options.danger ? html` class="danger"` : ''}${
    options.testId ? html` data-test="${options.testId}"` : ''
  }>${label}</button></form>`;
}

/** The icon (served as /admin/console/favicon.svg): a switchboard's two plugs. */
export const CONSOLE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#101828"/><circle cx="10" cy="11" r="4" fill="#4f8cff"/><circle cx="22" cy="21" r="4" fill="#4f8cff"/><path d="M10 11 C 16 11, 16 21, 22 21" stroke="#fff" stroke-width="2.5" fill="none"/></svg>`;

/** The stylesheet (served as /admin/console/console.css; CSP allows styles from 'self' only). */
export const CONSOLE_CSS = `
:root{--fg:#1d2330;--muted:#667085;--line:#d9dee7;--bg:#f6f7f9;--card:#fff;--accent:#2457c5;--ok:#12733a;--okbg:#e6f4ea;--bad:#b42318;--badbg:#fdecea;--warn:#8a5a00;--warnbg:#fff4d6}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;align-items:center;gap:1.5rem;padding:.6rem 1.5rem;background:#101828;color:#fff;flex-wrap:wrap}
header a{color:#d0d5dd;text-decoration:none}header a:hover{color:#fff}
.brand{font-weight:700;color:#fff;font-size:1.05rem}
nav{display:flex;align-items:center;gap:1rem;flex:1;flex-wrap:wrap}
nav ul{display:flex;gap:1rem;list-style:none;margin:0;padding:0;flex:1}
nav a[aria-current=page]{color:#fff;border-bottom:2px solid #fff}
.signout{display:flex;align-items:center;gap:.6rem}.who{color:#d0d5dd}.who strong{color:#fff}
main{max-width:78rem;margin:0 auto;padding:1rem 1.5rem 3rem}
h1{font-size:1.5rem;margin:.6rem 0 1rem}h2{font-size:1.15rem;margin:1.6rem 0 .6rem}
.muted{color:var(--muted)}
.notice{padding:.6rem .9rem;border-radius:6px;border:1px solid}
.notice.ok{background:var(--okbg);border-color:#a6d8b5;color:var(--ok)}
.notice.error{background:var(--badbg);border-color:#f3b4ae;color:var(--bad)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.8rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.8rem 1rem}
.card .n{font-size:1.7rem;font-weight:650}.card .l{color:var(--muted);font-size:.85rem}
.card .n a{color:inherit;text-decoration:none}.card .n a:hover{text-decoration:underline}
.card.bad .n{color:var(--bad)}.card.warn .n{color:var(--warn)}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef1f5;font-weight:600;font-size:.85rem}
td.url,td.details{word-break:break-all;max-width:28rem}
td.details{font-size:.82rem}td.details .kv{display:inline-block;margin:0 .8rem .1rem 0}
td.details .k{color:var(--muted)}td.details code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.8rem}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-size:.8rem;font-weight:600;white-space:nowrap}
.badge.ok{background:var(--okbg);color:var(--ok)}.badge.bad{background:var(--badbg);color:var(--bad)}
.badge.warn{background:var(--warnbg);color:var(--warn)}.badge.off{background:#eaecf0;color:#475467}
form.inline{display:inline-flex;gap:.3rem;margin:0 .3rem .2rem 0;align-items:center}
form.filters{display:flex;flex-wrap:wrap;gap:.8rem;align-items:flex-end;margin:0 0 1rem;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.7rem 1rem}
form.filters label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted);gap:.15rem}
input,select{font:inherit;padding:.3rem .45rem;border:1px solid #c5cbd5;border-radius:5px;background:#fff}
input[type=text].reason{width:9rem}
button{font:inherit;padding:.3rem .8rem;border-radius:5px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
button.danger{background:#fff;color:var(--bad);border-color:var(--bad)}
header button{background:transparent;border-color:#98a2b3;color:#fff}
.signin{max-width:26rem;margin:4rem auto;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1.5rem}
.signin label{display:block;margin:.8rem 0 .3rem}.signin input{width:100%}.signin button{margin-top:1rem;width:100%;padding:.5rem}
.pager{margin-top:.8rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.8rem 1rem}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
`;
