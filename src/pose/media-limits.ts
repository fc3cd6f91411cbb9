// How many pixels one piece of media may bring in. A 2 MB JPEG can declare 12000×12000 px and cost gigabytes once
// decoded, so size on disk says nothing: these bounds are checked on the declared frame size, at upload (the media
// check) and again by every decoder, for a file that reached storage another way.

/** Pixels of one image (width × height): 40 MP holds any phone or DSLR photo of a person. */
export const MAX_IMAGE_PIXELS = 40_000_000;

/** Longest side of a video frame in pixels: 8K (7680) fits; beyond it no camera a user holds records. */
export const MAX_VIDEO_SIDE = 8192;

