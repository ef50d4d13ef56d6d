import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { NotebookReviver } from './reviver';
import { StateView } from './stateView';
import { IFinding } from './tokens';

export const SHOW_STATE_COMMAND = 'jupyter-revive:show-state';

/** What the rest of the extension may ask of the Kernel State view. */
export interface IStateViewHandle {
  readonly view: StateView;
  /** Mark the save check's findings in the view and bring it up ([] only clears). */
  showFindings(panel: NotebookPanel, findings: readonly IFinding[]): void;
}

/**
 * The Kernel State view in the right side area (JupyterLab and Notebook 7 both
 * have one), its command in the palette and the View and Kernel menus, and its
 * place remembered across reloads.
 */
export function addStateView(
  app: JupyterFrontEnd,
  notebooks: INotebookTracker,
  reviverOf: (panel: NotebookPanel) => NotebookReviver | undefined,
  extras: {
    palette: ICommandPalette | null;
    mainMenu: IMainMenu | null;
    restorer: ILayoutRestorer | null;
  }
): IStateViewHandle {
  const view = new StateView({
    notebooks,
    reviverOf,
    activate: id => app.shell.activateById(id)
  });
  app.shell.add(view, 'right', { rank: 650 });
  extras.restorer?.add(view, 'jupyter-revive:state-view');

  const show = () => {
    app.shell.activateById(view.id);
    void view.refresh();
  };
  app.commands.addCommand(SHOW_STATE_COMMAND, {
    label: 'Show Kernel State',
    caption:
      "The notebook's runs as a graph: what the kernel still holds, what a restore will do",
    icon: args => (args.toolbar ? view.title.icon : undefined),
    execute: show
  });
  extras.palette?.addItem({ command: SHOW_STATE_COMMAND, category: 'Kernel' });
  extras.mainMenu?.viewMenu.addGroup([{ command: SHOW_STATE_COMMAND }], 40);
  extras.mainMenu?.kernelMenu.addGroup([{ command: SHOW_STATE_COMMAND }], 51);

  return {
    view,
    showFindings: (panel, findings) => {
      view.showFindings(panel, findings);
      if (findings.length) {
        show();
      }
    }
  };
}
