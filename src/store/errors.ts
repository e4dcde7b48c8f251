export type StoreErrorCode =
  | 'NOT_FOUND'
  | 'IS_DIRECTORY'
  | 'NOT_SQLITE'
  | 'CORRUPT'
  | 'NEWER_SCHEMA'
  | 'READ_ONLY'
  | 'LOCKED'
  | 'CANNOT_OPEN'
  | 'NOT_OURS'
  | 'UNKNOWN_RUN'
  | 'RUN_BUSY'
  | 'INVALID_ARGUMENT';

/** Every failure the store reports on purpose; `code` lets callers react without parsing messages. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
