// The live webcam mode (issue 15): camera → MoveNet in this browser → keypoints to the live API → the server's angle
// and label back over the posture feed. One controller owns the page's phase; every button, message and request
// follows from it. Nothing derived from a pixel but the 17 keypoints is ever sent.
import { CameraError, openCamera } from './camera.ts';
import { Calibration, CALIBRATION_MS } from './calibration.ts';
import { EventSender } from './event-sender.ts';
import {
  describeFailure, liveApi, readApiError, toPostureEvent, type ApiClient, type ApiFailure, type LiveApi,
  type PostureEventBody, type StoredPostureEvent,
} from './live-api.ts';
import { addLiveStyles } from './live-styles.ts';
import { createLiveView, showEvent, showHistory, showSummary, type LiveView } from './live-view.ts';
import { PoseModel, type PoseFrame } from './pose-model.ts';
import { PoseRate } from './pose-rate.ts';
import { openPostureFeed } from './posture-feed.ts';
import { clearSkeleton, drawSkeleton } from './skeleton-overlay.ts';

type Phase = 'loading' | 'ready' | 'calibrating' | 'running' | 'paused' | 'busy' | 'blocked';

const DEVICE_KEY = 'postura.live.device_id';
const HISTORY_SIZE = 10;
const SIGN_IN_HREF = '#/signin';

export function mountLivePage(root: HTMLElement, ctx: { api: ApiClient }): () => void {
  addLiveStyles();
  const page = new LivePage(createLiveView(), ctx.api);
  root.replaceChildren(page.view.root);
  void page.open();
  return () => page.close();
}

class LivePage {
  private readonly api: LiveApi;
  private readonly deviceId = deviceIdOf(localStorage);
  private readonly rate = new PoseRate();
  private phase: Phase = 'loading';
  private closed = false;
  private stopCamera: (() => void) | null = null;
  private model: PoseModel | null = null;
  private feed: { close(): void } | null = null;
  private calibration: Calibration | null = null;
  private session: { id: string; sender: EventSender<PostureEventBody>; lastEventId: number; label: string | null } | null = null;
  private shownRateAt = 0;
  /** Bumped by each pose loop that starts, so a loop left waiting on a stopped camera ends instead of doubling up. */
  private loopRun = 0;

  constructor(readonly view: LiveView, client: ApiClient) {
    this.api = liveApi(client);
    const { buttons } = view;
    buttons.calibrate.addEventListener('click', () => this.calibrate());
    buttons.start.addEventListener('click', () => void this.start());
    buttons.pause.addEventListener('click', () => void this.togglePause());
    buttons.end.addEventListener('click', () => void this.end());
    buttons.retry.addEventListener('click', () => void this.open());
    addEventListener('pagehide', this.endOnUnload);
    this.render();
  }

  /** Camera, model, feed and the user's data (the shell mounts this page for a signed-in user only); run again by "Try again". */
  async open(): Promise<void> {
    this.setPhase('loading', 'Starting the camera and the pose model…');
    this.showError('');
    void this.loadAccountData();
    this.feed ??= openPostureFeed({
      wsToken: () => this.api.wsToken(),
      onEvent: (event) => this.onServerEvent(event),
      onState: (state) => {
        if (state === 'expired') this.expire();
        if (state === 'failed') this.showError('The live angles cannot be shown: too many Postura tabs are open. Close one, then reload this page.');
      },
    });
    const onCameraEnded = () => this.block('The camera stopped. Check that it is connected, then try again.', { retry: true });
    const [camera, model] = await Promise.allSettled([
      this.stopCamera ?? openCamera(this.view.video, onCameraEnded),
      this.model ?? PoseModel.load(),
    ]);
    if (camera.status === 'fulfilled') this.stopCamera = camera.value;
    if (model.status === 'fulfilled') this.model = model.value;
    if (this.closed) {
      // Left while the camera or the model was still starting: close() ran before they existed.
      this.release();
      return;
    }
    if (camera.status === 'rejected') {
      const error: unknown = camera.reason;
      this.block(error instanceof CameraError ? error.message : `The camera could not start (${errorText(error)}).`, { retry: true });
      return;
    }
    if (model.status === 'rejected') {
      this.block(`The pose model failed to load (${errorText(model.reason)}). Check the connection, then try again.`, { retry: true });
      return;
    }
    this.view.stage.style.aspectRatio = `${this.view.video.videoWidth} / ${this.view.video.videoHeight}`;
    this.setPhase('ready', 'Ready. Calibrate first: stand or sit straight, facing the camera, with your shoulders and hips in view.');
    void this.poseLoop();
  }

  close(): void {
    this.closed = true;
    removeEventListener('pagehide', this.endOnUnload);
    this.release();
    this.view.root.remove();
  }

  /** Stops what runs (camera, feed, model) and ends an open session rather than leaving it counting against the user's limit. */
  private release(): void {
    this.stopCamera?.();
    this.stopCamera = null;
    this.feed?.close();
    this.feed = null;
    this.model?.dispose();
    this.model = null;
    this.endQuietly();
  }

