import { describe, expect, it } from 'vitest';
import { objectKeys } from '../infra/object-store/object-keys.ts';
import { MemoryObjectStore } from '../infra/object-store/memory-object-store.ts';
import { MediaUploadService, safeBaseName } from './media-upload.service.ts';

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

describe('sweepAbandoned', () => {
  it('deletes the pending files of uploads older than the age given, and nothing else', async () => {
    const store = new MemoryObjectStore({} as never); // signs no URLs here
    const uploads = new MediaUploadService({
      store, analyses: {} as never, queue: {} as never, models: () => ['cx'], profiles: () => ['stance'], maxFileBytes: 1024,
    });
    const now = Date.UTC(2026, 10, 30, 12);
    const hour = 3600 * 1000;
    const old = uploads.stage(now - 25 * hour);
    const fresh = uploads.stage(now - hour);
    for (const upload of [old, fresh]) {
      await store.putBuffer(objectKeys.pendingUpload(upload.id, 'front.jpg'), Buffer.from('x'));
      await store.putBuffer(objectKeys.pendingUpload(upload.id, 'left.mp4'), Buffer.from('y'));
    }
    await store.putBuffer('videos/u1/s1/cx_front.jpg', Buffer.from('kept'));

    expect(await uploads.sweepAbandoned(24 * hour, now)).toBe(2);
    expect((await store.list('')).map((o) => o.key)).toEqual([
      objectKeys.pendingUpload(fresh.id, 'front.jpg'), objectKeys.pendingUpload(fresh.id, 'left.mp4'), 'videos/u1/s1/cx_front.jpg',
    ]);
  });
});
