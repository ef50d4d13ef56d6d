import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { promptIcon } from './icons';
import { PromptCells } from './promptCell';

export const PromptCommandIDs = {
  insert: 'jupyter-revive:insert-prompt',
  generate: 'jupyter-revive:generate',
  stop: 'jupyter-revive:stop-generate'
} as const;

/** Commands for prompt cells; toolbar buttons and shortcuts come from schema/plugin.json. */
export function addPromptCommands(
  app: JupyterFrontEnd,
  notebooks: INotebookTracker,
  promptsOf: (panel: NotebookPanel) => PromptCells | undefined,
  palette: ICommandPalette | null
): void {
  const current = (): PromptCells | undefined => {
    const panel = notebooks.currentWidget;
    return panel ? promptsOf(panel) : undefined;
  };

  app.commands.addCommand(PromptCommandIDs.insert, {
    label: args => (args.toolbar ? 'Prompt' : 'Insert Prompt Cell'),
    icon: args => (args.toolbar ? promptIcon : undefined),
    caption: 'Insert an LLM prompt cell that sees the live kernel’s variables',
    isEnabled: () => !!current(),
    execute: () => current()?.insertPrompt()
  });
  app.commands.addCommand(PromptCommandIDs.generate, {
    label: 'Generate Code from Prompt',
    caption: 'Stream code for the active prompt cell into the code cell below it',
    isEnabled: () => !!current()?.activePrompt(),
    execute: async () => {
      const prompts = current();
      const cell = prompts?.activePrompt();
      return cell ? prompts!.generate(cell) : null;
    }
  });
  app.commands.addCommand(PromptCommandIDs.stop, {
    label: 'Stop Generating',
    isEnabled: () => !!current()?.activePrompt(),
    execute: () => {
      const prompts = current();
      const cell = prompts?.activePrompt();
      if (cell) {
        prompts!.stop(cell);
      }
    }
  });
  for (const command of Object.values(PromptCommandIDs)) {
    palette?.addItem({ command, category: 'Notebook Operations' });
  }
}
