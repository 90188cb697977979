/**
 * `languageOfFile`: the VS Code language id for a file name, for the CLI (in the editor,
 * VS Code says) and for the workspace index, which reads only files it names a language for.
 * Covers the languages src/context has rules for; anything else is plaintext.
 */
import * as path from 'node:path';

const BY_EXTENSION: Readonly<Record<string, string>> = {
  '.ts': 'typescript', '.mts': 'typescript', '.cts': 'typescript',
  '.tsx': 'typescriptreact',
  '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript',
  '.jsx': 'javascriptreact',
  '.py': 'python', '.pyi': 'python',
  '.go': 'go',
  '.rs': 'rust',
  '.java': 'java',
  '.c': 'c', '.h': 'c',
  '.cc': 'cpp', '.cpp': 'cpp', '.cxx': 'cpp', '.hpp': 'cpp', '.hh': 'cpp', '.hxx': 'cpp',
  '.cs': 'csharp',
  '.rb': 'ruby',
  '.php': 'php',
  '.sh': 'shellscript', '.bash': 'shellscript', '.zsh': 'shellscript',
  '.css': 'css', '.scss': 'scss', '.less': 'less',
  '.yml': 'yaml', '.yaml': 'yaml',
  '.lua': 'lua', '.sql': 'sql', '.kt': 'kotlin', '.kts': 'kotlin', '.swift': 'swift',
  '.dart': 'dart', '.scala': 'scala', '.pl': 'perl', '.pm': 'perl', '.r': 'r', '.ps1': 'powershell',
  '.coffee': 'coffeescript',
};

export function languageOfFile(file: string): string {
  return sourceLanguageOf(file) ?? 'plaintext';
}

/** The language of a file whose extension src/context has rules for; undefined for any other. */
export function sourceLanguageOf(file: string): string | undefined {
  return BY_EXTENSION[path.extname(file).toLowerCase()];
}
