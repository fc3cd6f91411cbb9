// The user-facing camera, 640×480 when the device offers it (MoveNet Lightning sees 192 pixels: more costs time and
// buys nothing). Its frames stay in the <video> element and the model's crop canvas; they are never sent anywhere.

export type CameraProblem = 'denied' | 'missing' | 'busy' | 'unsupported';

export class CameraError extends Error {
  constructor(readonly problem: CameraProblem, message: string) {
    super(message);
    this.name = 'CameraError';
  }
}

/**
 * Starts the camera into `video`; returns a function that stops it. `onEnded` runs if the camera stops by itself
 * (unplugged, taken by the system): the page would otherwise wait for frames that never come.
 * @throws CameraError
 */
export async function openCamera(video: HTMLVideoElement, onEnded: () => void): Promise<() => void> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new CameraError('unsupported', 'This browser offers no camera here. Open Postura over https (or on localhost) in a current browser.');
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 480 } },
      audio: false,
    });
  } catch (error) {
    throw cameraError(error);
  }
  const tracks = stream.getVideoTracks();
  tracks.forEach((track) => track.addEventListener('ended', onEnded));
  const stop = () => tracks.forEach((track) => {
    track.removeEventListener('ended', onEnded);
    track.stop();
  });
  video.srcObject = stream;
  try {
    await video.play();
  } catch (error) {
    stop();
    throw cameraError(error);
  }
  return () => {
    stop();
    video.srcObject = null;
  };
}

function cameraError(error: unknown): CameraError {
  const name = error instanceof Error ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return new CameraError('denied', 'Camera permission was denied. Allow the camera for this site in the browser settings, then try again.');
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    return new CameraError('missing', 'No camera was found. Connect a camera, then try again.');
  }
  if (name === 'NotReadableError' || name === 'AbortError') {
    return new CameraError('busy', 'The camera is in use by another application or could not start. Close it there, then try again.');
  }
  return new CameraError('unsupported', `The camera could not start (${error instanceof Error ? error.message : String(error)}).`);
}
