/**
 * `encodeInSlices`: tokenizes a long text a chunk at a time, with an IdleGate turn before each
 * chunk, so that a 500 KB file does not hold the worker's thread for the ~400 ms one encode
 * call takes (about 0.8 µs a character with the shipped tokenizer; a chunk is a few ms).
 *
 * The pieces give the same tokens as the whole text. A byte-level BPE pre-tokenizer (GPT-2's
 * pattern) makes a line break between two non-space characters a piece of its own, "\n" or
 * "\r" "\n", and merges never cross pieces, so a cut just before that "\n" changes nothing:
 *
 *   "x = 1;\nreturn x"  ->  "x = 1;" | "\nreturn x"        ("x = 1;\r" | "\nreturn x" for CRLF)
 *
 * A chunk with no such place (one very long line) runs on to the next one.
 */
import type { IdleGate } from './idleGate';

/** The tokenizer side of a loaded model (Engine.encode). */
export interface Encoder {
  encode(text: string): number[];
}

/** Characters per chunk: about 3 ms of encoding. */
export const CHUNK_CHARS = 4096;

/**
 * The token ids of `text`, encoded in chunks between gate turns; undefined when `stopped()`
 * says so at a turn (the caller has moved on: a new model, the index dropped).
 */
export async function encodeInSlices(text: string, encoder: Encoder, gate: IdleGate, stopped: () => boolean): Promise<number[] | undefined> {
  const ids: number[] = [];
  let start = 0;
  for (const end of chunkEnds(text, CHUNK_CHARS)) {
    await gate.turn();
    if (stopped()) return undefined;
    for (const id of encoder.encode(text.slice(start, end))) ids.push(id);
    start = end;
  }
  return ids;
}

/** Where each chunk of `text` ends (the last one at text.length): cuts about `size` apart. */
export function chunkEnds(text: string, size: number): number[] {
  const ends: number[] = [];
  let start = 0;
  while (text.length - start > size) {
    const cut = cutBefore(text, start + size, start) ?? cutAfter(text, start + size);
    if (cut === undefined) break;
    ends.push(cut);
    start = cut;
  }
  ends.push(text.length);
  return ends;
}

/** The last clean cut in (floor, from]. */
function cutBefore(text: string, from: number, floor: number): number | undefined {
  for (let i = from; i > floor; i--) if (isCleanCut(text, i)) return i;
  return undefined;
}

/** The first clean cut after `from`. */
function cutAfter(text: string, from: number): number | undefined {
  for (let i = text.indexOf('\n', from); i >= 0; i = text.indexOf('\n', i + 1)) if (isCleanCut(text, i)) return i;
  return undefined;
}

/** A "\n" at i with a non-space character after it and one before it (or before its "\r"). */
function isCleanCut(text: string, i: number): boolean {
  if (text[i] !== '\n' || !isCode(text[i + 1])) return false;
  return isCode(text[i - 1]) || (text[i - 1] === '\r' && isCode(text[i - 2]));
}

function isCode(ch: string | undefined): boolean {
  return ch !== undefined && !/\s/.test(ch);
}
