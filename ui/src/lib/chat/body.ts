// The VA reference's response body elements → a small typed union the chat renders. Lenient on purpose:
// a field may be missing, a number may arrive as a string, an object as a JSON string. Anything
// unrecognised becomes an `unknown` part with a readable summary instead of breaking the chat.

export interface ChoiceOption {
  label: string;
  value: string;
  enabled: boolean;
  description: string | null;
  image: string | null;
}

export type Part =
  | { kind: 'text'; text: string }
  | { kind: 'html'; html: string; height: number | null }
  | { kind: 'link'; header: string | null; label: string; url: string }
  | { kind: 'image'; url: string; alt: string }
  | { kind: 'card'; title: string | null; subtitle: string | null; fields: [string, string][]; url: string | null }
  | { kind: 'grouped'; header: string | null; items: { label: string; description: string | null; url: string | null }[] }
  | { kind: 'choice'; control: 'Picker' | 'TopicPickerControl' | 'Boolean'; prompt: string; options: ChoiceOption[]; multi: boolean; carousel: boolean; required: boolean }
  | { kind: 'date'; control: 'Date' | 'DateTime' | 'Time'; label: string; required: boolean }
  | { kind: 'input'; label: string; secure: boolean; required: boolean }
  | { kind: 'upload'; label: string; maxCount: number | null; maxSizeMb: number | null }
  | { kind: 'typing'; on: boolean }
  | { kind: 'spinner'; message: string; waitTime: string | null }
  | { kind: 'unknown'; uiType: string; summary: string };

/**
 * A body element's text, as the product documents send it: `value` (the VA reference's
 * examples), else `message` (the LiveChat handoff spec's OutputText, AgentControl,
 * EndConversation and error payloads), else the element's label or prompt.
 */
