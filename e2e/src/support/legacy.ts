import { md5 } from './ips';

/** IPB3's legacy hash, written here independently of the server's code (spec §3.2). */
export function legacy(plain: string, salt: string): string {
  const escaped = plain
    .replace(/&/g, '&amp;')
    .replace(/<!--/g, '&#60;&#33;--')
    .replace(/-->/g, '--&#62;')
    .replace(/<script/gi, '&#60;script')
    .replace(/>/g, '&gt;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '<br />')
    .replace(/\$/g, '&#036;')
    .replace(/!/g, '&#33;')
    .replace(/'/g, '&#39;')
    .replace(/\\/g, '&#092;');
  return md5(md5(salt), md5(escaped));
}
