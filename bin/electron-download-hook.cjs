// Preloaded into Electron's install.js (node --require): it prints only err.stack, and Node's fetch keeps the
// reason a download failed (DNS, refused connection, TLS, proxy) in err.cause, so "fetch failed" would be all the
// user learns. Put the cause into the message.
const realFetch = globalThis.fetch;
globalThis.fetch = async function fetchWithCause(...args) {
  try {
    return await realFetch.apply(this, args);
  } catch (error) {
    const cause = error && error.cause && (error.cause.message || error.cause.code);
    if (!cause) throw error;
    throw new TypeError(`${error.message} (${cause})`, { cause: error.cause });
  }
};