  private endQuietly(): void {
    if (this.session) void this.api.end(this.session.id).catch(() => {});
    this.session = null;
  }

  private async loadAccountData(): Promise<void> {
    try {
      const [calibration, sessions] = await Promise.all([this.api.latestCalibration(this.deviceId), this.api.sessions(HISTORY_SIZE)]);
      this.view.calibration.textContent = calibration ? `${calibration.baseline_angle.toFixed(1)}° (${new Date(calibration.created_at).toLocaleDateString()})` : 'not yet';
      showHistory(this.view, sessions);
    } catch (error) {
      this.fail('load your calibration and sessions', readApiError(error));
    }
  }

  private async poseLoop(): Promise<void> {
    const { video } = this.view;
    const run = ++this.loopRun;
    while (!this.closed && this.model && this.phase !== 'blocked') {
      await nextVideoFrame(video);
      if (run !== this.loopRun) return;
      const started = performance.now();
      let frame: PoseFrame | null;
      try {
        frame = await this.model.estimate(video);
      } catch (error) {
        this.block(`The pose model stopped (${errorText(error)}).`, { retry: true });
        return;
      }
      this.rate.record(started, performance.now());
      if (frame && !this.closed) this.onPose(frame);
    }
  }

  private onPose(frame: PoseFrame): void {
    const live = this.phase === 'running' || this.phase === 'paused';
    drawSkeleton(this.view.canvas, frame.keypoints, frame.width, frame.height, live ? this.session?.label ?? null : null);
    this.showRate();
    const event = toPostureEvent(frame.keypoints, frame.width, frame.height, Date.now());
    if (this.phase === 'calibrating' && this.calibration) {
      this.calibration.add(event.keypoints);
      const left = Math.ceil((CALIBRATION_MS - (performance.now() - this.calibration.startedAt)) / 1000);
      if (this.calibration.isDone(performance.now())) void this.finishCalibration(this.calibration);
      else this.say(`Stand straight and still: ${left} s`);
    }
    if (this.phase === 'running' && this.session) {
      this.session.sender.offer(event);
      this.view.sent.textContent = String(this.session.sender.sent);
    }
  }

  private calibrate(): void {
    this.calibration = new Calibration(performance.now());
    this.setPhase('calibrating', `Stand straight and still: ${CALIBRATION_MS / 1000} s`);
  }

  private async finishCalibration(calibration: Calibration): Promise<void> {
    this.calibration = null;
    const result = calibration.result();
    if ('problem' in result) {
      this.setPhase('ready', 'Calibration did not finish.');
      this.showError(result.problem);
      return;
    }
    this.setPhase('busy', 'Saving your calibration…');
    try {
      await this.api.calibrate(result.baseline, this.deviceId);
      this.view.calibration.textContent = `${result.baseline.toFixed(1)}° (now)`;
      this.showError('');
      this.setPhase('ready', `Calibrated: your upright spine angle is ${result.baseline.toFixed(1)}°. Start a session when you are ready.`);
      this.view.buttons.start.focus();
    } catch (error) {
      this.setPhase('ready', 'Calibration was not saved.');
      this.fail('save the calibration', readApiError(error));
    }
  }

  private async start(): Promise<void> {
    this.setPhase('busy', 'Starting a session…');
    try {
      const id = await this.api.start(this.deviceId);
      const sender = new EventSender<PostureEventBody>({
        post: (event) => this.api.postEvent(id, event),
        onFailure: (failure) => this.onSendFailure(failure),
      });
      this.session = { id, sender, lastEventId: 0, label: null };
      showEvent(this.view, null);
      showSummary(this.view, null);
      this.showError('');
      this.setPhase('running', 'Session running: keep working as usual, Postura labels your posture as you go.');
      this.view.buttons.pause.focus();
    } catch (error) {
      this.setPhase('ready', 'The session did not start.');
      this.fail('start a session', readApiError(error));
    }
  }

  private async togglePause(): Promise<void> {
    if (!this.session) return;
    const pausing = this.phase === 'running';
    this.setPhase('busy', pausing ? 'Pausing…' : 'Resuming…');
    try {
      await this.session.sender.settle();
      await this.api.setPaused(this.session.id, pausing);
      this.setPhase(pausing ? 'paused' : 'running', pausing ? 'Paused: nothing is sent until you resume.' : 'Session running again.');
    } catch (error) {
      this.setPhase(pausing ? 'running' : 'paused', pausing ? 'The session was not paused.' : 'The session was not resumed.');
      this.fail(pausing ? 'pause the session' : 'resume the session', readApiError(error));
    }
    this.view.buttons.pause.focus();
  }

