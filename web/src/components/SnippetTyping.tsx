/**
 * Snippets by typing (issue 21, item 6): typing `/` and a snippet's shortcut in a composer offers the
 * matching snippets in a list under it. Keyboard only: Arrow down / up move through the list, Enter (or
 * Tab) inserts the chosen snippet in place of `/shortcut`, Escape closes the list (it opens again on the
 * next key typed). The composer keeps the focus all along (the list is its `aria-activedescendant`), and a
 * status line tells screen readers how many snippets match. The snippets menu of a composer stays; this
 * is a second way in.
 *
 * One hook for both kinds of composer: a plain textarea (inbox replies and comments) and the rich
 * editor (email from a contact's record), each through a small adapter that reads the text before the
 * caret and replaces the typed shortcut.
 */
import { useCallback, useId, useMemo, useState, type KeyboardEvent, type ReactNode } from 'react';

export interface TypedSnippet {
  id: string;
  name: string;
  shortcut?: string | null;
  html: string;
}

/** How a composer shows its text to the hook. */
export interface SnippetTarget {
  /** The text from the start of the current line (or text node) to the caret; null when text is selected. */
  textBeforeCaret(): string | null;
  /** Replaces the `length` characters before the caret (the typed `/shortcut`) with the snippet. */
  insert(snippet: TypedSnippet, length: number): void;
}

const MAX_SHOWN = 8;

/** The shortcut being typed just before the caret (`/` at the start or after a space, then letters), or null. */
export function typedShortcut(before: string | null): string | null {
  if (before === null) return null;
  const m = /(?:^|\s)\/([\p{L}\p{N}_.-]{0,30})$/u.exec(before);
  return m ? m[1]! : null;
}

/** The snippets for a typed shortcut: shortcuts that start with it first, then shortcuts that contain it and names with a word that starts with it. */
export function snippetsMatching<T extends TypedSnippet>(snippets: readonly T[], query: string): T[] {
  const q = query.toLowerCase();
  const starts = snippets.filter((s) => s.shortcut && s.shortcut.toLowerCase().startsWith(q));
  const contains = snippets.filter((s) => !starts.includes(s) && ((s.shortcut ?? '').toLowerCase().includes(q) || s.name.toLowerCase().split(/\s+/).some((w) => w.startsWith(q))));
  return [...starts, ...contains].slice(0, MAX_SHOWN);
}

/** The text of a snippet for a plain-text composer: paragraphs and line breaks kept, markup dropped. */
export function snippetText(html: string): string {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  for (const br of doc.querySelectorAll('br')) br.replaceWith('\n');
  const blocks = [...doc.body.children].filter((el) => /^(P|DIV|UL|OL|H[1-6]|BLOCKQUOTE|PRE)$/.test(el.tagName));
  if (blocks.length === doc.body.children.length && blocks.length > 0) return blocks.map((b) => (b.textContent ?? '').trim()).join('\n\n');
  return (doc.body.textContent ?? '').trim();
}

