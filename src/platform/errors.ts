/**
 * The one error shape of the product. Every refusal a user or script can see is an AppError with a
 * stable snake_case code, an HTTP status and a message that says what happened and what to do.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly extra: Record<string, unknown>;

  constructor(code: string, status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.extra = extra;
  }

  toBody(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.extra } };
  }
}

export const notFound = (what: string) =>
  new AppError('not_found', 404, `${what} was not found. Check the id; it may have been deleted or belong to another account.`);

export const permissionDenied = (message: string) => new AppError('permission_denied', 403, message);

export const invalidRequest = (message: string, extra: Record<string, unknown> = {}) =>
  new AppError('invalid_request', 400, message, extra);
