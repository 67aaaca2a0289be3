import { Writable } from 'node:stream';

/** A pino destination that keeps every line, so a test can assert what was (not) logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void) {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }

  get text(): string {
    return this.lines.join('\n');
  }

  /** Pino's `write(string)` signature (DestinationStream). */
  override write(chunk: unknown, ...rest: unknown[]): boolean {
    return super.write(chunk as Buffer, ...(rest as [BufferEncoding]));
  }
}
