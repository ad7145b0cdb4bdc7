/**
 * Where CRM traffic may go. An administrator types CRM base URLs and Custom CRM URLs, and Test
 * connection and Test rule show what answered: without a policy the plugin would probe the PBX's
 * own network for them (127.0.0.1, 169.254.169.254, the private ranges) and show what it found.
 *
 * The host sets the policy (HostContext.crmEgress). Link-local addresses, cloud metadata
 * endpoints, unspecified, multicast and reserved addresses are always refused; loopback and
 * private ranges only when the host allows them (an on-premises CRM is a real case). The check is
 * on the address actually connected to: HttpClient resolves names through `lookup` below, which
 * hands the socket only addresses the policy allows, so a DNS answer that changes between a test
 * and a call (rebinding) changes nothing. IP literals never reach a lookup: `refuseHost` checks them.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { isIP, type BlockList } from 'node:net';
import type { CrmEgressPolicy } from '../../host';
import { addressKind, addressList, listHas, type AddressKind } from '../../domain/address-list';

/** The lookup net.connect and tls.connect accept (`all` is set when Node tries several addresses). */
export type ConnectLookup = (
  hostname: string,
  options: LookupOneOptions | LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/** Thrown (as the connect error) when the policy refuses every address a name resolved to. */
export class EgressRefusedError extends Error {
  override readonly name = 'EgressRefusedError';
  readonly code = 'ERR_CRM_EGRESS_REFUSED';
  constructor(readonly host: string, readonly address: string, readonly kind: AddressKind, readonly allowedWith: 'loopback' | 'private' | undefined) {
    super(`${host === address ? address : `${host} (${address})`} is ${KIND_LABELS[kind]}`);
  }

  /** The whole sentence, for Test connection and Test rule. */
  explain(what: string): string {
    const where = this.host === this.address ? `at ${this.address}` : `at ${this.address} (${this.host} resolves there)`;
    const rule = this.allowedWith === undefined
      ? 'CRM traffic never goes there.'
      : `CRM traffic may go there only when the PBX administrator allows ${this.allowedWith === 'loopback' ? 'loopback addresses' : 'private networks (an on-premises CRM)'}.`;
    return `${what} is ${where}, ${KIND_LABELS[this.kind]}: ${rule}`;
  }
}

const KIND_LABELS: Record<AddressKind, string> = {
  public: 'a public address',
  loopback: 'a loopback address of the PBX itself',
  private: 'a private network address',
  'link-local': 'a link-local address',
  metadata: 'a cloud metadata endpoint',
  unspecified: 'an unspecified address',
  multicast: 'a multicast address',
  reserved: 'a reserved address',
};

/** Names of metadata services that may not resolve at all where the policy is checked, but do where it matters. */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal']);

export class EgressPolicy {
  private readonly allowed: BlockList | undefined;

  constructor(private readonly policy: CrmEgressPolicy = {}) {
    this.allowed = policy.allow && policy.allow.length > 0 ? addressList(policy.allow, 'CRM egress allow-list') : undefined;
  }

  /** Why a connection to `address` is refused, or undefined when it is allowed. */
  refusal(address: string, host = address): EgressRefusedError | undefined {
    const kind = addressKind(address);
    if (kind === 'public') return undefined;
    if (kind === 'loopback' || kind === 'private') {
      if ((kind === 'loopback' ? this.policy.allowLoopback : this.policy.allowPrivate) || (this.allowed && listHas(this.allowed, address))) return undefined;
      return new EgressRefusedError(host, address, kind, kind);
    }
    return new EgressRefusedError(host, address, kind, undefined);
  }

  /** A URL's host checked before any connection: IP literals (no lookup happens for them) and metadata service names. */
  refuseHost(hostname: string): EgressRefusedError | undefined {
    const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
    if (isIP(host) !== 0) return this.refusal(host);
    const name = host.toLowerCase().replace(/\.$/, '');
    if (METADATA_NAMES.has(name)) return new EgressRefusedError(host, name, 'metadata', undefined);
    return undefined;
  }

  /** A `lookup` for net/tls connect that passes on only the addresses this policy allows. */
  lookup(resolve: ConnectLookup = dnsLookup as unknown as ConnectLookup): ConnectLookup {
    return (hostname, options, callback) => {
      resolve(hostname, { ...options, all: true }, (err, found) => {
        if (err) return callback(err, '');
        const addresses = found as LookupAddress[];
        const allowed = addresses.filter((a) => this.refusal(a.address, hostname) === undefined);
        if (allowed.length === 0) {
          const first = addresses[0];
          return callback(first ? this.refusal(first.address, hostname)! : Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
        }
        if ((options as LookupAllOptions).all) callback(null, allowed);
        else callback(null, allowed[0]!.address, allowed[0]!.family);
      });
    };
  }

  /** The policy in a few sentences, for the Integration page. */
  describe(): string[] {
    const extra = this.policy.allow?.length ? ` Also allowed: ${this.policy.allow.join(', ')}.` : '';
    return [
      'CRM connections go to public addresses. Link-local addresses and cloud metadata endpoints (169.254.169.254, metadata.google.internal) are always refused.',
      `Private networks (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7): ${this.policy.allowPrivate ? 'allowed' : 'refused'}. Loopback (127.0.0.0/8, ::1): ${this.policy.allowLoopback ? 'allowed' : 'refused'}.${extra}`,
      'The PBX administrator sets this; the address checked is the one connected to, after DNS.',
    ];
  }
}
