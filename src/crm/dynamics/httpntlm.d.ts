/** Types for the message functions of httpntlm's ntlm.js (the package ships none). */
declare module 'httpntlm/ntlm.js' {
  export interface NtlmIdentity {
    username?: string;
    password?: string;
    domain?: string;
    workstation?: string;
  }
  export interface NtlmType2Message {
    type: number;
    negotiateFlags: number;
    serverChallenge: Buffer;
    targetName: Buffer;
    targetInfo?: Buffer;
  }
  /** 'NTLM <base64>' for an Authorization header. */
  export function createType1Message(identity: NtlmIdentity): string;
  /** Reads 'NTLM <base64>' from a WWW-Authenticate header; null (after calling back) when it is not a Type 2. */
  export function parseType2Message(header: string, onError: (err: Error) => void): NtlmType2Message | null;
  /** 'NTLM <base64>': NTLMv2 responses when the server offers target info. */
  export function createType3Message(type2: NtlmType2Message, identity: NtlmIdentity): string;
  export function create_NT_hashed_password(password: string): Buffer;
}
