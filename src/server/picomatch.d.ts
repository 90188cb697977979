/**
 * The part of picomatch 2.3 (it ships no types) that workspaceRules.ts uses: a glob compiled to
 * a matcher of forward-slash paths.
 */
declare module 'picomatch' {
  interface PicomatchOptions {
    /** Let `*` and `**` match names that start with a dot. */
    dot?: boolean;
  }
  function picomatch(glob: string | readonly string[], options?: PicomatchOptions): (path: string) => boolean;
  export = picomatch;
}
