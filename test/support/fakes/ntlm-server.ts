/**
 * The server side of an NTLM handshake, for fakes: reads a Type 1 (negotiate), writes a Type 2
 * (challenge with target info, so clients answer with NTLMv2), and checks a Type 3: user and
 * domain as sent, and the NTLMv2 proof recomputed from the password (HMAC-MD5 over the server
 * challenge and the client's blob), per [MS-NLMP]. Only the MD4 password hash comes from
 * httpntlm (Node's OpenSSL may lack MD4); everything else is written from the spec here.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { create_NT_hashed_password } from 'httpntlm/ntlm.js';

const SIGNATURE = Buffer.from('NTLMSSP\0', 'ascii');
const FLAGS = {
  unicode: 0x1, requestTarget: 0x4, ntlm: 0x200, alwaysSign: 0x8000, targetTypeDomain: 0x10000,
  extendedSecurity: 0x80000, targetInfo: 0x800000, version: 0x2000000, n128: 0x20000000, n56: 0x80000000,
};

export interface Type1 {
  flags: number;
  domain: string;
}

export interface Type3 {
  domain: string;
  user: string;
  workstation: string;
  ntResponse: Buffer;
  lmResponse: Buffer;
}

export function decodeNtlmHeader(header: string | undefined): { type: number; buf: Buffer } | undefined {
  const match = /^NTLM ([A-Za-z0-9+/]+=*)$/.exec(header ?? '');
  if (!match) return undefined;
  const buf = Buffer.from(match[1] as string, 'base64');
  if (buf.length < 12 || !buf.subarray(0, 8).equals(SIGNATURE)) return undefined;
  return { type: buf.readUInt32LE(8), buf };
}

function field(buf: Buffer, at: number): Buffer {
  const length = buf.readUInt16LE(at);
  const offset = buf.readUInt32LE(at + 4);
  if (offset + length > buf.length) throw new Error(`security buffer at ${at} points past the message`);
  return buf.subarray(offset, offset + length);
}

export function parseType1(buf: Buffer): Type1 {
  const flags = buf.readUInt32LE(12);
  return { flags, domain: buf.length >= 24 ? field(buf, 16).toString('ascii') : '' };
}

export interface Challenge {
  header: string;
  serverChallenge: Buffer;
  targetInfo: Buffer;
}

export function createType2(domain: string, computer: string): Challenge {
  const avPair = (id: number, value: Buffer) => {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(id, 0);
    head.writeUInt16LE(value.length, 2);
    return Buffer.concat([head, value]);
  };
  const targetName = Buffer.from(domain, 'utf16le');
  const targetInfo = Buffer.concat([avPair(2, Buffer.from(domain, 'utf16le')), avPair(1, Buffer.from(computer, 'utf16le')), avPair(0, Buffer.alloc(0))]);
  const serverChallenge = randomBytes(8);
  const header = Buffer.alloc(56);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(2, 8);
  header.writeUInt16LE(targetName.length, 12);
  header.writeUInt16LE(targetName.length, 14);
  header.writeUInt32LE(56, 16);
  const flags = Object.values(FLAGS).reduce((a, b) => (a | b) >>> 0, 0);
  header.writeUInt32LE(flags, 20);
  serverChallenge.copy(header, 24);
  header.writeUInt16LE(targetInfo.length, 40);
  header.writeUInt16LE(targetInfo.length, 42);
  header.writeUInt32LE(56 + targetName.length, 44);
  header.writeUInt8(6, 48); // version 6.1 build 7601, NTLM revision 15
  header.writeUInt8(1, 49);
  header.writeUInt16LE(7601, 50);
  header.writeUInt8(15, 55);
  return { header: `NTLM ${Buffer.concat([header, targetName, targetInfo]).toString('base64')}`, serverChallenge, targetInfo };
}

export function parseType3(buf: Buffer): Type3 {
  const flags = buf.readUInt32LE(60);
  const text = (b: Buffer) => (flags & FLAGS.unicode ? b.toString('utf16le') : b.toString('ascii'));
  return { lmResponse: field(buf, 12), ntResponse: field(buf, 20), domain: text(field(buf, 28)), user: text(field(buf, 36)), workstation: text(field(buf, 44)) };
}

/** Whether the Type 3's NTLMv2 response proves knowledge of `password` for this challenge. */
export function verifyNtlmV2(type3: Type3, challenge: Challenge, password: string): string | undefined {
  if (type3.ntResponse.length <= 24) return `NT response of ${type3.ntResponse.length} bytes is NTLMv1, not NTLMv2`;
  const proof = type3.ntResponse.subarray(0, 16);
  const blob = type3.ntResponse.subarray(16);
  if (blob.readUInt16LE(0) !== 0x0101) return 'NTLMv2 blob has the wrong version';
  if (!blob.includes(challenge.targetInfo)) return 'NTLMv2 blob does not carry the target info of the challenge';
  const key = createHmac('md5', create_NT_hashed_password(password)).update(Buffer.from(type3.user.toUpperCase() + type3.domain, 'utf16le')).digest();
  const expected = createHmac('md5', key).update(Buffer.concat([challenge.serverChallenge, blob])).digest();
  return expected.equals(proof) ? undefined : 'NTLMv2 proof does not match the password';
}
