/** Every command the extension contributes (package.json contributes.commands lists the same ids). */
export const Commands = {
  generateCode: 'ptp.generateCode',
  toggleCompletions: 'ptp.toggleCompletions',
  toggleLanguage: 'ptp.toggleCompletionsForLanguage',
  snooze: 'ptp.snooze',
  cancelSnooze: 'ptp.cancelSnooze',
  showTrace: 'ptp.showTrace',
  showLog: 'ptp.showLog',
  selectModel: 'ptp.selectModel',
  restartWorker: 'ptp.restartWorker',
  statusMenu: 'ptp.statusMenu',
  openSettings: 'ptp.openSettings',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];
