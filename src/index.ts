import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { NotebookReviver } from './reviver';

const PLUGIN_ID = 'jupyter-revive:plugin';

/** Attaches a NotebookReviver (metadata stamping + verdict) to every notebook. */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Records kernel context and run records in notebook metadata.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ISettingRegistry],
  activate: (
    _app: JupyterFrontEnd,
    notebooks: INotebookTracker,
    settingRegistry: ISettingRegistry | null
  ) => {
    const revivers = new WeakMap<NotebookPanel, NotebookReviver>();
    notebooks.widgetAdded.connect((_, panel) => {
      revivers.set(panel, new NotebookReviver(panel));
    });
    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).catch(reason => {
        console.error('jupyter-revive: failed to load settings', reason);
      });
    }
  }
};

export default [plugin];
