import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * Call a jupyter-revive REST endpoint (`<base_url>/jupyter-revive/<endPoint>`).
 *
 * Goes through `ServerConnection.makeRequest`, so the server's token/XSRF
 * auth applies exactly as for JupyterLab's own requests. Non-2xx answers
 * reject with `ServerConnection.ResponseError` carrying the server's message.
 */
export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'jupyter-revive', endPoint);
  const response = await ServerConnection.makeRequest(url, init, settings);
  const text = await response.text();
  let data: unknown = text;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      // leave as text: the error below carries it
    }
  }
  if (!response.ok) {
    const message =
      typeof data === 'object' && data !== null && 'message' in data
        ? String((data as { message: unknown }).message)
        : String(data);
    throw new ServerConnection.ResponseError(response, message);
  }
  return data as T;
}
