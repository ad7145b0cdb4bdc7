/** What went wrong on a FastAGI session, as a code the call flow can branch on and record. */
export const AGI_ERROR_CODES = [
  'UNSAFE_ARGUMENT', // CR, LF or NUL in a command or argument (or an empty command): refused before anything is written
  'QUEUE_FULL', // too many commands waiting behind the one outstanding
  'NOT_READY', // a command before the header was read
  'COMMAND_TIMEOUT', // no reply in time; the session is closed, it can no longer be trusted
  'COMMAND_REJECTED', // Asterisk answered 510 / 511 / 520 or a result the helper cannot use
  'PROTOCOL', // Asterisk sent something we cannot read (a line too long...); the session is closed
  'HANGUP', // Asterisk wrote HANGUP: the caller left, or an AMI redirect is waiting for our close
  'SESSION_CLOSED', // we, the server or Asterisk closed the session
  'IDLE_TIMEOUT', // the call flow sent nothing for too long; the session was closed
  'HEADER_TIMEOUT', // the header did not arrive in time
  'BAD_REQUEST', // the header is malformed, too large or misses a field
  'CONFIG', // a server option is not valid (an allow-list entry that is no address)
] as const;
export type AgiErrorCode = (typeof AGI_ERROR_CODES)[number];

export class AgiError extends Error {
  override readonly name = 'AgiError';
  constructor(
    readonly code: AgiErrorCode,
    message: string,
    readonly details: { reply?: unknown; cause?: unknown } = {},
  ) {
    super(message);
  }
}
