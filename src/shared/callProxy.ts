/**
 * The LabApi over any way of making a call: one async function per contract call, each resolving with the call's
 * value or throwing the error its failed CallResult names. The main process's handle on the lab process and the
 * renderer's client are both this, over their own transports and with their own error class.
 */
import { CALL_NAMES, type CallName, type CallResult, type LabApi, type LabErrorInfo } from './api';

export function callProxy(call: (name: CallName, request: unknown) => Promise<CallResult>, toError: (info: LabErrorInfo) => Error): LabApi {
  return Object.fromEntries(
    CALL_NAMES.map((name) => [
      name,
      async (request?: unknown) => {
        const result = await call(name, request);
        if (!result.ok) throw toError(result.error);
        return result.value;
      },
    ]),
  ) as unknown as LabApi;
}
