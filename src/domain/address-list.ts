/**
 * IP addresses and CIDR ranges as administrators write them ("10.0.0.5", "10.1.0.0/16", "::1"),
 * for the FastAGI allow-list and the CRM egress policy; and what kind of address one is (loopback,
 * private, link-local...), as the egress policy judges addresses. Pure: no I/O.
 */
import { BlockList, isIP } from 'node:net';

/** A BlockList of `entries`; throws an Error naming the first entry that is not an address or range. */
export function addressList(entries: readonly string[], what: string): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.trim().split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? undefined : Number(prefix);
    if (family === 0 || (bits !== undefined && !(Number.isInteger(bits) && bits >= 0 && bits <= (family === 4 ? 32 : 128)))) {
      throw new Error(`The ${what} entry "${entry}" is not an IP address or CIDR range.`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return list;
}

/** Whether `list` holds `address`; IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4 entries. */
export function listHas(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** IPv4 clients of a dual-stack socket show as ::ffff:a.b.c.d. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified' | 'multicast' | 'reserved';

/** Cloud metadata and platform endpoints (AWS, GCP, Azure, Oracle, Alibaba, ECS): they hand out credentials. */
const METADATA = addressList(['169.254.169.254', '169.254.170.2', '169.254.169.253', 'fd00:ec2::254', '100.100.100.200', '168.63.129.16'], 'metadata');

const KINDS: ReadonlyArray<[AddressKind, BlockList]> = [
  ['metadata', METADATA],
  ['unspecified', addressList(['0.0.0.0/8', '::/128'], 'unspecified')],
  ['loopback', addressList(['127.0.0.0/8', '::1/128'], 'loopback')],
  ['link-local', addressList(['169.254.0.0/16', 'fe80::/10'], 'link-local')],
  ['private', addressList(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'], 'private')],
  ['multicast', addressList(['224.0.0.0/4', 'ff00::/8'], 'multicast')],
  ['reserved', addressList(['240.0.0.0/4'], 'reserved')],
];

/**
 * The kind of an IP address. IPv6 forms that carry an IPv4 address (::ffff:a.b.c.d, the
 * deprecated ::a.b.c.d, NAT64 64:ff9b::/96) are judged by that IPv4 address.
 */
export function addressKind(address: string): AddressKind {
  const embedded = embeddedIpv4(address);
  if (embedded !== undefined) return addressKind(embedded);
  for (const [kind, list] of KINDS) if (listHas(list, address)) return kind;
  return 'public';
}

const EMBEDDING = addressList(['::/96', '64:ff9b::/96'], 'embedded IPv4');

function embeddedIpv4(address: string): string | undefined {
  if (isIP(address) !== 6 || address === '::' || address === '::1' || !EMBEDDING.check(address, 'ipv6')) return undefined;
  const groups = expandIpv6(address);
  if (!groups) return undefined;
  const high = groups[6]!;
  const low = groups[7]!;
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail allowed); undefined if it is not one. */
function expandIpv6(address: string): number[] | undefined {
  let text = address.split('%')[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parts = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parts(head);
  const right = tail === undefined ? [] : parts(tail);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  return [...left, ...new Array<number>(missing).fill(0), ...right];
}
