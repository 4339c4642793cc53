import crypto from 'node:crypto';

/** Random, sortable-enough ids with a readable prefix (acc_, usr_, con_ ...). */
export function newId(prefix: string): string {
  const time = Date.now().toString(36).padStart(9, '0');
  const rand = crypto.randomBytes(10).toString('base64url').replace(/[-_]/g, '').slice(0, 12).padEnd(12, '0');
  return `${prefix}_${time}${rand}`;
}
