// Bun resolves `import x from "./y.wasm" with { type: "file" }` to the file's path (embedded in
// compiled binaries); TypeScript needs to be told.
declare module "*.wasm" {
  const path: string;
  export default path;
}

// `import x from "./y.rego" with { type: "text" }` gives the file's text (embedded at build time).
declare module "*.rego" {
  const text: string;
  export default text;
}
