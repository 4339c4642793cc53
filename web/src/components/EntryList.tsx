import { useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { errorText } from '../api/client.js';

/**
 * An editable list of short entries (never-log addresses and domains, allow and deny patterns): a labelled
 * input with an Add button, the entries with a Remove button each, and the server's refusal shown under
 * the input. After a removal, focus goes back to the input so keyboard users do not lose their place.
 */
export function EntryList({
  entries,
  onAdd,
  onRemove,
  inputLabel,
  placeholder,
  empty,
  listLabel,
  hint,
  disabled,
}: {
  entries: Array<{ key: string; label: string }>;
  onAdd: (value: string) => Promise<void>;
  onRemove: (key: string) => Promise<void>;
  inputLabel: string;
  placeholder?: string;
  empty: ReactNode;
  listLabel: string;
  hint?: ReactNode;
  disabled?: boolean;
}) {
  const id = useId().replace(/:/g, '');
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    const v = value.trim();
    if (!v) return;
    setBusy(true);
    setError(null);
    try {
      await onAdd(v);
      setValue('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
      input.current?.focus();
    }
  };
  const remove = async (key: string) => {
    setBusy(true);
    setError(null);
    try {
      await onRemove(key);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
      input.current?.focus();
    }
  };

  return (
    <div className="entry-list">
      <form className="entry-add" onSubmit={add}>
        <div className="field">
          <label htmlFor={`${id}-input`}>{inputLabel}</label>
          <div className="entry-add-row">
            <input
              id={`${id}-input`}
              ref={input}
              value={value}
              maxLength={320}
              placeholder={placeholder}
              onChange={(e) => setValue(e.target.value)}
              disabled={disabled}
              aria-describedby={[hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined}
              aria-invalid={error ? true : undefined}
              autoComplete="off"
            />
            <button type="submit" className="btn" disabled={busy || disabled || !value.trim()}>
              Add
            </button>
          </div>
          {hint && (
            <div className="hint" id={`${id}-hint`}>
              {hint}
            </div>
          )}
          {error && (
            <div className="field-error" id={`${id}-error`} role="alert">
              {error}
            </div>
          )}
        </div>
      </form>
      {entries.length === 0 ? (
        <p className="muted small entry-empty">{empty}</p>
      ) : (
        <ul className="entries" aria-label={listLabel}>
          {entries.map((e) => (
            <li key={e.key} className="entry">
              <span className="entry-label">{e.label}</span>
              <button type="button" className="btn btn-small" onClick={() => remove(e.key)} disabled={busy || disabled} aria-label={`Remove ${e.label}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
