/**
 * A text file picked or dropped on New run, kept in the lab (addText) so runs name it as `text:<sha256>` and never
 * depend on the original file again. Works the same in the browser and in the desktop window.
 */
import { MAX_DATA_BYTES, type LabApi, type TextSummary } from '../../shared/api';

/** The file a drop carries, or why there is none to use. */
export function droppedFile(transfer: DataTransfer | null): File | string {
  const files = transfer?.files;
  if (!files || files.length === 0) return 'drop a file (not text or a link)';
  if (files.length > 1) return `drop one file at a time (got ${files.length})`;
  return files[0];
}

/** Uploads `file`; too large a file is refused before it is read. Errors carry a message for the form. */
export async function uploadTextFile(lab: Pick<LabApi, 'addText'>, file: File): Promise<TextSummary> {
  const name = file.name || 'dropped text';
  if (file.size > MAX_DATA_BYTES) throw new Error(`${name} is ${megabytes(file.size)}, more than the ${megabytes(MAX_DATA_BYTES)} limit`);
  return lab.addText({ name, base64: await readAsBase64(file) });
}

/** "12.3 kB · 12,345 tokens · vocabulary 64" */
export function describeUpload(text: TextSummary): string {
  const size = text.size < 1024 ? `${text.size} bytes` : text.size < 1024 * 1024 ? `${(text.size / 1024).toFixed(1)} kB` : megabytes(text.size);
  return `${size} · ${text.tokens.toLocaleString('en-US')} tokens · vocabulary ${text.vocabSize}`;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function readAsBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(new Error(`the file could not be read (${reader.error?.message ?? 'unknown error'})`));
    reader.readAsDataURL(file);
  });
}
