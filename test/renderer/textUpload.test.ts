/** New run's picked or dropped files (the upload itself runs in Chromium: test/e2e/upload.e2e.test.ts). */
import { describe, expect, it, vi } from 'vitest';
import { describeUpload, droppedFile, uploadTextFile } from '../../src/renderer/composables/textUpload';
import { MAX_DATA_BYTES } from '../../src/shared/api';

const transfer = (files: File[]) => ({ files: Object.assign(files, { item: (i: number) => files[i] }) }) as unknown as DataTransfer;

describe('a dropped file', () => {
  it('is the one file of the drop, or says why there is none', () => {
    const file = new File(['abc'], 'a.txt');
    expect(droppedFile(transfer([file]))).toBe(file);
    expect(droppedFile(transfer([]))).toBe('drop a file (not text or a link)');
    expect(droppedFile(null)).toBe('drop a file (not text or a link)');
    expect(droppedFile(transfer([file, new File(['d'], 'b.txt')]))).toBe('drop one file at a time (got 2)');
  });
});

describe('uploading', () => {
  it('refuses a file over the limit before reading or sending it', async () => {
    const addText = vi.fn();
    const huge = { name: 'big.txt', size: MAX_DATA_BYTES + 1 } as File;
    await expect(uploadTextFile({ addText }, huge)).rejects.toThrow('big.txt is 50.0 MB, more than the 50.0 MB limit');
    expect(addText).not.toHaveBeenCalled();
  });

  it('describes what was stored: size, tokens, vocabulary', () => {
    expect(describeUpload({ source: 's', name: 'a.txt', size: 12_595, tokens: 12_345, vocabSize: 64 })).toBe('12.3 kB · 12,345 tokens · vocabulary 64');
    expect(describeUpload({ source: 's', name: 'a.txt', size: 3 * 1024 * 1024, tokens: 9, vocabSize: 2 })).toBe('3.0 MB · 9 tokens · vocabulary 2');
    expect(describeUpload({ source: 's', name: 'a.txt', size: 14, tokens: 12, vocabSize: 9 })).toBe('14 bytes · 12 tokens · vocabulary 9');
  });
});
