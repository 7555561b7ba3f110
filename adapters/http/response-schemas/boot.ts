import { arrayOf, dateTime, integer, mapOf, orNull, ref, shape, shared, string } from './schema-kit.ts';

export const BootSighting = shared('BootSighting', shape({
  mac: string,
  stage: string,
  at: dateTime,
  detail: mapOf(string),
  host: { ...orNull(shape({ id: string, name: string })), description: 'the host the MAC belongs to now; null: an unknown machine' },
}), 'A boot stage a machine reached');

export const BootActivity = shared('BootActivity', shape({ items: { ...arrayOf(ref(BootSighting)), description: 'newest first' } }));

const counts = (names: string[]) => shape(Object.fromEntries(names.map((name) => [name, integer])));

/** adapters/dhcp/dhcp-server.ts DhcpStats: every datagram is answered, ignored or dropped. */
export const DhcpStats = shared('DhcpStats', shape({
  received: integer,
  answered: counts(['offer', 'ack', 'nak']),
  ignored: { ...mapOf(integer), description: 'by reason' },
  dropped: { ...mapOf(integer), description: 'by reason' },
  pendingWrites: { ...integer, description: 'ACKs waiting for their lease to be durable' },
  leases: { ...orNull(counts(['leases', 'active', 'offers', 'quarantined'])), description: 'full mode only' },
}));

/** adapters/tftp/tftp-server.ts TftpStats without the recent transfers. */
export const TftpStats = shared('TftpStats', counts([
  'requests', 'started', 'completed', 'failed', 'sizeProbes', 'active', 'refused', 'malformed', 'duplicateRequests', 'busy',
  'blocksSent', 'bytesSent', 'retransmittedBlocks', 'retransmittedBytes', 'timeouts', 'duplicateAcks', 'goBacks', 'strays',
]));

export const BootStatus = shared('BootStatus', shape({
  dhcp: ref(DhcpStats),
  tftp: ref(TftpStats),
  activity: counts(['observed', 'recorded', 'folded', 'throttled', 'unattributed', 'writeFailures']),
  index: counts(['hosts', 'macs']),
}, ['dhcp', 'tftp']), 'The running boot responders\' counters (dhcp and tftp are absent when off) and boot-stage recording');

export const bootSchemas = [BootSighting, BootActivity, DhcpStats, TftpStats, BootStatus];
