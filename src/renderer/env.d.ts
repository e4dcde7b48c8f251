declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

/** Vite's ?raw imports: the file's text. */
declare module '*?raw' {
  const text: string;
  export default text;
}
