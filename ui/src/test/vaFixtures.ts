// Reads the golden fixtures (`tests/fixtures/va/`): every payload example of the VA Bot
// Integration API reference and the LiveChat handoff spec, kept verbatim. The documents' own
// slips (non-breaking spaces, `//` comments, an unquoted e-mail address) are repaired here and
// nowhere else, the same way as the Rust tests' loader.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const fixtureDir = join(__dirname, '../../../tests/fixtures/va');

/** The documents' JSON, repaired just enough to parse. */
export function parseDocumentJson(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (/\s/.test(c)) {
      out += c === '\n' ? '\n' : ' ';
    } else {
      out += c;
    }
  }
  // `"emailId": beth.anglin@example.com,`: a bare address becomes a string.
  out = out.replace(/:\s*([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+)\s*([,}])/g, ': "$1"$2');
  return JSON.parse(out);
}

/** Every fixture whose name ends with `suffix`, parsed, by file name. */
export function fixtures(suffix: string): [string, Record<string, unknown>][] {
  return readdirSync(fixtureDir)
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => [f, parseDocumentJson(readFileSync(join(fixtureDir, f), 'utf8')) as Record<string, unknown>]);
}
