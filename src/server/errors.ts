/**
 * HTTP errors of the voxface server: every failure answers JSON `{ "error": "…", "code": "…" }` with a
 * status that says whose fault it is.
 *
 * ```ts
 * throw new HttpError(400, 'BAD_ARGUMENT', 'faces must be "all" or "largest"');
 * const { status, body } = errorResponse(new VoxfaceError('NO_FACE', 'no face found')); // 422
 * ```
 */
import { VoxfaceError } from '../types.ts';

/** An error that already knows its HTTP status (and optional extra headers, e.g. Retry-After). */
export class HttpError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** HTTP status for each `VoxfaceError` code. */
export const STATUS_OF_CODE: Record<VoxfaceError['code'], number> = {
  NOT_AN_IMAGE: 415,
  TRUNCATED_IMAGE: 400,
  IMAGE_TOO_LARGE: 413,
  NO_FACE: 422,
  BAD_ARGUMENT: 400,
  MODEL_ERROR: 500,
  IO_ERROR: 500,
};

/** The JSON error body. */
export interface ErrorBody {
  error: string;
  code: string;
}

/**
 * Status, headers and body for any thrown value. Unknown errors become a 500 whose message does not leak
 * internals (the caller logs the original).
 *
 *   const { status, headers, body } = errorResponse(e);
 */
export function errorResponse(e: unknown): { status: number; headers: Record<string, string>; body: ErrorBody } {
  if (e instanceof HttpError) return { status: e.status, headers: e.headers, body: { error: e.message, code: e.code } };
  if (e instanceof VoxfaceError) {
    const status = STATUS_OF_CODE[e.code] ?? 500;
    const error = status >= 500 ? 'the server could not process this photo' : e.message;
    return { status, headers: {}, body: { error, code: e.code } };
  }
  return { status: 500, headers: {}, body: { error: 'internal server error', code: 'INTERNAL' } };
}
