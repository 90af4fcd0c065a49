/**
 * A small `multipart/form-data` parser (RFC 7578) for bodies already in memory.
 *
 * ```ts
 * const boundary = multipartBoundary(req.headers['content-type']); // or undefined
 * const parts = parseMultipart(body, boundary!);
 * parts.find((p) => p.filename)?.data; // the uploaded file's bytes
 * ```
 */
import { HttpError } from './errors.ts';

/** One part of a multipart body. */
export interface Part {
  /** The form field name. */
  name: string;
  /** The client's file name, for file fields. */
  filename?: string;
  /** The part's Content-Type, lower-cased, without parameters. */
  contentType?: string;
  data: Buffer;
}

const bad = (why: string) => new HttpError(400, 'BAD_MULTIPART', `malformed multipart/form-data body: ${why}`);

/** The boundary of a `multipart/form-data` Content-Type header, or undefined for any other type. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary || boundary.length > 200) throw bad('missing or invalid boundary');
  return boundary;
}

/** Reads a header parameter like `name="photo"` (quoted or token) from a Content-Disposition value. */
function param(header: string, key: string): string | undefined {
  const re = new RegExp(`;\\s*${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s;]+))`, 'i');
  const m = re.exec(header);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
}

/** Splits a multipart body into its parts (throws HttpError 400 when it is malformed). */
export function parseMultipart(body: Buffer, boundary: string): Part[] {
  const open = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let pos = body.indexOf(open);
  if (pos < 0) throw bad('boundary not found');
  pos += open.length;
  const parts: Part[] = [];
  for (;;) {
    // after a boundary: "--" ends the body, CRLF starts a part
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts;
    if (body[pos] !== 0x0d || body[pos + 1] !== 0x0a) throw bad('expected CRLF after a boundary');
    pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) throw bad('part headers do not end');
    const headers = new Map<string, string>();
    for (const line of body.subarray(pos, headerEnd).toString('utf8').split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    const end = body.indexOf(delimiter, headerEnd + 4);
    if (end < 0) throw bad('closing boundary not found');
    const disposition = headers.get('content-disposition') ?? '';
    if (!/^form-data\b/i.test(disposition)) throw bad('part without Content-Disposition: form-data');
    const name = param(disposition, 'name');
    if (name === undefined) throw bad('part without a name');
    const type = headers.get('content-type');
    parts.push({
      name,
      filename: param(disposition, 'filename'),
      contentType: type ? type.split(';')[0].trim().toLowerCase() : undefined,
      data: body.subarray(headerEnd + 4, end),
    });
    pos = end + delimiter.length;
    if (parts.length > 64) throw bad('too many parts');
  }
}
