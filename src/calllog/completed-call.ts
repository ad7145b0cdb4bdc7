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
  /**
   * The outside party: the caller of an inbound call (the business Cdr's Source), the dialled
   * number of an outbound one (from the Dial string). Empty when the caller withheld it.
   */
  externalNumber: string;
  /** The DID an inbound call came in on (the business Cdr's Destination), when Asterisk said. */
  did?: string;
  /**
   * The host extension that answered (inbound; unset when nobody answered) or placed (outbound)
   * the call: a number HostDirectory.isExtension accepts.
   */
  agentExtension?: string;
  /** The queue an inbound call waited in, when it went through one. */
  queue?: string;
  /** When the call's first channel appeared (AMI Newchannel; the earliest Cdr StartTime if that was missed). */
  startedAt: Date;
  /** When the agent answered (DialEnd ANSWER; not when an IVR or AGI answered the inbound leg). */
  answeredAt?: Date;
  /** When the call's last channel hung up. */
  endedAt: Date;
  /** Whole seconds from the agent's answer to the hang-up (truncated, as Asterisk's billsec); 0 when no agent answered. */
  talkSeconds: number;
  /**
   * Uniqueids of the call's channels, its first channel (uniqueid = Linkedid) first. The channel
   * the plugin's FastAGI session ran on is among them (its `agi_uniqueid`), so a routed call's
   * decision is found with `call_id IN (...)`. All channels rather than only those this process
   * served: with several plugin processes the AGI may have run in another one.
   */
  channelUniqueIds: string[];
}
