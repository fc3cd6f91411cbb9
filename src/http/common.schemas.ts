import { Type } from 'typebox';

/** Family A ("studio") error body: `error` and `message` plus a machine `code`, sometimes more fields. */
export const StudioError = Type.Object(
  {
    error: Type.String({ description: 'What went wrong, as the studio service said it' }),
    message: Type.String({ description: 'A sentence to show the user; the same text as `error` unless more is known' }),
    code: Type.String({ description: 'Stable machine code' }),
  },
  { additionalProperties: true, $id: 'StudioError' },
);

/** Family B ("live") error body, Django REST style. */
export const LiveError = Type.Object({ detail: Type.String(), code: Type.String() }, { $id: 'LiveError' });

export const studioErrors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, Type.Ref('StudioError')]));
export const liveErrors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, Type.Ref('LiveError')]));
