export * from './batches';
export * from './builtin';
export * from './corpus';
export * from './errors';
export * from './heldOut';
export * from './tasks';
export * from './textCorpora';
export * from './tokenizer';
