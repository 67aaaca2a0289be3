import busboy from 'busboy';
import type { IncomingMessage } from 'node:http';

/**
 * `multipart/form-data` bodies, read the way PHP fills `$_POST`: every text field, in order; file
 * parts are read and dropped (no upload method exists, and a file is never signed, spec §1.2).
 * Returned re-encoded as an urlencoded string, so one form decoder serves both body types.
 */
export function readMultipartFields(req: IncomingMessage, limitBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fieldSize: limitBytes, fields: 1000, parts: 1100 }, defParamCharset: 'utf8' });
    } catch (err) {
      reject(Object.assign(new Error((err as Error).message), { statusCode: 400 }));
      return;
    }
    const pairs: string[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        req.unpipe(parser);
        req.resume();
        reject(Object.assign(new Error('Request body is too large'), { statusCode: 413 }));
      }
    });
    parser.on('field', (name, value) => pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`));
    parser.on('file', (_name, stream) => stream.resume());
    parser.on('error', (err) => reject(Object.assign(err as Error, { statusCode: 400 })));
    parser.on('close', () => resolve(pairs.join('&')));
    req.pipe(parser);
  });
}
