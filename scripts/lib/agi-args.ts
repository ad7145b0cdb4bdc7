/**
 * How Asterisk splits text into arguments, for the simulated Asterisk: res_agi's parse_args()
 * for an AGI command line, and ast_app_separate_args() for the argument of an application
 * run with EXEC.
 */

/** res_agi's MAX_ARGS; words past MAX_ARGS - 1 are dropped. */
export const AGI_MAX_ARGS = 128;

/**
 * Splits an AGI command line as parse_args() does: spaces and tabs separate words, double quotes
 * group, a backslash makes the next character literal (`\"` inside quotes is a quote). Measured:
 * `SET VARIABLE F "say \"hi\" now"` gives [SET, VARIABLE, F, say "hi" now]. A CR is an ordinary
 * character, so `NOOP\r` is not NOOP.
 */
export function splitAgiArgs(line: string): string[] {
  const args: string[] = [];
  let quoted = false;
  let escaped = false;
  let betweenWords = true;
  for (const ch of line) {
    if (ch === '"' && !escaped) {
      quoted = !quoted;
      // An opening quote after white space starts a word, even an empty one (`""`).
      if (quoted && betweenWords) {
        args.push('');
        betweenWords = false;
      }
      continue;
    }
    if ((ch === ' ' || ch === '\t') && !quoted && !escaped) {
      betweenWords = true;
      continue;
    }
    if (ch === '\\' && !escaped) {
      escaped = true;
      continue;
    }
    escaped = false;
    if (betweenWords) {
      if (args.length >= AGI_MAX_ARGS - 1) continue;
      args.push('');
      betweenWords = false;
    }
    args[args.length - 1] += ch;
  }
  return args;
}

/**
 * Splits an application argument at commas as ast_app_separate_args() does: double quotes
 * group (and are removed), a backslash keeps the next character (and is removed), and
 * parentheses nest. `A=1,B=two` gives [A=1, B=two].
 */
export function splitAppArgs(text: string): string[] {
  const args: string[] = [''];
  let quoted = false;
  let escaped = false;
  let depth = 0;
  for (const ch of text) {
    if (escaped) {
      escaped = false;
      args[args.length - 1] += ch;
    } else if (ch === '\\') {
      escaped = true;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (!quoted && ch === '(') {
      depth += 1;
      args[args.length - 1] += ch;
    } else if (!quoted && ch === ')' && depth > 0) {
      depth -= 1;
      args[args.length - 1] += ch;
    } else if (!quoted && depth === 0 && ch === ',') {
      args.push('');
    } else {
      args[args.length - 1] += ch;
    }
  }
  return args;
}

/** sscanf("%30d")'s reading: leading blanks, a sign, digits; what follows is ignored. */
export function leadingInteger(text: string | undefined): number | undefined {
  const match = /^\s*([+-]?\d+)/.exec(text ?? '');
  return match ? Number(match[1]) : undefined;
}

/** C's atoi(): like leadingInteger, but 0 when there is no number. */
export function atoi(text: string | undefined): number {
  return leadingInteger(text) ?? 0;
}
