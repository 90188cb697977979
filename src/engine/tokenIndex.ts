/**
 * STUB of the engine's TokenIndex (the real one lands on main); removed at the merge.
 */
export type ReferenceSource = 'open' | 'workspace';

export class TokenIndex {
  readonly maxTokens: number;
  private readonly docs = new Map<string, number>();
  private live = 0;

  constructor(options: { maxTokens?: number } = {}) {
    this.maxTokens = options.maxTokens ?? 8_000_000;
  }

  set(id: string, tokens: ArrayLike<number>): boolean {
    this.delete(id);
    if (this.live + tokens.length > this.maxTokens) return false;
    this.docs.set(id, tokens.length);
    this.live += tokens.length;
    return true;
  }

  delete(id: string): boolean {
    const n = this.docs.get(id);
    if (n === undefined) return false;
    this.live -= n;
    return this.docs.delete(id);
  }

  has(id: string): boolean {
    return this.docs.has(id);
  }

  clear(): void {
    this.docs.clear();
    this.live = 0;
  }

  get documents(): number {
    return this.docs.size;
  }

  get tokens(): number {
    return this.live;
  }

  get bytes(): number {
    return this.live * 6;
  }
}

export interface DraftReference {
  source: ReferenceSource;
  index: TokenIndex;
}
