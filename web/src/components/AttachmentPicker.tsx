/**
 * Files attached to an email being written (a reply, a forward, an email from a contact's record): a
 * button that opens the file chooser, and the chosen files with their sizes and a remove button. Files
 * are read in the browser as base64, the form the API takes.
 */
export interface PickedFile {
  filename: string;
  contentType: string;
  size: number;
  contentBase64: string;
}

export const formatBytes = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`);

function readFile(f: File): Promise<PickedFile> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve({ filename: f.name, contentType: f.type || 'application/octet-stream', size: f.size, contentBase64: String(r.result).replace(/^data:[^,]*,/, '') });
    r.onerror = () => reject(r.error);
    r.readAsDataURL(f);
  });
}

/** The API's attachment shape (without the size the picker shows). */
export const toAttachments = (files: readonly PickedFile[]) => files.map(({ filename, contentType, contentBase64 }) => ({ filename, contentType, contentBase64 }));

export function AttachmentPicker({ files, onChange, label, listLabel }: { files: PickedFile[]; onChange: (files: PickedFile[]) => void; label: string; listLabel: string }) {
  return (
    <div className="attachment-picker">
      <label className="btn btn-small">
        Attach files
        <input
          type="file"
          multiple
          className="sr-only"
          aria-label={label}
          onChange={(e) => {
            const list = Array.from(e.target.files ?? []);
            e.target.value = '';
            void Promise.all(list.map(readFile)).then((read) => onChange([...files, ...read]));
          }}
        />
      </label>
      {files.length > 0 && (
        <ul className="plain small" aria-label={listLabel}>
          {files.map((f, i) => (
            <li key={`${f.filename}-${i}`}>
              {f.filename} ({formatBytes(f.size)}){' '}
              <button type="button" className="btn btn-small" aria-label={`Remove ${f.filename}`} onClick={() => onChange(files.filter((_, j) => j !== i))}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
