/**
 * The inbound SMTP certificate and key, read from PEM files and read again when they change (a renewed
 * certificate is picked up without a restart). `check()` is cheap (two `stat` calls): inbound SMTP asks on
 * every new connection. A pair that does not load (the key and certificate replaced one after the other,
 * caught in between; a truncated file) is not used: the previous pair stays until a later check finds a
 * good one, and the failure is logged once per change.
 */
import fs from 'node:fs';
import tls from 'node:tls';

export interface TlsPair {
  key: Buffer;
  cert: Buffer;
}

export interface TlsFiles {
  /** The pair loaded at start (throws if it does not load: a bad setting stops the process). */
  initial: TlsPair;
  /** A new pair when either file changed since the last load and the new pair is good; otherwise null. */
  check(): TlsPair | null;
}

function stamp(file: string): string {
  try {
    const s = fs.statSync(file);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return 'missing';
  }
}

function load(keyFile: string, certFile: string): TlsPair {
  const pair = { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) };
  tls.createSecureContext(pair); // throws on a bad or mismatched pair
  return pair;
}

export function tlsFiles(keyFile: string, certFile: string, onError: (err: Error) => void = () => {}): TlsFiles {
  const stamps = () => `${stamp(keyFile)}|${stamp(certFile)}`;
  let seen = stamps();
  const initial = load(keyFile, certFile);
  return {
    initial,
    check() {
      const now = stamps();
      if (now === seen) return null;
      seen = now;
      try {
        return load(keyFile, certFile);
      } catch (err) {
        // Retried on the next change; a pair caught half-replaced shows a new stamp when completed.
        onError(err as Error);
        return null;
      }
    },
  };
}
