import type { LabService } from '../../src/service/labService';
import type { LabEvent } from '../../src/shared/api';

/** Resolves with the first event that matches; rejects after timeoutMs. */
export function nextEvent(service: Pick<LabService, 'subscribe'>, match: (event: LabEvent) => boolean, timeoutMs = 60_000): Promise<LabEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('timed out waiting for an event'));
    }, timeoutMs);
    const off = service.subscribe((event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}
