/**
 * The one entry point every transport (Electron IPC, HTTP) uses to reach the lab: validate the request against the
 * contract, call the service, and turn the outcome into a CallResult. A malformed payload never reaches the service.
 */
import { ConfigError } from '../engine/config';
import { DataError } from '../engine/data/errors';
import { StoreError } from '../store/errors';
import { CALLS, describeIssues, isCallName, LabError, type CallName, type CallResult, type LabApi, type LabErrorInfo } from '../shared/api';

export async function dispatch(api: LabApi, name: string, payload: unknown): Promise<CallResult> {
  if (!isCallName(name)) return { ok: false, error: { code: 'not-found', message: `unknown call ${JSON.stringify(name)}` } };
  const parsed = CALLS[name].request.safeParse(payload);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error);
    return { ok: false, error: { code: 'invalid-request', message: `invalid ${name} request: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems } };
  }
  try {
    const method = api[name] as (request: unknown) => Promise<unknown>;
    return { ok: true, value: await method.call(api, parsed.data) };
  } catch (error) {
    return { ok: false, error: errorInfo(error, name) };
  }
}

/** Every error as something a client can show: a code and a message, never a stack. */
export function errorInfo(error: unknown, name?: CallName): LabErrorInfo {
  if (error instanceof LabError) return error.toInfo();
  if (error instanceof ConfigError) return { code: 'invalid-config', message: error.message, problems: error.problems };
  if (error instanceof DataError) return { code: 'invalid-data', message: error.message, problems: [{ field: 'data', message: error.message }] };
  if (error instanceof StoreError) {
    if (error.code === 'UNKNOWN_RUN') return { code: 'not-found', message: error.message };
    return { code: 'internal', message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message: name ? `${name} failed: ${message}` : message };
}
