/**
 * A call as it ended, assembled from Asterisk's end-of-call AMI events (Cdr, CEL, Dial*, Hangup,
 * queue events; reference/asterisk.md, "AMI events at the end of a call"): what the call log
 * writes into CRMs. Pure data, no I/O.
 */

export type CallDirection = 'inbound' | 'outbound';

/**
 * answered: an agent talked to the outside party; missed: nobody answered while the caller
 * waited to the end (ring timeout, no members); abandoned: the caller hung up while ringing or
 * waiting in a queue; busy: the called party was busy; failed: congestion, unreachable.
 */
export type CallDisposition = 'answered' | 'missed' | 'abandoned' | 'busy' | 'failed';

export interface CompletedCall {
  /** Asterisk's Linkedid: the one key of a call across its channels (the outbox's key). */
  linkedId: string;
  tenantId: string;
  direction: CallDirection;
  disposition: CallDisposition;
  /** The outside party: the caller of an inbound call, the dialled number of an outbound one. */
  externalNumber: string;
  /** The DID an inbound call came in on, when Asterisk said. */
  did?: string;
  /** The host extension that answered (inbound) or placed (outbound) the call. */
  agentExtension?: string;
  /** The queue an inbound call waited in, when it went through one. */
  queue?: string;
  startedAt: Date;
  /** When the agent answered (not when an IVR or AGI answered the inbound leg). */
  answeredAt?: Date;
  endedAt: Date;
  /** Seconds from the agent's answer to the hang-up; 0 when no agent answered. */
  talkSeconds: number;
  /** Uniqueids of the channels the plugin's FastAGI sessions ran on: they find the call's routing decisions. */
  channelUniqueIds: string[];
}
