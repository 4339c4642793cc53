/**
 * Generated raw messages for the parser tests (no corpus files: the suite must run without
 * /work/shared). Each builder returns a Buffer with CRLF line endings.
 */

export function crlf(lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

export function simple(headers: Record<string, string> = {}, body = 'Hello there.\r\n'): Buffer {
  const h = {
    From: 'Ann Example <Ann@Example.COM>',
    To: 'support@shop.example',
    Subject: 'Hello',
    'Message-ID': '<abc.123@example.com>',
    Date: 'Mon, 3 Jan 2022 10:00:00 +0100',
    ...headers,
  };
  const lines = Object.entries(h)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}: ${v}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8'), Buffer.from(body, 'utf8')]);
}

/** About `bytes` of format=flowed text: ~76-character lines ending in a space (one giant paragraph). */
export function flowedMessage(bytes: number): Buffer {
  const line = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod te ';
  const count = Math.ceil(bytes / (line.length + 2));
  const body = Array.from({ length: count }, () => line).join('\r\n') + '\r\n';
  return Buffer.concat([
    crlf([
      'From: flow@example.com',
      'To: support@shop.example',
      'Subject: flowed',
      'Message-ID: <flowed@example.com>',
      'Date: Mon, 3 Jan 2022 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes',
      '',
      '',
    ]),
    Buffer.from(body),
  ]);
}

const fixtureHeader = (name: string, subject: string) => [`From: ${name}@example.com`, 'To: support@shop.example', `Subject: ${subject}`, `Message-ID: <${name}@example.com>`, 'Date: Mon, 3 Jan 2022 10:00:00 +0000', 'MIME-Version: 1.0'];

/** One multipart/mixed with `n` small sibling parts (alternating text and tiny attachments); `header`: its top-level lines but Content-Type. */
export function manyPartsMessage(n: number, header: readonly string[] = fixtureHeader('parts', 'many parts')): Buffer {
  const parts: string[] = [
    ...header,
    'Content-Type: multipart/mixed; boundary="SIB"',
    '',
    'preamble',
  ];
  for (let i = 0; i < n; i++) {
    parts.push('--SIB');
    if (i % 2 === 0) {
      parts.push('Content-Type: text/plain; charset=us-ascii', '', `part ${i}`);
    } else {
      parts.push(`Content-Type: application/octet-stream; name="f${i}.bin"`, 'Content-Transfer-Encoding: base64', '', 'AAEC');
    }
  }
  parts.push('--SIB--', '');
  return crlf(parts);
}

/** `depth` nested multiparts, each holding a text part and the next level; a sibling text part follows the bomb. */
export function deepNestingMessage(depth: number, header: readonly string[] = fixtureHeader('deep', 'nesting bomb')): Buffer {
  const lines: string[] = [
    ...header,
    'Content-Type: multipart/mixed; boundary="top"',
    '',
    '--top',
    'Content-Type: text/plain',
    '',
    'before the bomb',
    '--top',
    'Content-Type: multipart/mixed; boundary="b0"',
    '',
  ];
  for (let i = 0; i < depth; i++) {
    lines.push(`--b${i}`, 'Content-Type: text/plain', '', `level ${i}`, `--b${i}`, `Content-Type: multipart/mixed; boundary="b${i + 1}"`, '');
  }
  lines.push(`--b${depth}`, 'Content-Type: text/plain', '', 'the bottom', `--b${depth}--`);
  for (let i = depth - 1; i >= 0; i--) lines.push(`--b${i}--`);
  lines.push('--top', 'Content-Type: text/plain', '', 'after the bomb', '--top--', '');
  return crlf(lines);
}

/** ISO-2022-JP bytes for the given JIS X 0208 row/cell byte pairs (as a flat list), wrapped in ESC $ B ... ESC ( B. */
export function jis(...pairs: number[]): Buffer {
  return Buffer.from([0x1b, 0x24, 0x42, ...pairs, 0x1b, 0x28, 0x42]);
}
/** テスト */
export const JIS_TESUTO = jis(0x25, 0x46, 0x25, 0x39, 0x25, 0x48);
/** こんにちは */
export const JIS_KONNICHIWA = jis(0x24, 0x33, 0x24, 0x73, 0x24, 0x4b, 0x24, 0x41, 0x24, 0x4f);
