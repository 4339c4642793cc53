// The `punycode` npm package (RFC 3492), imported by its file path so that Node's deprecated builtin
// `punycode` module is never the one loaded. It ships no types of its own.
declare module 'punycode/punycode.js' {
  const punycode: {
    decode(input: string): string;
    encode(input: string): string;
    toASCII(domain: string): string;
    toUnicode(domain: string): string;
  };
  export default punycode;
}
