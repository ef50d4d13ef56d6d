import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { addCommands } from './commands';
import { addPromptCommands } from './promptCommands';
import { PromptCells } from './promptCell';
import { SaveChecker } from './reproducibility';
import { NotebookReviver } from './reviver';
import { addStateView } from './stateViewPlugin';
import { IReviveSettings, RecoveryMode } from './tokens';

const PLUGIN_ID = 'jupyter-revive:plugin';
const CONTEXT_EVENT = 'https://events.jupyter.org/jupyter_revive/context/v1';

function readSettings(composite: Record<string, unknown>, into: IReviveSettings): void {
  into.onOpen = (composite.onOpen as RecoveryMode) ?? 'ask';
  into.onRestart = (composite.onRestart as RecoveryMode) ?? 'ask';
  into.runAfterGenerate = composite.runAfterGenerate !== false;
  into.autoCheckpoint = composite.autoCheckpoint !== false;
  const seconds = Number(composite.autoCheckpointSeconds ?? 5);
  into.autoCheckpointSeconds = Number.isFinite(seconds) && seconds >= 0 ? seconds : 5;
  into.checkpointOnShutdown = composite.checkpointOnShutdown !== false;
  into.checkOnSave = composite.checkOnSave !== false;
  const cap = Number(composite.checkpointCapGB ?? 5);
  into.checkpointCapGB = Number.isFinite(cap) && cap >= 0 ? cap : 5;
  const model = typeof composite.model === 'string' ? composite.model.trim() : '';
  const maxTokens = Number(composite.maxTokens ?? 0);
  const temperature = composite.temperature;
  into.llm = {
    ...(model ? { model } : {}),
    ...(maxTokens > 0 ? { max_tokens: maxTokens } : {}),
    ...(typeof temperature === 'number' ? { temperature } : {})
  };
}

/**
 * Per notebook: a NotebookReviver (metadata stamping, verdict, banner, restore)
 * and its PromptCells; plus the commands, palette and menu entries.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Records kernel context in notebook metadata, restores lost state, prompt cells.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ISettingRegistry, ICommandPalette, IMainMenu, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    mainMenu: IMainMenu | null,
    restorer: ILayoutRestorer | null
  ) => {
    const settings: IReviveSettings = {
      onOpen: 'ask',
      onRestart: 'ask',
      runAfterGenerate: true,
      autoCheckpoint: true,
      autoCheckpointSeconds: 5,
      checkpointOnShutdown: true,
      checkpointCapGB: 5,
      checkOnSave: true,
      llm: {}
    };
    const revivers = new WeakMap<NotebookPanel, NotebookReviver>();
    const prompts = new WeakMap<NotebookPanel, PromptCells>();
    const stateView = addStateView(app, notebooks, panel => revivers.get(panel), {
      palette,
      mainMenu,
      restorer
    });
    // The user's settings, once read: until then a notebook opened with the app would act on
    // the defaults (`ask`), e.g. show a banner where the user chose to restore always.
    const settingsLoaded: Promise<void> = settingRegistry
      ? settingRegistry
          .load(PLUGIN_ID)
          .then(loaded => {
            const update = () =>
              readSettings(loaded.composite as Record<string, unknown>, settings);
            update();
            loaded.changed.connect(update);
          })
          .catch(reason => {
            console.error('jupyter-revive: failed to load settings', reason);
          })
      : Promise.resolve();
    notebooks.widgetAdded.connect((_, panel) => {
      const reviver = new NotebookReviver(panel, () => settings, settingsLoaded);
      revivers.set(panel, reviver);
      const cells = new PromptCells(reviver, () => settings);
      const checker = new SaveChecker(panel, () => settings, findings =>
        stateView.showFindings(panel, findings)
      );
      panel.disposed.connect(() => checker.dispose());
      prompts.set(panel, cells);
      panel.disposed.connect(() => cells.dispose());
    });
    addCommands(app, notebooks, panel => revivers.get(panel), palette, mainMenu);

    // The server tells every tab when a kernel got a new context, also when
    // another client or the server itself restarted it.
    app.serviceManager.events.stream.connect((_, emission) => {
      if (emission.schema_id !== CONTEXT_EVENT || emission.action !== 'context') {
        return;
      }
      notebooks.forEach(panel => {
        if (panel.sessionContext.session?.kernel?.id === emission.kernel_id) {
          const context = emission.context;
          revivers.get(panel)?.watcher.noteContext(
            typeof context === 'string' ? context : null
          );
        }
      });
    });
    addPromptCommands(app, notebooks, panel => prompts.get(panel), palette);
  }
};

export default [plugin];
