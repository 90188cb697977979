/**
 * The status bar item: what the worker is doing and how fast, in the words a person needs.
 *
 *   $(loading~spin) PTP          loading the model (or starting the worker)
 *   $(sparkle) PTP 38 ms · 3.4   ready; last round trip and tokens per model call
 *   $(sync~spin) PTP             generating
 *   $(error) PTP                 the worker failed (tooltip says why; click for the menu)
 *   $(sparkle) PTP $(warning) CPU  ready, but ptp.model.device's provider did not load (tooltip: what to install)
 *   $(circle-slash) PTP          off (globally, for this language, or snoozed)
 *
 * The tooltip has the model, the last request's numbers and, when the worker showed nothing,
 * why (the confidence rule withheld it: statusTooltip.ts).
 * Clicking opens the menu (statusMenu.ts).
 */
import * as vscode from 'vscode';
import type { Activity } from './activity';
import { Commands } from './commandIds';
import type { SettingsStore } from './settings';
import type { Snooze } from './snooze';
import { escapeMarkdown as escape, indexLine, lastRequestMarkdown, newerStats } from './statusTooltip';
import type { WorkerClient } from './workerClient';

/** Inline requests shorter than this do not flash the spinner. */
const SPINNER_DELAY_MS = 150;

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('ptp.status', vscode.StatusBarAlignment.Right, 100);
  private readonly subscriptions: vscode.Disposable[] = [];
  private spinnerTimer: ReturnType<typeof setTimeout> | undefined;
  private snoozeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly worker: WorkerClient,
    private readonly settings: SettingsStore,
    private readonly activity: Activity,
    private readonly snooze: Snooze,
  ) {
    this.item.name = 'PTP Complete';
    this.item.command = Commands.statusMenu;
    this.subscriptions.push(
      worker.onDidChangeStatus(() => this.render()),
      settings.onDidChange(() => this.render()),
      activity.onDidChange(() => this.onActivity()),
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
    );
    this.render();
    this.item.show();
  }

  /** Re-render now and when the snooze ends. */
  snoozeChanged(): void {
    if (this.snoozeTimer !== undefined) clearTimeout(this.snoozeTimer);
    const left = this.snooze.remainingMs();
    if (left > 0) this.snoozeTimer = setTimeout(() => this.render(), left + 50);
    this.render();
  }

  /** The text shown now (tests read it). */
  get text(): string {
    return this.item.text;
  }

  /** The tooltip's markdown now (tests read it). */
  get tooltip(): string {
    const t = this.item.tooltip;
    return t === undefined ? '' : typeof t === 'string' ? t : t.value;
  }

  private onActivity(): void {
    if (this.activity.inFlight('generate') > 0 || this.activity.inFlight() === 0) {
      this.render();
      return;
    }
    if (this.spinnerTimer === undefined) {
      this.spinnerTimer = setTimeout(() => {
        this.spinnerTimer = undefined;
        this.render();
      }, SPINNER_DELAY_MS);
    }
  }

  render(): void {
    const status = this.worker.status;
    const languageId = vscode.window.activeTextEditor?.document.languageId;
    const settings = this.settings.current;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.isTrusted = false;
    this.item.backgroundColor = undefined;
    const report = status.report;
    const stats = newerStats(report?.last, this.activity.lastStats);
    const latency = this.activity.lastLatencyMs;

    if (!settings.enable) {
      this.item.text = '$(circle-slash) PTP';
      tooltip.appendMarkdown('**PTP Complete** is off. Click to turn it on.');
    } else if (languageId !== undefined && !this.settings.enabledFor(languageId)) {
      this.item.text = '$(circle-slash) PTP';
      tooltip.appendMarkdown(`**PTP Complete** is off for \`${languageId}\`.`);
    } else if (status.phase === 'error' || status.phase === 'stopped') {
      this.item.text = '$(error) PTP';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
      tooltip.appendMarkdown(`**PTP Complete**: ${escape(status.error ?? 'the worker is not running')}\n\nClick for the log and Restart Worker.`);
    } else if (status.phase === 'starting' || status.phase === 'loading') {
      this.item.text = '$(loading~spin) PTP';
      tooltip.appendMarkdown(status.phase === 'starting' ? '**PTP Complete**: starting the worker…' : '**PTP Complete**: loading the model…');
    } else if (this.activity.inFlight() > 0) {
      this.item.text = '$(sync~spin) PTP';
      tooltip.appendMarkdown('**PTP Complete**: generating…');
    } else if (this.snooze.active) {
      this.item.text = '$(circle-slash) PTP';
      tooltip.appendMarkdown(`**PTP Complete** is snoozed for ${Math.ceil(this.snooze.remainingMs() / 60000)} more minute(s).`);
    } else {
      const parts = ['$(sparkle) PTP'];
      if (latency !== undefined) parts.push(`${Math.round(latency)} ms`);
      if (stats !== undefined) parts.push(`· ${stats.tokensPerCall.toFixed(1)}`);
      if (report?.model?.deviceNote !== undefined) {
        parts.push('$(warning) CPU');
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      }
      this.item.text = parts.join(' ');
      tooltip.appendMarkdown('**PTP Complete**: ready');
    }
    if (report?.model !== undefined) {
      const m = report.model;
      tooltip.appendMarkdown(`\n\nModel \`${escape(m.name)}\` (${(m.parameters / 1e6).toFixed(1)}M parameters) on ${escape(m.device)}, ${m.threads} thread(s)`);
      if (m.deviceNote !== undefined) tooltip.appendMarkdown(`\n\n$(warning) ${escape(m.deviceNote)}`);
    }
    if (stats !== undefined) tooltip.appendMarkdown(`\n\n${lastRequestMarkdown(stats, latency)}`);
    if (report !== undefined) {
      tooltip.appendMarkdown(`\n\n${report.served} served, ${report.cancelled} cancelled; worker memory ${(report.rssBytes / 2 ** 20).toFixed(0)} MiB`);
      const drafts = indexLine(report.index);
      if (drafts !== undefined) tooltip.appendMarkdown(`\n\n${drafts}`);
    }
    this.item.tooltip = tooltip;
  }

  dispose(): void {
    if (this.spinnerTimer !== undefined) clearTimeout(this.spinnerTimer);
    if (this.snoozeTimer !== undefined) clearTimeout(this.snoozeTimer);
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }
}
