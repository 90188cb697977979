/**
 * Show Decoding Trace: a webview of the worker's recent requests, like the paper's figure —
 * the committed text with each model call's tokens in their own colour, each token underlined
 * (or, with "Shade by confidence", filled) from red to green by how sure the model was of it
 * (TraceCall.confidence; the value is in the token's hover title), tokens per call and timings;
 * a request whose suggestion was withheld says why. The page is static HTML plus media/trace.js under a strict Content Security Policy
 * (nothing remote, scripts only with this page's nonce); the data arrives by postMessage and
 * is rendered with textContent, never as HTML.
 */
import * as vscode from 'vscode';
import type { TraceResult } from '../protocol';
import { failureMessage } from './requestErrors';
import type { WorkerClient } from './workerClient';

/** Requests shown. */
const TRACE_LIMIT = 20;

type FromWebview = { readonly type: 'ready' } | { readonly type: 'refresh' };
export type ToWebview = { readonly type: 'trace'; readonly trace: TraceResult } | { readonly type: 'error'; readonly message: string };

export class TraceView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private lastRequestId: string | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly worker: WorkerClient,
  ) {
    // Refresh when the worker finishes another request while the view is open.
    this.subscriptions.push(
      worker.onDidChangeStatus((s) => {
        const id = s.report?.last?.requestId;
        if (this.panel?.visible === true && id !== undefined && id !== this.lastRequestId) void this.refresh();
      }),
    );
  }

  show(): void {
    if (this.panel !== undefined) {
      this.panel.reveal(undefined, true);
      void this.refresh();
      return;
    }
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    const panel = vscode.window.createWebviewPanel('ptp.trace', 'PTP Decoding Trace', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      localResourceRoots: [media],
    });
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(media, 'trace-icon.svg');
    panel.webview.html = traceHtml(panel.webview, media);
    panel.webview.onDidReceiveMessage((m: FromWebview) => {
      if (m.type === 'ready' || m.type === 'refresh') void this.refresh();
    });
    panel.onDidDispose(() => {
      this.panel = undefined;
    });
  }

  async refresh(): Promise<void> {
    const panel = this.panel;
    if (panel === undefined) return;
    let message: ToWebview;
    try {
      const trace = await this.worker.trace(TRACE_LIMIT);
      this.lastRequestId = trace.requests[0]?.requestId;
      message = { type: 'trace', trace };
    } catch (e) {
      message = { type: 'error', message: this.worker.isReady ? failureMessage(e) : 'The worker is not ready yet.' };
    }
    await panel.webview.postMessage(message);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}

function traceHtml(webview: vscode.Webview, media: vscode.Uri): string {
  const nonce = makeNonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(media, 'trace.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(media, 'trace.css'));
  const csp = [`default-src 'none'`, `style-src ${webview.cspSource}`, `img-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>PTP Decoding Trace</title>
</head>
<body>
<header>
  <h1>Decoding trace</h1>
  <p class="lede">Each colour is one model call: the tokens it committed. With Parallel Token Prediction one call verifies the previous call's drafts and drafts the next ones, so a call often commits several tokens.</p>
  <p class="legend">Underline: how sure the model was of each token, unsure<span class="scale"></span>sure (hover a token for its probability).</p>
  <button id="refresh" type="button">Refresh</button>
  <button id="shade" type="button">Shade by confidence</button>
</header>
<main id="requests"><p class="empty">Loading…</p></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}

/** A fresh nonce per page (the CSP allows only scripts that carry it). */
function makeNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let nonce = '';
  for (let i = 0; i < 32; i++) nonce += chars.charAt(Math.floor(Math.random() * chars.length));
  return nonce;
}
