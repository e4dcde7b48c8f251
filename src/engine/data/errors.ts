/**
 * Problems with training data that the user can fix (a bad file, a wrong source name, a block size
 * too large for the corpus). The `code` lets the CLI and UI react without parsing messages.
 */
export type DataErrorCode =
  | 'empty'
  | 'binary'
  | 'too-short'
  | 'unknown-builtin'
  | 'unknown-text'
  | 'relative-path'
  | 'unknown-char'
  | 'unknown-id'
  | 'bad-vocab'
  | 'bad-option'
  | 'missing'
  | 'bad-path'
  | 'not-allowed'
  | 'directory'
  | 'not-a-file'
  | 'too-large'
  | 'not-utf8';

export class DataError extends Error {
  readonly code: DataErrorCode;

  constructor(code: DataErrorCode, message: string) {
    super(message);
    this.name = 'DataError';
    this.code = code;
  }
}
