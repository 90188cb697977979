/**
 * Shared test helpers: cursor-marker fixtures and documents parsed with the real grammars.
 */
import type { SyntaxDocument } from '../../src/context';
import { DocumentStore } from '../../src/context';

/** `'foo(|)'` -> text `'foo()'`, offset 4. The marker must occur exactly once. */
export function cursorFixture(fixture: string, marker = '|'): { text: string; offset: number } {
  const offset = fixture.indexOf(marker);
  if (offset < 0 || fixture.indexOf(marker, offset + 1) >= 0) {
    throw new Error(`fixture must contain the marker ${JSON.stringify(marker)} exactly once: ${JSON.stringify(fixture)}`);
  }
  return { text: fixture.slice(0, offset) + fixture.slice(offset + marker.length), offset };
}

export const logLines: string[] = [];
const store = new DocumentStore({ log: (line) => logLines.push(line) });
let counter = 0;

/** A document with a tree (for languages with a grammar), freshly opened. */
export function openDocument(languageId: string, text: string): Promise<SyntaxDocument> {
  return store.open(`file:///fixture-${counter++}`, languageId, text);
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
