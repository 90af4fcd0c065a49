/**
 * A DNS server for tests that logs every query it receives and answers each with NXDOMAIN, so resolvers do
 * not wait for a timeout. Used inside a network namespace to see whether a process looks anything up.
 *
 * ```ts
 * const dns = await startLoggingDns({ host: '127.0.0.1', port: 53 });
 * // … run the process under test …
 * console.log(dns.queries);   // [{ name: 'mobile.events.data.microsoft.com', type: 1, at: 14032 }, …]
 * await dns.close();
 * ```
 */
import dgram from 'node:dgram';

export interface DnsQuery {
  /** The queried name, without the trailing dot. */
  name: string;
  /** The query type (1 = A, 28 = AAAA, …). */
  type: number;
  /** Milliseconds since the server started. */
  at: number;
}

export interface LoggingDns {
  readonly queries: DnsQuery[];
  close(): Promise<void>;
}

/** Reads the first question's name and type from a DNS message (RFC 1035 §4.1); null when malformed. */
export function parseQuestion(msg: Buffer): { name: string; type: number; end: number } | null {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return null;
  const labels: string[] = [];
  let i = 12;
  for (;;) {
    if (i >= msg.length) return null;
    const len = msg[i];
    if (len === 0) break;
    if (len > 63 || i + 1 + len > msg.length) return null; // no compression pointers in a question
    labels.push(msg.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
  }
  if (i + 5 > msg.length) return null;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(i + 1), end: i + 5 };
}

/** Starts the logging server on a UDP port. */
export async function startLoggingDns({ host = '127.0.0.1', port = 53 } = {}): Promise<LoggingDns> {
  const socket = dgram.createSocket('udp4');
  const t0 = performance.now();
  const queries: DnsQuery[] = [];
  socket.on('message', (msg, rinfo) => {
    const q = parseQuestion(msg);
    if (!q) return;
    queries.push({ name: q.name, type: q.type, at: Math.round(performance.now() - t0) });
    // the answer: the same id and question, QR=1, RD copied, RA=1, RCODE=3 (NXDOMAIN), no records
    const answer = Buffer.from(msg.subarray(0, q.end));
    answer[2] = 0x80 | (msg[2] & 0x01);
    answer[3] = 0x80 | 3;
    answer.writeUInt16BE(1, 4);
    answer.fill(0, 6, 12);
    socket.send(answer, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return { queries, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}
