import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, ICommandPalette, showDialog } from '@jupyterlab/apputils';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import { warningText } from './plan';
import { NotebookReviver } from './reviver';

export const CommandIDs = {
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

  for (const command of [CommandIDs.restore, CommandIDs.showPlan]) {
    palette?.addItem({ command, category: 'Kernel' });
  }
  mainMenu?.kernelMenu.addGroup(
    [{ command: CommandIDs.restore }, { command: CommandIDs.showPlan }],
    50
  );
}
