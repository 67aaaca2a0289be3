/**
 * The stub slaves of the propagation benches in a process of their own (driven over IPC by
 * StubSlaves in propagation-lib.ts): answering the deliveries must not take the event loop of the
 * bench process, which measures the origin answer times. Messages: `expect` {tag, count} → {at}
 * (CLOCK_MONOTONIC ms of the count-th request tagged `tag`), `last` → {entries}.
 */
import { StubServer } from './stub-server';

const server = new StubServer();
const send = (msg: Record<string, unknown>) => process.send?.(msg);

process.on('message', (msg: { id: number; type: string; tag?: string; count?: number }) => {
  if (msg.type === 'expect') void server.expect(msg.tag!, msg.count!).then((at) => send({ id: msg.id, at }));
  else if (msg.type === 'last') send({ id: msg.id, entries: [...server.lastRequest] });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => void server.stop().finally(() => process.exit(0)));
void server.start().then(() => send({ id: 0, port: server.port }));
