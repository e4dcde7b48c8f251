/**
 * The child's side of the supervisor (supervisor.ts), shared by every entry in src/hosts: messages to the parent,
 * and the `fatal` handshake for a child that cannot start.
 */

export interface ParentChannel<E> {
  /** Sends a message if the parent still listens; a write that fails because it just went away is dropped. */
  send(event: E): void;
  /** Tells the parent why this child cannot start, then exits with code 1. */
  fail(message: string): never;
}

/** The channel to the parent that forked this process; exits with a usage line when nothing forked it. */
export function connectToParent<E extends { type: string }>(who: string): ParentChannel<E> {
  if (!process.send) {
    process.stderr.write(`gpt-lab ${who}: start me with child_process.fork (GPT Lab does)\n`);
    process.exit(2);
  }
  // The parent can die between the `connected` check and the write. The write then fails (EPIPE); without a callback
  // Node raises that as an uncaught 'error' and the child dies mid-work (the training host once left its run
  // 'running' with the last steps unsaved). With one the error is dropped, and 'disconnect' ends the child cleanly.
  const send = (event: E): void => {
    if (process.connected) process.send!(event, (error: Error | null) => void error);
  };
  return {
    send,
    fail(message) {
      send({ type: 'fatal', message } as unknown as E);
      process.exit(1);
    },
  };
}
