import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, ICommandPalette, Notification, showDialog } from '@jupyterlab/apputils';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import { formatBytes } from './checkpoint';
import { summarizeNames, warningText } from './plan';
import { NotebookReviver } from './reviver';

export const CommandIDs = {
  checkpoint: 'jupyter-revive:checkpoint',
  restore: 'jupyter-revive:restore',
  showPlan: 'jupyter-revive:show-plan'
} as const;

/** Commands, palette and Kernel menu entries for keyboard users and other extensions. */
export function addCommands(
  app: JupyterFrontEnd,
  notebooks: INotebookTracker,
  reviverOf: (panel: NotebookPanel) => NotebookReviver | undefined,
  palette: ICommandPalette | null,
  mainMenu: IMainMenu | null
): void {
  const current = (): NotebookReviver | undefined => {
    const panel = notebooks.currentWidget;
    return panel ? reviverOf(panel) : undefined;
  };
  const enabled = () => !!current()?.panel.sessionContext.session?.kernel;

  app.commands.addCommand(CommandIDs.restore, {
    label: 'Restore Kernel State',
    caption: 'Re-run the minimal set of cells that rebuilds the lost variables',
    isEnabled: enabled,
    execute: async () => {
      const reviver = current();
      return reviver ? reviver.restore() : null;
    }
  });

  app.commands.addCommand(CommandIDs.checkpoint, {
    label: 'Checkpoint Kernel State',
    caption: "Save the kernel's variables (signed) so that a restore loads them instead of re-running",
    isEnabled: enabled,
    execute: async () => {
      const reviver = current();
      if (!reviver) {
        return null;
      }
      const id = Notification.emit('Checkpointing kernel state…', 'in-progress', {
        autoClose: false
      });
      try {
        const answer = await reviver.checkpoint();
        const skipped = answer.skipped.length
          ? `; not saved: ${summarizeNames(answer.skipped.map(s => s.name))} (${answer.skipped[0].reason})`
          : '';
        Notification.update({
          id,
          message:
            `Checkpoint of ${summarizeNames(answer.saved)}: ${formatBytes(answer.bytes)}` + skipped,
          type: 'success',
          autoClose: 6000
        });
        return answer;
      } catch (reason) {
        Notification.update({
          id,
          message: `Checkpoint failed: ${String(reason)}`,
          type: 'error',
          autoClose: false
        });
        return null;
      }
    }
  });

  app.commands.addCommand(CommandIDs.showPlan, {
    label: 'Show Restore Plan',
    caption: 'Show which cells a restore would run, and why',
    isEnabled: enabled,
    execute: async () => {
      const reviver = current();
      if (!reviver) {
        return;
      }
      const plan = await reviver.refreshPlan();
      if (!plan) {
        return;
      }
      const body = new Widget();
      body.addClass('jp-revive-PlanDialog');
      const list = document.createElement('ol');
      for (const step of plan.cells) {
        const item = document.createElement('li');
        item.textContent = `Cell ${step.index + 1}: ${step.reason}`;
        list.appendChild(item);
      }
      body.node.appendChild(
        Object.assign(document.createElement('p'), {
          textContent: plan.cells.length
            ? `Restores ${plan.names.join(', ')} by running:`
            : 'Nothing to restore: the kernel holds every recorded variable.'
        })
      );
      body.node.appendChild(list);
      for (const w of plan.warnings) {
        body.node.appendChild(
          Object.assign(document.createElement('p'), {
            className: 'jp-revive-PlanDialog-warning',
            textContent: warningText(w)
          })
        );
      }
      await showDialog({
        title: 'Restore plan',
        body,
        buttons: [Dialog.okButton({ label: 'Close' })]
      });
    }
  });

  const commands = [CommandIDs.checkpoint, CommandIDs.restore, CommandIDs.showPlan];
  for (const command of commands) {
    palette?.addItem({ command, category: 'Kernel' });
  }
  mainMenu?.kernelMenu.addGroup(
    commands.map(command => ({ command })),
    50
  );
}
