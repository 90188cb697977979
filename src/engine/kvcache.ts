/**
 * The KV cache: per layer one key and one value buffer, sequence-major [seq, heads, headDim]
 * (MODEL_CONTRACT.md, kv_layout "batch,seq,heads,head_dim"; batch is always 1).
 *
 *   buffer:  | row 0 | row 1 | ... | row length-1 | (spare capacity) |
 *             <-- H*Dh floats per row -->
 *
 * Because rows are contiguous, the first P rows are one contiguous prefix: `view(P)` hands ORT
 * subarrays (no copy) and `crop(n)` only moves the length. Only this class touches past tensors.
 */

export interface KvShape {
  numLayers: number;
  numHeads: number;
  headDim: number;
}

/** The first `length` rows of every layer, as zero-copy subarrays ready for ORT tensors. */
export interface KvView {
  length: number;
  keys: Float32Array[];
  values: Float32Array[];
}

export class KvCache {
  readonly shape: KvShape;
  /** Floats per row: numHeads * headDim. */
  readonly rowSize: number;
  private keys: Float32Array[];
  private values: Float32Array[];
  private capacity: number;
  private used = 0;

  constructor(shape: KvShape, initialCapacity = 64) {
    this.shape = shape;
    this.rowSize = shape.numHeads * shape.headDim;
    this.capacity = Math.max(1, initialCapacity);
    this.keys = this.allocate(this.capacity);
    this.values = this.allocate(this.capacity);
  }

  /** Number of cached rows (the past length P). */
  get length(): number {
    return this.used;
  }

  /** Bytes held by the buffers (capacity, not length). */
  get bytes(): number {
    return 2 * this.shape.numLayers * this.capacity * this.rowSize * 4;
  }

  view(P: number = this.used): KvView {
    if (!Number.isInteger(P) || P < 0 || P > this.used) {
      throw new RangeError(`KvCache.view(${P}): only ${this.used} rows are cached`);
    }
    const end = P * this.rowSize;
    return {
      length: P,
      keys: this.keys.map((k) => k.subarray(0, end)),
      values: this.values.map((v) => v.subarray(0, end)),
    };
  }

  /**
   * Appends rows of one call's outputs. `newKeys[i]` / `newValues[i]` are layer i's new rows
   * ([T, heads, headDim], T = rows of that call). `rows` is either a count (the first n rows,
   * which is what the decoders keep: token rows come first) or explicit row indices.
   */
  append(newKeys: readonly Float32Array[], newValues: readonly Float32Array[], rows: number | readonly number[]): void {
    const L = this.shape.numLayers;
    if (newKeys.length !== L || newValues.length !== L) {
      throw new RangeError(`KvCache.append: expected ${L} layers, got ${newKeys.length} keys / ${newValues.length} values`);
    }
    const indices = typeof rows === 'number' ? undefined : rows;
    const n = typeof rows === 'number' ? rows : rows.length;
    const available = newKeys[0]!.length / this.rowSize;
    if (indices === undefined ? n > available : indices.some((r) => r < 0 || r >= available)) {
      throw new RangeError(`KvCache.append: asked for rows beyond the ${available} rows supplied`);
    }
    this.reserve(this.used + n);
    const rs = this.rowSize;
    const at = this.used * rs;
    for (let l = 0; l < L; l++) {
      for (const [dst, src] of [
        [this.keys[l]!, newKeys[l]!],
        [this.values[l]!, newValues[l]!],
      ] as const) {
        if (indices === undefined) {
          dst.set(src.subarray(0, n * rs), at);
        } else {
          indices.forEach((r, j) => dst.set(src.subarray(r * rs, (r + 1) * rs), at + j * rs));
        }
      }
    }
    this.used += n;
  }

  /** Keeps the first n rows. O(1): the data stays, only the length moves. */
  crop(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.used) {
      throw new RangeError(`KvCache.crop(${n}): only ${this.used} rows are cached`);
    }
    this.used = n;
  }

  /** Drops the buffers; the cache is empty and small afterwards. */
  dispose(): void {
    this.used = 0;
    this.capacity = 1;
    this.keys = this.allocate(1);
    this.values = this.allocate(1);
  }

  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const capacity = Math.max(rows, 2 * this.capacity);
    const grow = (old: Float32Array[]): Float32Array[] =>
      old.map((buf) => {
        const next = new Float32Array(capacity * this.rowSize);
        next.set(buf.subarray(0, this.used * this.rowSize));
        return next;
      });
    this.keys = grow(this.keys);
    this.values = grow(this.values);
    this.capacity = capacity;
  }

  private allocate(rows: number): Float32Array[] {
    return Array.from({ length: this.shape.numLayers }, () => new Float32Array(rows * this.rowSize));
  }
}
