import type { CpuAccount } from './lab.ts';

/** One perfdhcp exchange type's counters (DISCOVER-OFFER or REQUEST-ACK). */
export interface ExchangeStats {
  sent: number;
  received: number;
  drops: number;
  avgDelayMs: number;
  maxDelayMs: number;
}

/** What one perfdhcp run reported. */
export interface PerfdhcpRun {
  offeredRate: number;
  /** Completed 4-way (DORA) exchanges per second of sending (ACKs received in time / seconds). */
  rate: number;
  discoverOffer: ExchangeStats;
  requestAck: ExchangeStats;
  /** Drops of both kinds over both kinds sent, in percent. */
  dropPercent: number;
  command: string;
}

/**
 * PXE BIOS client options, as a PXE ROM sends them: 60 "PXEClient:Arch:00000:UNDI:002001"
 * and 93 (client architecture) 0. Both servers then answer with a boot file.
 */
export const PXE_OPTIONS = ['-o', `60,${Buffer.from('PXEClient:Arch:00000:UNDI:002001').toString('hex')}`, '-o', '93,0000'];

export interface PerfdhcpOptions {
  /** The client-side device of the link to the server under test. */
  device: string;
  /** DORA exchanges started per second. */
  rate: number;
  /** Simulated clients: MACs 02:00:00:00:00:00 upwards, used in turn. */
  clients: number;
  /** Seconds of sending (-p), or a number of exchanges (-n). */
  seconds?: number;
  exchanges?: number;
}

/**
 * Runs perfdhcp in the client namespace (`client` is its CPU account). It acts as a relay (giaddr = the
 * client's address, replies unicast to port 67), broadcasting on `device`.
 * Answers later than 1 s count as drops (-d 1, perfdhcp's default); it
 * waits 1 s after the last request for late answers (-W), so exchanges
 * still in flight at the end are not counted as dropped.
 */
export async function perfdhcp(client: CpuAccount, options: PerfdhcpOptions): Promise<PerfdhcpRun> {
  const args = [
    '-4', '-l', options.device, '-r', String(options.rate), '-R', String(options.clients), '-b', 'mac=02:00:00:00:00:00',
    '-d', '1', '-W', '1000000', '-g', 'single', ...PXE_OPTIONS,
    ...(options.seconds !== undefined ? ['-p', String(options.seconds)] : []),
    ...(options.exchanges !== undefined ? ['-n', String(options.exchanges)] : []),
  ];
  const limit = ((options.seconds ?? (options.exchanges ?? 0) / options.rate) + 30) * 1000;
  // perfdhcp exits 3 when some exchanges were dropped: that is a result, not a failure.
  const { output } = await client.run('perfdhcp', args, limit);
  const run = parsePerfdhcp(output, options.rate, `perfdhcp ${args.join(' ')}`);
  // perfdhcp's own rate divides by the time including the -W wait; count per second of sending instead.
  const sending = options.seconds ?? (options.exchanges ?? 0) / options.rate;
  if (sending > 0) run.rate = run.requestAck.received / sending;
  return run;
}

/** Reads perfdhcp's final report. */
export function parsePerfdhcp(text: string, offeredRate: number, command: string): PerfdhcpRun {
  const rate = /Rate:\s*([\d.]+)\s+4-way exchanges\/second/.exec(text);
  if (!rate) throw new Error(`perfdhcp printed no exchange rate:\n${text.slice(-2000)}`);
  const section = (name: string): ExchangeStats => {
    const start = text.indexOf(`***Statistics for: ${name}***`);
    if (start < 0) throw new Error(`perfdhcp printed no ${name} statistics:\n${text.slice(-2000)}`);
    const next = text.indexOf('***Statistics for:', start + 1);
    const body = text.slice(start, next < 0 ? text.length : next);
    const field = (label: string) => Number(new RegExp(`${label}:\\s*([\\d.]+)`).exec(body)?.[1] ?? NaN);
    return {
      sent: field('sent packets'), received: field('received packets'), drops: field('drops'),
      avgDelayMs: field('avg delay'), maxDelayMs: field('max delay'),
    };
  };
  const discoverOffer = section('DISCOVER-OFFER');
  const requestAck = section('REQUEST-ACK');
  const sent = discoverOffer.sent + requestAck.sent;
  const dropPercent = sent ? (100 * (discoverOffer.drops + requestAck.drops)) / sent : 100;
  return { offeredRate, rate: Number(rate[1]), discoverOffer, requestAck, dropPercent, command };
}
