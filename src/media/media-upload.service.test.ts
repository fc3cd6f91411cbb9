import { describe, expect, it } from 'vitest';
import { safeBaseName } from './media-upload.service.ts';

describe('safeBaseName', () => {
  it.each([
    ['clip.mp4', 'clip'],
    ['My Clip (1).MOV', 'My_Clip_1'],
    ['C:\\Users\\me\\walk.v2.final.mov', 'walk.v2.final'],
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\boot.ini', 'boot'],
    ['.hidden.png', 'hidden'],
    ['name\r\nX-Injected: 1.jpg', 'name_X-Injected_1'],
    ['%2e%2e%2fa.jpg', '2e_2e_2fa'],
    ['a\u0000b.jpg', 'a_b'],
    ['--rf.jpg', 'rf'],
    ['Müller.jpg', 'M_ller'],
  ])('reduces %j to %j', (filename, expected) => {
    expect(safeBaseName(filename, 'auto')).toBe(expected);
  });

  it.each(['', '.jpg', '😀.jpg', '...', '/', 'dir/', '__.png'])('falls back to the view name for %j', (filename) => {
    expect(safeBaseName(filename, 'auto')).toBe('auto');
  });

  it('bounds the length and never ends on a separator', () => {
    expect(safeBaseName(`${'x'.repeat(300)}.mp4`, 'auto')).toBe('x'.repeat(100));
    expect(safeBaseName(`${'y'.repeat(99)} z.mp4`, 'auto')).toBe('y'.repeat(99));
  });
});
