/**
 * Errors the store raises on purpose. Each carries a code a caller can branch on and a message a
 * person can act on; the specific classes let the pages say precisely what happened.
 */
export type StoreErrorCode =
  | 'TABLE_PREFIX_INVALID'
  | 'SEALING_KEY_TOO_SHORT'
  | 'SEALED_VALUE_INVALID'
  | 'DUPLICATE_RULE_NAME'
  | 'STALE_RULE'
  | 'MISSING_SECRET';

export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Another rule of the same tenant already has this name (compared ignoring case). */
export class DuplicateRuleNameError extends StoreError {
  override name = 'DuplicateRuleNameError';
  constructor(readonly ruleName: string, options?: { cause?: unknown }) {
    super('DUPLICATE_RULE_NAME', `A rule named "${ruleName}" already exists. Choose another name.`, options);
  }
}

/** The rule was saved by someone else after the form was opened. */
export class StaleRuleError extends StoreError {
  override name = 'StaleRuleError';
  constructor(readonly ruleId: number, readonly expectedVersion: number, readonly actualVersion: number) {
    super(
      'STALE_RULE',
      `This rule was changed by someone else while you edited it (your copy is version ${expectedVersion}, the saved one is ${actualVersion}). Reload it and apply your changes again.`,
    );
  }
}

/**
 * A sealed value could not be opened: the secret key changed, the value was altered, or it was
 * sealed for another tenant or column.
 */
export class SealedValueError extends StoreError {
  override name = 'SealedValueError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('SEALED_VALUE_INVALID', message, options);
  }
}

/** A draft asked to keep a stored secret (null) where none is stored. */
export class MissingSecretError extends StoreError {
  override name = 'MissingSecretError';
  constructor(readonly secretName: string) {
    super('MISSING_SECRET', `No value is stored for the secret "${secretName}": enter it.`);
  }
}
