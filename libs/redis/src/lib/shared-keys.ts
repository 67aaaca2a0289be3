/**
 * Redis keys that one service writes and another reads. The full list of key families, each with
 * its one writing service, is in docs/architecture.md.
 */

/** Hash: slave id → epoch ms of its last call the gateway answered (writer: gateway; reader: admin). */
export const SLAVE_SEEN_KEY = 'switchboard:slave-seen';
