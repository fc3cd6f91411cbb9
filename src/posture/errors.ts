// Typed input errors of the posture core; the HTTP layer maps every PostureInputError to a 400 with its message.

export type PostureErrorCode =
  | 'invalid_keypoints'
  | 'missing_keypoints'
  | 'angle_out_of_range'
  | 'unknown_profile'
  | 'invalid_view'
  | 'invalid_option';

/** Base class: bad caller input (never a bug in the core), so always a 4xx at the edge. */
export class PostureInputError extends Error {
  readonly code: PostureErrorCode;

  constructor(code: PostureErrorCode, message: string) {
    super(message);
    this.name = 'PostureInputError';
    this.code = code;
  }
}

/** Keypoints that cannot be read (wrong shape, non-numeric values) or lack points a computation requires. */
export class KeypointInputError extends PostureInputError {
  constructor(message: string, code: 'invalid_keypoints' | 'missing_keypoints' = 'invalid_keypoints') {
    super(code, message);
    this.name = 'KeypointInputError';
  }
}

/** The live spine angle fell outside [0, 90]: the keypoints describe no plausible upright-ish body. */
export class AngleOutOfRangeError extends PostureInputError {
  constructor() {
    super('angle_out_of_range', 'Computed angle out of range');
    this.name = 'AngleOutOfRangeError';
  }
}

export function isPostureInputError(error: unknown): error is PostureInputError {
  return error instanceof PostureInputError;
}
