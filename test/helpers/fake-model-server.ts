import { SERVICE_SUBJECT } from '../../src/auth/token.service.ts';
import { startModelServer, type ModelServer, type ModelServerOptions } from '../../src/model-server/model-server.ts';
import { FakePoseEstimator, fakeStandingPose } from '../../src/pose/pose-estimator.ts';

export interface FakeModelServer extends ModelServer {
  /** Every frame the server ran inference on. */
  estimator: FakePoseEstimator;
}

/**
 * The real model-server protocol in front of a fake estimator (cx and gy), so analyses sent to it take no real
 * inference. Without `verifyWsToken` any token is taken as the service's: token checks are tested elsewhere.
 * `beforeEstimate` runs before each frame's answer (await a gate there to hold an analysis mid-flight).
 */
export async function startFakeModelServer(options: {
  port?: number;
  verifyWsToken?: ModelServerOptions['verifyWsToken'];
  beforeEstimate?: () => Promise<void>;
} = {}): Promise<FakeModelServer> {
  const estimator = new FakePoseEstimator(['cx', 'gy'], async (image, opts) => {
    await options.beforeEstimate?.();
    return fakeStandingPose(image.width, image.height, opts.model);
  });
  const server = await startModelServer({
    estimator, models: ['cx', 'gy'], host: '127.0.0.1', port: options.port ?? 0,
    verifyWsToken: options.verifyWsToken ?? (async (token) => (token ? { userId: SERVICE_SUBJECT } : null)),
  });
  return { ...server, estimator };
}

/** Holds callers until opened; `reached` resolves when the first caller arrives. */
export class Gate {
  private opened = false;
  private release: () => void = () => {};
  private readonly released = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  private arrive: () => void = () => {};
  readonly reached = new Promise<void>((resolve) => {
    this.arrive = resolve;
  });

  async pass(): Promise<void> {
    this.arrive();
    if (!this.opened) await this.released;
  }

  open(): void {
    this.opened = true;
    this.release();
  }
}