function textOf(raw: Obj): string {
  return str(raw.value) ?? str(raw.message) ?? str(raw.label) ?? str(raw.promptMsg) ?? '';
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function num(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

function bool(v: unknown, fallback = false): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return fallback;
}

/** An object that may have been sent as a JSON string. */
function obj(v: unknown): Obj | null {
  if (isObj(v)) return v;
  if (typeof v === 'string') {
    try {
      const parsed: unknown = JSON.parse(v);
      return isObj(parsed) ? parsed : null;
    } catch {
      return null;
    }
  }
  return null;
}

/** Only web links are rendered as links or images; anything else is shown as text. */
export function webUrl(v: unknown): string | null {
  const s = str(v)?.trim();
  return s && /^https?:\/\//i.test(s) && !/\s/.test(s) ? s : null;
}

/**
 * The sanitised HTML with each image's address moved from `src` to `data-remote-src`, so that
 * showing the message fetches nothing (the window's CSP refuses remote images anyway); the page
 * offers "Load image" for each instead (`remoteImages`). A template's content is inert: parsing
 * it here loads nothing either.
 */
export function holdRemoteImages(html: string): string {
  if (typeof document === 'undefined') return html;
  const t = document.createElement('template');
  t.innerHTML = html;
  for (const img of Array.from(t.content.querySelectorAll('img'))) {
    const src = img.getAttribute('src');
    img.removeAttribute('src');
    img.removeAttribute('srcset');
    const url = webUrl(src);
    if (url) img.setAttribute('data-remote-src', url);
  }
  return t.innerHTML;
}

function options(v: unknown): ChoiceOption[] {
  const list = Array.isArray(v) ? v : isObj(v) ? Object.values(v) : [];
  return list.filter(isObj).map((o) => {
    const value = str(o.value) ?? str(o.label) ?? '';
    return {
      label: str(o.label) ?? value,
      value,
      enabled: bool(o.enabled, true),
      description: str(o.description),
      image: webUrl(o.attachment),
    };
  });
}

function cardParts(data: Obj | null): { title: string | null; subtitle: string | null; fields: [string, string][]; url: string | null } {
  if (!data) return { title: null, subtitle: null, fields: [], url: null };
  const title = str(data.title) ?? str(data.header) ?? str(data.name);
  const subtitle = str(data.subtitle) ?? str(data.subheader) ?? str(data.description);
  const url = webUrl(data.url) ?? webUrl(data.link);
  const skip = new Set(['title', 'header', 'name', 'subtitle', 'subheader', 'description', 'url', 'link']);
  const fields: [string, string][] = [];
  for (const [k, v] of Object.entries(data)) {
    if (skip.has(k)) continue;
    if (Array.isArray(v)) {
      for (const f of v.filter(isObj)) {
        const label = str(f.label) ?? str(f.name);
        const value = str(f.value);
        if (label && value !== null) fields.push([label, value]);
      }
    } else {
      const value = str(v);
      if (value !== null) fields.push([k, value]);
    }
  }
  return { title, subtitle, fields, url };
}

export function toPart(raw: unknown): Part {
  if (!isObj(raw)) return { kind: 'unknown', uiType: typeof raw, summary: str(raw) ?? '' };
  const uiType = str(raw.uiType) ?? '';
  const label = str(raw.label) ?? str(raw.promptMsg) ?? '';
  switch (uiType) {
    case 'OutputText':
      return { kind: 'text', text: textOf(raw) };
    case 'OutputHtml':
      return { kind: 'html', html: str(raw.value) ?? '', height: num(raw.height) };
    case 'OutputLink': {
      const value = obj(raw.value);
      const url = webUrl(value?.action) ?? webUrl(raw.value);
      if (!url) return { kind: 'text', text: label || (str(raw.header) ?? '') };
      return { kind: 'link', header: str(raw.header), label: label || url, url };
    }
    case 'OutputImage': {
      const url = webUrl(raw.value);
      return url ? { kind: 'image', url, alt: label || 'Image from the agent' } : { kind: 'unknown', uiType, summary: label };
    }
    case 'OutputCard':
      return { kind: 'card', ...cardParts(obj(raw.data) ?? obj(raw.value)) };
    case 'GroupedPartsOutputControl': {
      const value = Array.isArray(raw.values) ? raw.values : Array.isArray(raw.value) ? raw.value : [];
      return {
        kind: 'grouped',
        header: str(raw.header) ?? (label || null),
        items: value.filter(isObj).map((p) => ({
          label: str(p.label) ?? str(p.title) ?? '',
          description: str(p.description),
          url: webUrl(p.action) ?? webUrl(obj(p.value)?.action),
        })),
      };
    }
    case 'Picker':
    case 'TopicPickerControl':
    case 'Boolean': {
      let opts = options(raw.options);
      if (uiType === 'Boolean' && opts.length === 0) {
        opts = [
          { label: 'Yes', value: 'true', enabled: true, description: null, image: null },
          { label: 'No', value: 'false', enabled: true, description: null, image: null },
        ];
      }
      return {
        kind: 'choice',
        control: uiType,
        prompt: str(raw.promptMsg) ?? str(raw.label) ?? '',
        options: opts,
        multi: bool(raw.multiSelect),
        carousel: str(raw.style) === 'carousel' || str(raw.itemType) === 'Picture',
        required: bool(raw.required),
      };
    }
    case 'Date':
    case 'DateTime':
    case 'Time':
      return { kind: 'date', control: uiType, label, required: bool(raw.required) };
    case 'InputText':
      return { kind: 'input', label, secure: str(raw.maskType)?.toUpperCase() === 'SECURE', required: bool(raw.required) };
    case 'FileUpload':
      return { kind: 'upload', label, maxCount: num(raw.maxCount), maxSizeMb: num(raw.maxSize) };
    case 'ActionMsg': {
      const action = str(raw.actionType) ?? '';
      if (action === 'StartTypingIndicator') return { kind: 'typing', on: true };
      if (action === 'EndTypingIndicator') return { kind: 'typing', on: false };
      if (action === 'StartSpinner') {
        return { kind: 'spinner', message: str(raw.message) ?? 'Please wait…', waitTime: str(raw.waitTime) };
      }
      return { kind: 'text', text: str(raw.message) ?? textOf(raw) };
    }
    default:
      return { kind: 'unknown', uiType: uiType || 'unknown', summary: textOf(raw) };
  }
}

/** Agent name and avatar from any body element that carries `agentInfo`. */
export function agentFrom(body: unknown[]): { name: string | null; avatar: string | null } | null {
  for (const el of body) {
    const info = isObj(el) ? obj(el.agentInfo) : null;
    if (info) return { name: str(info.agentName), avatar: webUrl(info.agentAvatar) };
  }
  return null;
}
