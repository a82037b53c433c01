import type { ServerResponse } from 'node:http';
import { ChangeRefusedError, MethodNotAllowedError, ShmemError } from '../errors.js';

/** The error body of every non-2xx answer: `{"error":{"code","message","hint"?}}`. */
export function errorBody(code: string, message: string, hint?: string): { error: { code: string; message: string; hint?: string } } {
  return { error: hint === undefined ? { code, message } : { code, message, hint } };
}

/** Writes `err` as the HTTP answer; returns true when it was an unexpected (500) error. */
export function sendError(res: ServerResponse, err: unknown): boolean {
  if (err instanceof ShmemError && err.httpStatus !== undefined) {
    if (err instanceof MethodNotAllowedError) res.setHeader('allow', err.allowed.join(', '));
    // A refused change says what it read, so the client can retry without another read.
    const extra = err instanceof ChangeRefusedError ? { addr: err.addr, current: err.current } : {};
    sendJson(res, err.httpStatus, { ...errorBody(err.code, err.message, err.hint), ...extra });
    return false;
  }
  sendJson(res, 500, errorBody('internal', 'internal error; see the node log'));
  return true;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
