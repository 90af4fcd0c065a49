/**
 * `Content-Disposition: attachment` for any file name (RFC 6266): the name itself as `filename*=UTF-8''…` (RFC 8187
 * percent-encoding), and an ASCII fallback `filename="…"` for clients that read only that one. HTTP headers carry
 * Latin-1 at most (Node refuses anything else with ERR_INVALID_CHAR), so the header is pure ASCII whatever the name.
 *
 * ```ts
 * attachment('照片_Фото.glb'); // `attachment; filename="file.glb"; filename*=UTF-8''%E7%85%A7%E7%89%87_%D0%A4%D0%BE%D1%82%D0%BE.glb`
 * attachment('Ü.glb');         // `attachment; filename="U.glb"; filename*=UTF-8''%C3%9C.glb`
 * attachment('face.glb');      // `attachment; filename="face.glb"; filename*=UTF-8''face.glb`
 * ```
 */

/**
 * The ASCII stand-in of a file name: accents dropped (Ü → U), every other run of characters outside printable ASCII,
 * and `"`, `\`, `%`, `/`, as one `_`; a name left with no letter or digit before its first dot is called "file"
 * (`照片.face1.glb` → `file.face1.glb`).
 */
export function asciiFileName(name: string): string {
  let out = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^\x20-\x7e]+|["\\%/]+/g, '_')
    .replace(/_{2,}/g, '_');
  const dot = out.indexOf('.');
  const stem = dot < 0 ? out : out.slice(0, dot);
  if (!/[A-Za-z0-9]/.test(stem)) out = 'file' + (dot < 0 ? '' : out.slice(dot));
  return out;
}

/** RFC 8187 `ext-value` characters left as they are (attr-char); everything else is %XX of its UTF-8 bytes. */
function encodeExtValue(s: string): string {
  return encodeURIComponent(s).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** The Content-Disposition value of an attachment named `name` (any Unicode). */
export function attachment(name: string): string {
  return `attachment; filename="${asciiFileName(name)}"; filename*=UTF-8''${encodeExtValue(name)}`;
}
