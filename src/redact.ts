/** Removes credentials from text that may reach a log, an error message or `onError`. */

/**
 * Replaces the user info of every URL in `text` with `***`, so it can be shown to a user; a URL may stand
 * anywhere (a network error quotes the URL it failed on).
 */
export function redactUrl(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@?#\s]*@/gi, '$1***@');
}

/** Replaces every occurrence of each secret in `text` with `***`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join('***');
  }
  return out;
}
