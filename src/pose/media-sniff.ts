// What a file is, judged by its first bytes (never its name or a client's content type).

export type MediaKind = 'image' | 'video';

export interface SniffedMedia {
  kind: MediaKind;
  /** Container/format name, also usable as a file extension. */
  format: 'jpg' | 'png' | 'bmp' | 'tiff' | 'webp' | 'mp4' | 'mov' | 'm4v' | 'avi' | 'mkv' | 'webm' | 'wmv' | 'flv';
}

/** Bytes worth reading before calling `sniffMedia`. */
export const SNIFF_BYTES = 64;

const ascii = (b: Uint8Array, at: number, len: number): string => String.fromCharCode(...b.subarray(at, at + len));

function startsWith(b: Uint8Array, sig: number[], at = 0): boolean {
  return b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);
}

export function sniffMedia(head: Uint8Array): SniffedMedia | null {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { kind: 'image', format: 'jpg' };
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'image', format: 'png' };
  if (startsWith(head, [0x42, 0x4d]) && head.length >= 26) return { kind: 'image', format: 'bmp' };
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) return { kind: 'image', format: 'tiff' };
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 4) === 'WEBP') return { kind: 'image', format: 'webp' };
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 4) === 'AVI ') return { kind: 'video', format: 'avi' };
  const box = ascii(head, 4, 4);
  if (box === 'ftyp') {
    const brand = ascii(head, 8, 4);
    if (brand === 'qt  ') return { kind: 'video', format: 'mov' };
    if (brand.startsWith('M4V')) return { kind: 'video', format: 'm4v' };
    // HEIF/AVIF stills share the ISO box layout but are images sharp may not read: not accepted as video.
    if (['heic', 'heix', 'mif1', 'msf1', 'avif', 'avis'].includes(brand)) return null;
    return { kind: 'video', format: 'mp4' };
  }
  if (['moov', 'mdat', 'wide', 'free', 'skip', 'pnot'].includes(box)) return { kind: 'video', format: 'mov' };
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) {
    return { kind: 'video', format: ascii(head, 0, Math.min(head.length, SNIFF_BYTES)).includes('webm') ? 'webm' : 'mkv' };
  }
  if (startsWith(head, [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11])) return { kind: 'video', format: 'wmv' };
  if (ascii(head, 0, 3) === 'FLV') return { kind: 'video', format: 'flv' };
  return null;
}