export function useSnippetTyping(snippets: readonly TypedSnippet[], target: SnippetTarget) {
  const listId = `snippets-${useId().replace(/:/g, '')}`;
  const [query, setQuery] = useState<string | null>(null);
  const [active, setActive] = useState(0);
  const matches = useMemo(() => (query === null ? [] : snippetsMatching(snippets, query)), [snippets, query]);
  const open = query !== null && matches.length > 0;

  /** Looks at the text before the caret again (after typing, a click, or a caret move). */
  const refresh = useCallback(() => {
    const q = snippets.length ? typedShortcut(target.textBeforeCaret()) : null;
    if (q !== query) setActive(0);
    setQuery(q);
  }, [snippets, target, query]);

  const choose = (s: TypedSnippet) => {
    target.insert(s, (query ?? '').length + 1);
    setQuery(null);
  };

  /** To call first in the composer's onKeyDown; true when the key was for the list. */
  const onKeyDown = (e: KeyboardEvent<HTMLElement>): boolean => {
    if (!open) return false;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((i) => (i + (e.key === 'ArrowDown' ? 1 : matches.length - 1)) % matches.length);
      return true;
    }
    if (e.key === 'Enter' || e.key === 'Tab') {
      e.preventDefault();
      choose(matches[Math.min(active, matches.length - 1)]!);
      return true;
    }
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      setQuery(null);
      return true;
    }
    return false;
  };

  /** To call in the composer's onKeyUp: caret moves and typing refresh the list (not the list's own keys). */
  const onKeyUp = (e: KeyboardEvent<HTMLElement>) => {
    if (['ArrowDown', 'ArrowUp', 'Enter', 'Tab', 'Escape', 'Shift'].includes(e.key)) return;
    refresh();
  };

  const activeId = open ? `${listId}-${Math.min(active, matches.length - 1)}` : undefined;
  /** ARIA for the composer: it owns the list and points at the chosen option. */
  const inputProps = {
    'aria-autocomplete': 'list' as const,
    'aria-controls': open ? listId : undefined,
    'aria-activedescendant': activeId,
    'aria-describedby': `${listId}-help`,
  };

  const list: ReactNode = (
    <>
      <span id={`${listId}-help`} className="sr-only">
        {snippets.length ? 'Type / and a snippet’s shortcut to insert it.' : ''}
      </span>
      <span className="sr-only" role="status">
        {open ? `${matches.length} snippet${matches.length === 1 ? '' : 's'} match. Arrow keys choose, Enter inserts, Escape closes.` : ''}
      </span>
      {open && (
        <div id={listId} role="listbox" aria-label="Matching snippets" className="snippet-suggestions">
          {matches.map((s, i) => (
            <div
              key={s.id}
              id={`${listId}-${i}`}
              role="option"
              tabIndex={-1}
              aria-selected={i === Math.min(active, matches.length - 1)}
              className={i === Math.min(active, matches.length - 1) ? 'active' : undefined}
              // The composer keeps the focus; a click chooses too.
              onMouseDown={(e) => {
                e.preventDefault();
                choose(s);
              }}
            >
              {s.shortcut ? <span className="snippet-shortcut">/{s.shortcut}</span> : null} <span>{s.name}</span>
            </div>
          ))}
        </div>
      )}
    </>
  );

  return { open, refresh, onKeyDown, onKeyUp, close: () => setQuery(null), inputProps, list };
}

/** The adapter for a textarea whose value is React state. */
export function textareaTarget(ref: { current: HTMLTextAreaElement | null }, setValue: (v: string) => void): SnippetTarget {
  return {
    textBeforeCaret() {
      const el = ref.current;
      if (!el || el.selectionStart !== el.selectionEnd) return null;
      const before = el.value.slice(0, el.selectionStart);
      return before.slice(before.lastIndexOf('\n') + 1);
    },
    insert(snippet, length) {
      const el = ref.current;
      if (!el) return;
      const end = el.selectionStart;
      const text = snippetText(snippet.html);
      const value = el.value.slice(0, end - length) + text + el.value.slice(end);
      setValue(value);
      const caret = end - length + text.length;
      requestAnimationFrame(() => {
        el.focus();
        el.setSelectionRange(caret, caret);
      });
    },
  };
}

/** The adapter for a contentEditable editor; `toHtml` cleans the snippet as the editor's menu does. */
export function editableTarget(ref: { current: HTMLElement | null }, toHtml: (html: string) => string): SnippetTarget {
  const caretText = (): { node: Text; offset: number } | null => {
    const sel = window.getSelection();
    const el = ref.current;
    if (!el || !sel || sel.rangeCount === 0 || !sel.isCollapsed) return null;
    const node = sel.anchorNode;
    if (!node || node.nodeType !== Node.TEXT_NODE || !el.contains(node)) return null;
    return { node: node as Text, offset: sel.anchorOffset };
  };
  return {
    textBeforeCaret() {
      const at = caretText();
      return at ? at.node.data.slice(0, at.offset) : null;
    },
    insert(snippet, length) {
      const at = caretText();
      const el = ref.current;
      if (!at || !el) return;
      const range = document.createRange();
      range.setStart(at.node, Math.max(0, at.offset - length));
      range.setEnd(at.node, at.offset);
      const sel = window.getSelection()!;
      sel.removeAllRanges();
      sel.addRange(range);
      // execCommand keeps the undo history, as the menu does.
      if (!document.execCommand('insertHTML', false, toHtml(snippet.html))) {
        range.deleteContents();
        el.innerHTML += toHtml(snippet.html);
      }
    },
  };
}
