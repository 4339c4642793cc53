import { AppError } from './errors.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** A page size between 1 and 200 (50 when omitted). */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(limit)));
}

export const invalidCursor = () =>
  new AppError('invalid_cursor', 400, 'The cursor is not valid for this list. Use the nextCursor of the previous page unchanged, with the same filters and sort, or start again without a cursor.', {
    field: 'cursor',
  });
