// Types for the untyped `espeak-ng` package (Emscripten build of the espeak-ng CLI).
declare module 'espeak-ng' {
  interface ESpeakNgModuleOptions {
    arguments: string[];
    print?: (text: string) => void;
    printErr?: (text: string) => void;
  }
  interface ESpeakNgModule {
    FS: { readFile(path: string): Uint8Array };
  }
  export default function ESpeakNg(options: ESpeakNgModuleOptions): Promise<ESpeakNgModule>;
}
