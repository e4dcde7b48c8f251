/**
 * What a browser gets when it opens the web mode without the token: a page saying how to get in, instead of a
 * bare JSON error. Static text (nothing from the request goes into it) under a CSP that allows only its own style.
 */
import type { ServerResponse } from 'node:http';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>GPT Lab: open it with its address</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; color: #222; }
code { background: #f1f3f5; padding: 0.1rem 0.3rem; border-radius: 3px; }
h1 { font-size: 1.4rem; }
</style>
</head>
<body>
<h1>GPT Lab needs the address it printed</h1>
<p>This lab only answers pages opened with the random token it makes at each start, so no other page or program on
this machine can use it.</p>
<ol>
<li>Look at the terminal where GPT Lab runs (<code>npm start</code>): it printed a line like
<code>GPT Lab is running at http://127.0.0.1:PORT/?token=…</code></li>
<li>Open that whole address, token included. The browser keeps the token for this tab's session.</li>
</ol>
<p>Restarted GPT Lab? The token changed: use the new address.</p>
</body>
</html>
`;

export function sendNoTokenPage(res: ServerResponse): void {
  res.writeHead(401, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(PAGE),
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    'WWW-Authenticate': 'Bearer',
  });
  res.end(PAGE);
}
