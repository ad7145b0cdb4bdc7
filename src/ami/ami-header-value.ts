/**
 * The one check every value passes before it becomes an AMI header: a CR or LF would end the
 * header early and let the rest of the value inject headers or a whole second action; a NUL
 * would cut the value short inside Asterisk's C strings.
 */

/** Longest header value we send; Asterisk discards a line longer than 1024 bytes. */
export const MAX_AMI_HEADER_VALUE_LENGTH = 512;

/** Why `value` may not be sent as AMI header `name`, or undefined when it may. */
export function amiHeaderValueProblem(name: string, value: string): string | undefined {
  if (typeof value !== 'string') return `${name} must be text.`;
  if (value.length === 0) return `${name} is empty.`;
  if (/[\r\n\0]/.test(value)) return `${name} contains a line break (CR or LF) or NUL: refused before anything was sent to AMI.`;
  if (value.length > MAX_AMI_HEADER_VALUE_LENGTH) return `${name} is longer than ${MAX_AMI_HEADER_VALUE_LENGTH} characters.`;
  if (value.trim() !== value) return `${name} starts or ends with white space.`;
  return undefined;
}
