import { invalidRequest } from '../../platform/errors.js';
import { addressKey } from '../connections/index.js';

/** The comparison key of a login or contact email, or a 400 that says what is wrong with it. */
export function emailKey(input: string): string {
  const r = addressKey(input ?? '');
  if (!r.ok) throw invalidRequest(r.message, { field: 'email' });
  return r.key;
}
