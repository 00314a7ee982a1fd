// The transcoded-rendition lookup of `open()` (index.js), in its own file: index.js loads it
// only when a file cannot be read or decoded, so the module as every page loads it is smaller.

/** The HLS rendition a server links to from `href` (`Link: <url>; rel="alternate"; type="application/vnd.apple.mpegurl"`). */
export async function alternateOf(href, opts) {
  let link;
  try {
    const r = await fetch(href, { method: 'HEAD', headers: opts.headers, credentials: opts.credentials });
    link = r.headers.get('link');
  } catch {
    return null;
  }
  for (const part of (link ?? '').split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!m) continue;
    const params = m[2].toLowerCase();
    if (/;\s*rel="?[^";]*\balternate\b/.test(params) && /mpegurl/.test(params)) return new URL(m[1], href).href;
  }
  return null;
}
