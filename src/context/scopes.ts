/**
 * The kinds of completion scope, from shortest to longest. `scope.ts` decides which one
 * fits at the cursor; `blockSize.ts` sizes PTP calls for it. Both import this file, so
 * neither imports the other.
 */
export type Scope = 'expression' | 'line' | 'statement' | 'block';

export const SCOPES: readonly Scope[] = ['expression', 'line', 'statement', 'block'];