  private async end(): Promise<void> {
    const session = this.session;
    if (!session) return;
    const resumeTo = this.phase;
    this.setPhase('busy', 'Ending the session…');
    try {
      await session.sender.settle();
      this.view.sent.textContent = String(session.sender.sent);
      const summary = await this.api.end(session.id);
      this.session = null;
      showSummary(this.view, summary);
      this.setPhase('ready', `Session ended after ${Math.round(summary.total_seconds)} s. Its summary is below.`);
      this.view.root.querySelector<HTMLElement>('#live-summary-title')!.focus();
      const reading = this.rate.read();
      if (reading) void this.api.reportFps(this.deviceId, reading.perSecond).catch(() => {});
      void this.loadAccountData();
    } catch (error) {
      this.setPhase(resumeTo, 'The session is still open.');
      this.fail('end the session', readApiError(error));
    }
  }

  private onServerEvent(event: StoredPostureEvent): void {
    const session = this.session;
    if (!session || event.session_id !== session.id || event.id <= session.lastEventId) return;
    session.lastEventId = event.id;
    session.label = event.label;
    showEvent(this.view, event);
  }

  private onSendFailure(failure: ApiFailure): void {
    if (failure.status === 401) this.expire();
    else if (failure.status === 429) this.showError(`Postura asked this page to slow down, so a few poses were not sent. ${failure.message}`);
    else if (failure.status === 409 && /ended/i.test(failure.detail)) {
      this.session = null;
      this.setPhase('ready', 'This session was ended elsewhere.');
    } else this.showError(describeFailure('send a pose', failure));
  }

  private fail(action: string, failure: ApiFailure): void {
    if (failure.status === 401) this.expire();
    else this.showError(describeFailure(action, failure));
  }

  private expire(): void {
    this.block('Your sign-in has expired. Sign in again to continue.', { signIn: true });
  }

  /** A state the page cannot leave by itself: says why, and offers the one way out. */
  private block(message: string, options: { retry?: boolean; signIn?: boolean }): void {
    this.stopCamera?.();
    this.stopCamera = null;
    // With no poses coming, a running session would only record a gap: it ends, with what it measured.
    if (this.session) {
      this.endQuietly();
      if (!options.signIn) void this.loadAccountData();
    }
    clearSkeleton(this.view.canvas);
    this.view.buttons.retry.hidden = !options.retry;
    this.showError(message, options.signIn ? SIGN_IN_HREF : undefined);
    this.setPhase('blocked', options.retry ? 'Live mode stopped.' : 'Live mode is not available.');
  }

  private setPhase(phase: Phase, status: string): void {
    this.phase = phase;
    this.say(status);
    if (phase !== 'blocked') this.view.buttons.retry.hidden = true;
    this.render();
  }

  private render(): void {
    const { buttons } = this.view;
    const live = this.phase === 'running' || this.phase === 'paused';
    buttons.calibrate.disabled = this.phase !== 'ready';
    buttons.start.disabled = this.phase !== 'ready';
    buttons.pause.disabled = !live;
    buttons.end.disabled = !live;
    buttons.pause.textContent = this.phase === 'paused' ? 'Resume' : 'Pause';
  }

  /** The live region is written only when its words change: every write may be read out again. */
  private say(status: string): void {
    if (this.view.status.textContent !== status) this.view.status.textContent = status;
  }

  private showError(message: string, signInHref?: string): void {
    const { error } = this.view;
    if (error.textContent === (signInHref ? `${message} Sign in` : message)) return;
    error.textContent = message;
    if (signInHref) error.append(' ', Object.assign(document.createElement('a'), { href: signInHref, textContent: 'Sign in' }));
  }

  private showRate(): void {
    const now = performance.now();
    const reading = this.rate.read();
    if (!reading || now - this.shownRateAt < 1000) return;
    this.shownRateAt = now;
    const field = this.view.poseRate;
    field.textContent = `${reading.perSecond.toFixed(1)} poses/s`;
    field.dataset.perSecond = reading.perSecond.toFixed(2);
    field.dataset.inferenceMs = reading.inferenceMs.toFixed(1);
    field.dataset.total = String(reading.total);
  }

  /** A closing tab cannot await a request; keepalive lets the end reach the server after the page is gone. */
  private readonly endOnUnload = (): void => {
    if (!this.session) return;
    void fetch(`/api/sessions/${this.session.id}/end/`, {
      method: 'POST', keepalive: true, headers: { 'content-type': 'application/json' }, body: '{}',
    }).catch(() => {});
    this.session = null;
    // Kept in the back-forward cache, the page may be shown again: it must not claim a session is running.
    this.setPhase('ready', 'The session ended when you left the page.');
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Resolves on the video's next new frame: a frame is never estimated twice, and a hidden tab does no work. */
function nextVideoFrame(video: HTMLVideoElement): Promise<void> {
  return new Promise((resolve) => {
    if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(() => resolve());
    else requestAnimationFrame(() => resolve());
  });
}

/** This browser's device id, so the server labels its sessions by the calibration made on this camera. */
function deviceIdOf(storage: Storage): string {
  let id = storage.getItem(DEVICE_KEY);
  if (!id) {
    id = `web-${crypto.randomUUID()}`;
    storage.setItem(DEVICE_KEY, id);
  }
  return id;
}
