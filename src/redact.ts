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

/**
 * Replaces the start of a secret left at the very end of `text` with `***`: an error body is cut at its first
 * KiB, and the cut may fall inside an echoed credential, where half a token is still a leak. A start shorter
 * than 4 characters is left alone (it says nothing, and a body may well end in "Bea").
 */
export function redactCutSecret(text: string, secrets: readonly string[]): string {
  let longest = 0;
  for (const secret of secrets) {
    for (let n = Math.min(secret.length - 1, text.length); n >= 4 && n > longest; n--) {
      if (text.endsWith(secret.slice(0, n))) {
        longest = n;
        break;
      }
    }
  }
  return longest === 0 ? text : `${text.slice(0, text.length - longest)}***`;
}
