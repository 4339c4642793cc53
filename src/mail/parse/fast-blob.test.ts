import { describe, expect, it } from 'vitest';
import { installJoiningBlob } from './fast-blob.js';

describe('the parse worker Blob (joins parts in one copy)', () => {
  const scope = { Blob: globalThis.Blob };
  installJoiningBlob(scope);
  const parts = () => [new Uint8Array([104, 105]), '\n', new Uint8Array([1, 2, 3, 4]).subarray(1, 3), new Uint8Array([0xe2, 0x82, 0xac]).buffer, 'é'];

  it('gives the same bytes, size, type and text as a real Blob', async () => {
    const mine = new scope.Blob(parts(), { type: 'Application/Octet-Stream' });
    const real = new Blob(parts(), { type: 'Application/Octet-Stream' });
    expect(mine).toBeInstanceOf(Blob);
    expect(new Uint8Array(await mine.arrayBuffer())).toEqual(new Uint8Array(await real.arrayBuffer()));
    expect(mine.size).toBe(real.size);
    expect(mine.type).toBe(real.type);
    expect(await mine.text()).toBe(await real.text());
    expect(new Uint8Array(await mine.slice(1, 4).arrayBuffer())).toEqual(new Uint8Array(await real.slice(1, 4).arrayBuffer()));
  });

  it('reads Blob parts through a real Blob, and an empty one is empty', async () => {
    const mine = new scope.Blob([new Blob(['ab']), 'c']);
    expect(await mine.text()).toBe('abc');
    expect((await new scope.Blob().arrayBuffer()).byteLength).toBe(0);
  });

  it('installs once', () => {
    const before = scope.Blob;
    installJoiningBlob(scope);
    expect(scope.Blob).toBe(before);
  });
});
