/**
 * Real texts that ship with the lab as resource files, named like the generated corpora (`builtin:NAME`).
 * The engine reads no files: the lab supplies the text (src/lab/corpusLoader.ts), and the split is the contiguous
 * one every text file gets (the first 90% trains, the tail validates), as nanoGPT's prepare.py does — a real text
 * has no generator to draw a disjoint validation set from, and a contiguous tail shares no lines with the head.
 */
export const BUILTIN_TEXTS = {
  shakespeare: {
    file: 'tinyshakespeare.txt',
    description: "Tiny Shakespeare: 1.1 MB of the plays' dialogue (Karpathy's char-rnn corpus, public domain), 65 characters.",
  },
} as const;
export type BuiltinTextName = keyof typeof BUILTIN_TEXTS;
export const BUILTIN_TEXT_NAMES = Object.keys(BUILTIN_TEXTS) as BuiltinTextName[];

/** The shipped text a `builtin:NAME` source names, or undefined for anything else. */
export function resolveBuiltinText(source: string): BuiltinTextName | undefined {
  const name = source.startsWith('builtin:') ? source.slice('builtin:'.length) : undefined;
  return name !== undefined && (BUILTIN_TEXT_NAMES as string[]).includes(name) ? (name as BuiltinTextName) : undefined;
}
