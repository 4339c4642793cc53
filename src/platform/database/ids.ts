import crypto from 'node:crypto';

/**
 * Random bytes drawn from a pool refilled 4 KB at a time: one system call per ~400 ids instead of one per
 * id (ingest makes two ids per message).
 */
const POOL = 4096;
let pool = Buffer.alloc(0);
let at = POOL;
function random(n: number): Buffer {
  if (at + n > pool.length) {
    pool = crypto.randomBytes(POOL);
    at = 0;
  }
  at += n;
  return pool.subarray(at - n, at);
}

/** Random, sortable-enough ids with a readable prefix (acc_, usr_, con_ ...). */
export function newId(prefix: string): string {
  const time = Date.now().toString(36).padStart(9, '0');
  const rand = random(10).toString('base64url').replace(/[-_]/g, '').slice(0, 12).padEnd(12, '0');
  return `${prefix}_${time}${rand}`;
}
