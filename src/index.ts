import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { addCommands } from './commands';
import { NotebookReviver } from './reviver';
import { IReviveSettings } from './tokens';

const PLUGIN_ID = 'jupyter-revive:plugin';

/**
 * Attaches a NotebookReviver (metadata stamping, verdict, banner, recovery) to
 * every notebook and registers the restore commands.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Records kernel context in notebook metadata and restores lost state.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ISettingRegistry, ICommandPalette, IMainMenu],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    mainMenu: IMainMenu | null
  ) => {
    const settings: IReviveSettings = { onOpen: 'ask', onRestart: 'ask' };
    const revivers = new WeakMap<NotebookPanel, NotebookReviver>();
    notebooks.widgetAdded.connect((_, panel) => {
      revivers.set(panel, new NotebookReviver(panel, () => settings));
    });
    addCommands(app, notebooks, panel => revivers.get(panel), palette, mainMenu);

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(loaded => {
          const update = () => {
            Object.assign(settings, loaded.composite as Partial<IReviveSettings>);
          };
          update();
          loaded.changed.connect(update);
        })
        .catch(reason => {
          console.error('jupyter-revive: failed to load settings', reason);
        });
    }
  }
};

export default [plugin];
