// A small file to try completions on: npm run demo completes inside `median`.
export interface Sample {
  
}

export function mean(xs: number[]): number {
  let sum = 0;
  for (const x of xs) sum += x;
  return xs.length === 0 ? 0 : sum / xs.length;
}

export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  
}
