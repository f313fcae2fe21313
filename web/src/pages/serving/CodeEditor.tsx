// A Python code editor (CodeMirror 6) with a field's label, hint and error. The editor lives in a
// shadow root: there CodeMirror's styles go into a constructed style sheet, which the platform's
// Content-Security-Policy (style-src 'self', no inline <style>) allows; in the document it would add a
// <style> element that the policy refuses.
import type { EditorView } from 'codemirror';
import type { VNode } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export interface CodeEditorProps {
  /** The editable element's test id; the label is tied to it by `aria-labelledby`. */
  id: string;
  label: string;
  /** The text the editor opens with; from then on the editor holds the text and reports each change. */
  value: string;
  onValue: (value: string) => void;
  hint?: string;
  error?: string | undefined;
}

// Custom properties inherit into the shadow root: the editor follows the app's light and dark schemes.
const THEME = {
  '&': { fontSize: '13px', border: '1px solid var(--color-border)', borderRadius: '6px', backgroundColor: 'var(--color-surface)', color: 'var(--color-text)' },
  '&.cm-focused': { outline: '2px solid var(--color-focus)', outlineOffset: '1px' },
  '.cm-scroller': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', minHeight: '16rem', maxHeight: '28rem' },
  '.cm-gutters': { backgroundColor: 'var(--color-surface-muted)', color: 'var(--color-text-muted)', borderRight: '1px solid var(--color-border)' },
  '.cm-content': { caretColor: 'var(--color-text)' },
};

export function CodeEditor({ id, label, value, onValue, hint, error }: CodeEditorProps): VNode {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onValueRef = useRef(onValue);
  onValueRef.current = onValue;
  const valueRef = useRef(value);
  valueRef.current = value;

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const root = element.shadowRoot ?? element.attachShadow({ mode: 'open' });
    const parent = document.createElement('div');
    root.replaceChildren(parent);
    let gone = false;
    // CodeMirror is loaded with the editor (its own chunk), not with every page.
    void Promise.all([import('codemirror'), import('@codemirror/lang-python')]).then(([{ EditorView, basicSetup }, { python }]) => {
      if (gone) return;
      view.current = new EditorView({
        doc: valueRef.current,
        root,
        parent,
        extensions: [
          basicSetup,
          python(),
          EditorView.theme(THEME),
          EditorView.contentAttributes.of({ 'aria-label': label, 'data-testid': id }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) onValueRef.current(update.state.doc.toString());
          }),
        ],
      });
    });
    return () => {
      gone = true;
      view.current?.destroy();
      view.current = null;
    };
  }, []);

  return (
    <div class={error ? 'field field--invalid' : 'field'}>
      <span class="field__label" id={`${id}-label`}>
        {label}
      </span>
      <div class="code-editor" ref={host} data-testid={`${id}-editor`} />
      {hint && (
        <p class="field__hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field__error" id={`${id}-error`} data-testid={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}
