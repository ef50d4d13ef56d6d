import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { GenerateEvent, ILLMOptions } from './tokens';

export interface IGenerateRequest {
  prompt: string;
  cell_id: string;
  notebook: unknown;
  kernel_id: string | null;
  /** Feedback for a regeneration, e.g. names that turned out not to exist. */
  feedback?: string;
  /** Model choices the server lets clients make (never the base URL or key). */
  options?: ILLMOptions;
}

/**
 * Stream `POST generate` (newline-delimited JSON events) to `onEvent`.
 * Aborting `signal` closes the request; the server then cancels the upstream
 * LLM call. Resolves with the last event (done or error).
 */
export async function streamGenerate(
  request: IGenerateRequest,
  onEvent: (event: GenerateEvent) => void,
  signal: AbortSignal,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<GenerateEvent> {
  const url = URLExt.join(settings.baseUrl, 'jupyter-revive', 'generate');
  let last: GenerateEvent = {
    type: 'error',
    kind: 'connection',
    message: 'The server closed the stream before the answer was complete.'
  };
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      url,
      { method: 'POST', body: JSON.stringify(request), signal },
      settings
    );
  } catch (reason) {
    if (signal.aborted) {
      return { type: 'error', kind: 'cancelled', message: 'Stopped.' };
    }
    return { type: 'error', kind: 'connection', message: String(reason) };
  }
  if (!response.ok || !response.body) {
    let message = `The server answered ${response.status}.`;
    try {
      const data = (await response.json()) as { message?: string };
      message = data.message ?? message;
    } catch {
      // keep the status line
    }
    last = { type: 'error', kind: 'server', message };
    onEvent(last);
    return last;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        break;
      }
      buffer += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) {
          last = JSON.parse(line) as GenerateEvent;
          onEvent(last);
        }
      }
    }
  } catch (reason) {
    if (signal.aborted) {
      return { type: 'error', kind: 'cancelled', message: 'Stopped.' };
    }
    last = { type: 'error', kind: 'connection', message: String(reason) };
    onEvent(last);
  }
  return last;
}

/**
 * The code inside a streamed answer so far: the body of the first fenced block
 * if one has started, else the text itself (the model is asked for one block).
 */
export function codeSoFar(text: string): string {
  const open = text.match(/```[\w+-]*[^\S\n]*\n/);
  if (!open || open.index === undefined) {
    return text.trimStart().startsWith('`') ? '' : text;
  }
  const body = text.slice(open.index + open[0].length);
  const close = body.indexOf('```');
  return close >= 0 ? body.slice(0, close).replace(/\n$/, '') : body;
}
