/**
 * The one place that decides what a failed worker request means:
 * cancellation and a lost connection are "no completion", a missing model is something the
 * person must act on, anything else is a log line. Pure: works on the error's code and text.
 */
import { ErrorCodes as PtpErrorCodes } from '../protocol';

export type RequestFailure = 'cancelled' | 'disconnected' | 'modelNotLoaded' | 'timeout' | 'rejected' | 'other';

/** JSON-RPC / LSP codes (vscode-jsonrpc ErrorCodes, LSPErrorCodes). */
const REQUEST_CANCELLED = -32800;
const CONTENT_MODIFIED = -32801;
const SERVER_CANCELLED = -32802;
const MESSAGE_WRITE_ERROR = -32099;
const PENDING_RESPONSE_REJECTED = -32097;
const CONNECTION_INACTIVE = -32096;

export function classifyFailure(error: unknown): RequestFailure {
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
  switch (code) {
    case REQUEST_CANCELLED:
    case CONTENT_MODIFIED:
    case SERVER_CANCELLED:
      return 'cancelled';
    case MESSAGE_WRITE_ERROR:
    case PENDING_RESPONSE_REJECTED:
    case CONNECTION_INACTIVE:
      return 'disconnected';
    case PtpErrorCodes.ModelNotLoaded:
      return 'modelNotLoaded';
    case PtpErrorCodes.Timeout:
      return 'timeout';
    case PtpErrorCodes.DocumentRejected:
      return 'rejected';
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/cancel/i.test(message)) return 'cancelled';
  // vscode-languageclient while stopped or restarting.
  if (/not running|connection (got )?(disposed|closed)|stopped|Client is not/i.test(message)) return 'disconnected';
  return 'other';
}

export function failureMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) return String((error as { message: unknown }).message);
  return String(error);
}
