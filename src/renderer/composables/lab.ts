/** The one lab client of the app, created at start-up and shared by every view. */
import { inject, type App, type InjectionKey } from 'vue';
import { connectLab, type LabClient } from '../client';

const LAB: InjectionKey<LabClient> = Symbol('lab');

export function provideLab(app: App, client: LabClient = connectLab()): LabClient {
  app.provide(LAB, client);
  return client;
}

export function useLab(): LabClient {
  const client = inject(LAB);
  if (!client) throw new Error('useLab() needs provideLab(app) first');
  return client;
}
