/**
 * postal-mime joins the decoded lines of every MIME part with `new Blob(chunks).arrayBuffer()` (two chunks
 * a line). On Node 20 that copies each chunk into the blob and reads them back one at a time through the
 * async stream machinery: about three quarters of the parse of an ordinary 20 KB message (issue 20). The
 * parse worker does nothing else, so its `Blob` (installed there only, by `installJoiningBlob`) keeps the
 * parts and joins them in one copy when asked for the bytes; everything else a Blob offers goes through a
 * real one. Same bytes, same API.
 */
type Part = BlobPart;

const encoder = new TextEncoder();

export function installJoiningBlob(scope: { Blob: typeof Blob } = globalThis): void {
  const RealBlob = scope.Blob;
  if ((RealBlob as unknown as { joining?: boolean }).joining) return;

  // Not constructed through the real Blob: its constructor makes every instance transferable (native
  // bookkeeping per Blob, one per decoded MIME part), which cost about as much as the joins themselves.
  // Instances still answer `instanceof Blob` (the prototype chain below) and everything a Blob offers
  // (through a real one, made on demand).
  class JoiningBlob {
    static readonly joining = true;
    readonly #parts: Part[];
    readonly #type: string;
    #bytes: Uint8Array | null = null;
    #real: Blob | null = null;

    constructor(parts: Iterable<Part> = [], options?: BlobPropertyBag) {
      this.#parts = [...parts];
      this.#type = options?.type ? String(options.type).toLowerCase() : '';
    }

    /** The parts in one buffer (null when a part is itself a Blob: then the real Blob reads it). */
    #join(): Uint8Array | null {
      if (this.#bytes) return this.#bytes;
      const views: Uint8Array[] = [];
      let size = 0;
      for (const p of this.#parts) {
        let v: Uint8Array;
        if (typeof p === 'string') v = encoder.encode(p);
        else if (p instanceof ArrayBuffer) v = new Uint8Array(p);
        else if (ArrayBuffer.isView(p)) v = new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
        else return null;
        views.push(v);
        size += v.byteLength;
      }
      const out = new Uint8Array(size);
      let at = 0;
      for (const v of views) {
        out.set(v, at);
        at += v.byteLength;
      }
      this.#bytes = out;
      return out;
    }

    #blob(): Blob {
      if (!this.#real) this.#real = new RealBlob(this.#parts, { type: this.#type });
      return this.#real;
    }

    get size(): number {
      return this.#join()?.byteLength ?? this.#blob().size;
    }

    get type(): string {
      return this.#type;
    }

    async arrayBuffer(): Promise<ArrayBuffer> {
      const bytes = this.#join();
      if (!bytes) return this.#blob().arrayBuffer();
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    }

    async bytes(): Promise<Uint8Array> {
      return new Uint8Array(await this.arrayBuffer());
    }

    async text(): Promise<string> {
      const bytes = this.#join();
      return bytes ? new TextDecoder().decode(bytes) : this.#blob().text();
    }

    slice(start?: number, end?: number, contentType?: string): Blob {
      return this.#blob().slice(start, end, contentType);
    }

    stream(): ReturnType<Blob['stream']> {
      return this.#blob().stream();
    }
  }
  Object.setPrototypeOf(JoiningBlob.prototype, RealBlob.prototype);
  Object.defineProperty(JoiningBlob.prototype, Symbol.toStringTag, { value: 'Blob' });
  scope.Blob = JoiningBlob as unknown as typeof Blob;
}
