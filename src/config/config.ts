import path from 'node:path';

/** Where the database lives: embedded PGlite under the data folder (or in memory for tests), or a PostgreSQL server. */
export type DatabaseConfig =
  | { driver: 'pglite'; dataDir: string | null }
  | { driver: 'postgres'; url: string; schema: string | null; poolSize: number };

/** Shared counters and fan-out: in this process only, or one Redis server seen by every process. */
export type RedisConfig = { driver: 'memory' } | { driver: 'redis'; url: string };

/** Media and results: a folder on disk (served through signed API URLs), or any S3-compatible service. */
export type StorageConfig =
  | { driver: 'fs'; root: string }
  | {
      driver: 's3';
      endpoint: string | null;
      region: string;
      bucket: string;
      accessKeyId: string;
      secretAccessKey: string;
      forcePathStyle: boolean;
    };

export interface UploadsConfig {
  /** Per file; bigger files are refused while streaming, and nothing of them is kept. */
  maxFileBytes: number;
  signedUrlTtlSeconds: number;
  /** Shared secret a bucket notification to /api/minio/webhook must carry. Unset: the webhook refuses everything. */
  webhookSecret: string | null;
  /**
   * Webhook calls with a wrong secret one client IP may make per `auth.attemptWindowSeconds`; beyond, every call
   * from it is 429 until the window moves on, the right secret included, so the secret cannot be guessed at speed.
   */
  webhookFailedAuthPerIp: number;
  /**
   * Multipart uploads (POST /api/video/upload) streaming at once, per user and in all, in this process; one more is
   * answered 429 before any of its bytes is read. Each one in flight holds a store stream and an ffprobe.
   */
  concurrencyPerUser: number;
  concurrencyTotal: number;
}

/**
 * Timeouts of the HTTP server against clients that hold connections open (slowloris and slow bodies). No total
 * limit applies to a streamed upload: a large file on a slow link is kept as long as bytes keep arriving.
 */
export interface HttpConfig {
  /** The whole request head (request line and headers) must arrive within this; otherwise 408 and closed. */
  headersTimeoutMs: number;
  /** A connection with no bytes either way for this long is closed, mid-body included (an upload that stalls). */
  idleTimeoutMs: number;
  /** An idle keep-alive connection between requests is closed after this; behind a load balancer, exceed its own. */
  keepAliveTimeoutMs: number;
  /** A buffered body (JSON or text, at most 1 MiB) must arrive whole within this, however slowly it trickles. */
  bodyTimeoutMs: number;
}

/**
 * Where GET /metrics is served. A token, when set, is required as `Authorization: Bearer` wherever it is served; a
 * port moves it off the main port (bound on HOST). Neither set: served openly in development and test only.
 */
export interface MetricsConfig {
  token: string | null;
  /** 0: any free port (tests). */
  port: number | null;
}

export interface JobsConfig {
  /** Analyses run at once by this process (0: this process runs no analyses, e.g. an API-only node). */
  concurrency: number;
  leaseSeconds: number;
  retryLimit: number;
  retryDelaySeconds: number;
  pollIntervalSeconds: number;
  superviseIntervalSeconds: number;
  /** Analyse every n-th video frame; null: the step follows `analysisFps`. */
  frameStep: number | null;
  /** Analysed frames per second of footage when no frame step is set (the nearest whole step of the file's rate). */
  analysisFps: number;
  /**
   * How often a running analysis proves it is alive (and checks that it still owns its row): a claim of an analysis
   * whose heartbeat is younger than three of these is refused, and a deleted analysis stops within one.
   */
  heartbeatSeconds: number;
  /** Analysed frames (after frameStep) of one video at most; a longer video fails at once with a clear error. */
  maxFrames: number;
  /**
   * Pose threads start on the first analysis and stop after this many seconds without one (0: never stop), so an
   * idle process does not hold their models (tens of MB per thread).
   */
  poseIdleSeconds: number;
  /** Retries (POST /api/analysis/retry/:id) of one analysis per day, and of one user's analyses per hour. */
  retriesPerAnalysisPerDay: number;
  retriesPerUserPerHour: number;
}

export interface AuthConfig {
  jwtSecret: string | null;
  studioTokenTtlSeconds: number;
  liveTokenTtlSeconds: number;
  wsTokenTtlSeconds: number;
  /** Browser origins allowed to send cookie-authenticated state changes (and CORS). */
  allowedOrigins: readonly string[];
  cookieSecure: 'auto' | boolean;
  /** The access cookie's SameSite: `lax`, or `none` for a web client served from another site (forces Secure). */
  cookieSameSite: 'lax' | 'strict' | 'none';
  /**
   * Brute-force limits per window: FAILED logins and signups (wrong password, unknown or taken email) per client
   * IP and per email; a login with the right password clears that email's failures. Successes are not counted
   * here, so a classroom behind one NAT or a test suite is not locked out by logging in.
   */
  ipAttempts: number;
  emailAttempts: number;
  /** All logins and signups per client IP per window, successes included: a generous ceiling against stuffing. */
  ipAttemptCeiling: number;
  attemptWindowSeconds: number;
  /** Anonymous live writes that create rows (session starts, device metrics): per client IP per minute, each. */
  anonymousWritesPerMinute: number;
  /**
   * Users kept in memory for authenticated requests this many seconds (0: read each time). The app's own changes
   * reach every process at once; a row changed or deleted outside the app is seen within this bound.
   */
  userCacheSeconds: number;
}

/** Limits on each process's WebSockets (`/ws/posture/`, `/ws/analysis`); see src/http/guarded-socket.ts. */
export interface SocketsConfig {
  /** Open sockets per user in one process, both endpoints together; the next one is closed with 4009. */
  maxPerUser: number;
  /** Sustained client messages per second per socket, on top of `messageBurst`; beyond: closed with 4029. */
  messagesPerSecond: number;
  messageBurst: number;
  /** Unsent bytes one socket may hold (a client not reading); beyond: closed with 4008. */
  maxBufferedBytes: number;
}

/** Ceilings of the live API against one client filling memory or storage (docs/live-api.md, "Limits"). */
export interface LiveLimitsConfig {
  /** One posture event, serialised; larger → 413. Keypoints for 33 points and a few fields fit in about 3 KiB. */
  eventMaxBytes: number;
  /** The whole body of the event route (one event or a list); larger → 413 before it is parsed. */
  eventBodyMaxBytes: number;
  /** Events in one list; more → 413. */
  eventsPerRequest: number;
  /** An event's `metadata`, serialised, and its nesting depth (`{"a":1}` is 1); beyond either → 400. */
  metadataMaxBytes: number;
  metadataMaxDepth: number;
  /** Sessions not ended, started in the last `openSessionHours`, per user and per anonymous client IP; more → 429. */
  openSessionsPerUser: number;
  openSessionsPerIp: number;
  openSessionHours: number;
  /** Events stored per UTC day per user, and per anonymous client IP (the IP that started the session); more → 429. */
  eventsPerDayPerUser: number;
  eventsPerDayPerIp: number;
}

export interface StudioConfig {
  /**
   * The body of GET /api/analysis/list: `object` is the documented `{analyses, next_cursor}`; `array` is the bare list
   * the existing studio web client reads (next page's cursor in the `X-Next-Cursor` header).
   */
  analysisListShape: 'object' | 'array';
}

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** Behind a load balancer: take the client IP and protocol from X-Forwarded-* headers. */
  trustProxy: boolean;
  dataDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  database: DatabaseConfig;
  redis: RedisConfig;
  auth: AuthConfig;
  /** Base URL clients reach this API at; signed file URLs of the disk store point here. */
  publicUrl: string;
  /** Models served by remote model servers (name → ws URL); the others run in this process. */
  modelServers: Readonly<Record<string, string>>;
  storage: StorageConfig;
  uploads: UploadsConfig;
  jobs: JobsConfig;
  studio: StudioConfig;
  http: HttpConfig;
  metrics: MetricsConfig;
  liveLimits: LiveLimitsConfig;
  sockets: SocketsConfig;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Secrets that appear in tutorials and templates: accepting them in production would be the same as no secret. */
const KNOWN_WEAK_SECRETS = new Set([
  'secret', 'changeme', 'change-me', 'dev', 'development', 'jwt-secret', 'jwt_secret', 'your-secret-key',
  'your_jwt_secret', 'super-secret', 'supersecret', 'postura', 'test', 'password', 'default',
]);
const MIN_PRODUCTION_SECRET_LENGTH = 32;
/**
 * Length alone lets `aaaa…` through. A secret's strength is estimated as its per-character Shannon entropy times its
 * length: a rough, conservative figure (it underrates short random hex: 32 hex characters score about 117 bits),
 * so the advice is 43 random base64url characters (`openssl rand -base64 32` also passes).
 */
const MIN_PRODUCTION_SECRET_BITS = 128;
const MIN_PRODUCTION_SECRET_DISTINCT = 10;

type Env = Readonly<Record<string, string | undefined>>;

/** Parses the environment once into a frozen config; every problem is reported together. */
export function loadConfig(env: Env, overrides: DeepPartial<Config> = {}): Config {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const nodeEnv = read.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const dataDir = path.resolve(read.string('DATA_DIR', './data'));
  const databaseUrl = read.optionalString('DATABASE_URL');
  const redisUrl = read.optionalString('REDIS_URL');
  const jwtSecret = read.optionalString('JWT_SECRET') ?? null;
  const port = read.integer('PORT', 5000, { min: 0, max: 65535 });
  const s3Bucket = read.optionalString('S3_BUCKET');

  const config: Config = {
    env: nodeEnv,
    host: read.string('HOST', '0.0.0.0'),
    port,
    trustProxy: read.boolean('TRUST_PROXY', false),
    dataDir,
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    database: databaseUrl
      ? {
          driver: 'postgres',
          url: databaseUrl,
          schema: read.optionalString('DATABASE_SCHEMA') ?? null,
          poolSize: read.integer('DATABASE_POOL_SIZE', 10, { min: 1, max: 500 }),
        }
      : { driver: 'pglite', dataDir: path.join(dataDir, 'pglite') },
    redis: redisUrl ? { driver: 'redis', url: redisUrl } : { driver: 'memory' },
    auth: {
      jwtSecret,
      studioTokenTtlSeconds: read.integer('STUDIO_TOKEN_TTL_SECONDS', 3 * 3600, { min: 60 }),
      liveTokenTtlSeconds: read.integer('LIVE_TOKEN_TTL_SECONDS', 7 * 24 * 3600, { min: 60 }),
      wsTokenTtlSeconds: 300,
      allowedOrigins: read.list('ALLOWED_ORIGINS', []),
      cookieSecure: env.COOKIE_SECURE?.trim() ? read.boolean('COOKIE_SECURE', false) : 'auto',
      cookieSameSite: read.oneOf('COOKIE_SAMESITE', ['lax', 'strict', 'none'] as const, 'lax'),
      ipAttempts: read.integer('AUTH_IP_ATTEMPTS', 30, { min: 1 }),
      emailAttempts: read.integer('AUTH_EMAIL_ATTEMPTS', 10, { min: 1 }),
      ipAttemptCeiling: read.integer('AUTH_IP_ATTEMPT_CEILING', 300, { min: 1 }),
      attemptWindowSeconds: read.integer('AUTH_ATTEMPT_WINDOW_SECONDS', 900, { min: 1 }),
      anonymousWritesPerMinute: read.integer('ANONYMOUS_WRITES_PER_MINUTE', 120, { min: 1 }),
      userCacheSeconds: read.integer('USER_CACHE_SECONDS', 30, { min: 0, max: 3600 }),
    },
    publicUrl: read.string('PUBLIC_URL', `http://localhost:${port}`).replace(/\/+$/, ''),
    modelServers: read.mapping('MODEL_SERVER_URLS', /^wss?:\/\/\S+$/),
    storage: s3Bucket
      ? {
          driver: 's3',
          endpoint: read.optionalString('S3_ENDPOINT') ?? null,
          region: read.string('S3_REGION', 'us-east-1'),
          bucket: s3Bucket,
          accessKeyId: read.string('S3_ACCESS_KEY_ID', ''),
          secretAccessKey: read.string('S3_SECRET_ACCESS_KEY', ''),
          forcePathStyle: read.boolean('S3_FORCE_PATH_STYLE', true),
        }
      : { driver: 'fs', root: path.join(dataDir, 'objects') },
    uploads: {
      // At most 5 GiB: S3's limit for one PUT (a direct upload) and for one CopyObject (an upload's commit).
      maxFileBytes: read.integer('UPLOAD_MAX_FILE_BYTES', 500 * 1024 * 1024, { min: 1, max: 5 * 1024 ** 3 }),
      signedUrlTtlSeconds: read.integer('SIGNED_URL_TTL_SECONDS', 3600, { min: 1, max: 7 * 24 * 3600 }),
      webhookSecret: read.optionalString('MINIO_WEBHOOK_SECRET') ?? null,
      webhookFailedAuthPerIp: read.integer('MINIO_WEBHOOK_FAILED_AUTH_PER_IP', 10, { min: 1 }),
      concurrencyPerUser: read.integer('UPLOAD_CONCURRENCY_PER_USER', 2, { min: 1, max: 1000 }),
      concurrencyTotal: read.integer('UPLOAD_CONCURRENCY_TOTAL', 16, { min: 1, max: 10_000 }),
    },
    jobs: {
      concurrency: read.integer('ANALYSIS_CONCURRENCY', 2, { min: 0, max: 64 }),
      leaseSeconds: read.integer('ANALYSIS_LEASE_SECONDS', 900, { min: 1 }),
      retryLimit: read.integer('ANALYSIS_RETRY_LIMIT', 3, { min: 0, max: 20 }),
      retryDelaySeconds: read.integer('ANALYSIS_RETRY_DELAY_SECONDS', 5, { min: 1 }),
      pollIntervalSeconds: 1,
      superviseIntervalSeconds: read.integer('QUEUE_SUPERVISE_INTERVAL_SECONDS', 30, { min: 1, max: 3600 }),
      frameStep: read.optionalString('ANALYSIS_FRAME_STEP') === undefined ? null : read.integer('ANALYSIS_FRAME_STEP', 1, { min: 1, max: 120 }),
      analysisFps: read.integer('ANALYSIS_FPS', 10, { min: 1, max: 240 }),
      heartbeatSeconds: read.integer('ANALYSIS_HEARTBEAT_SECONDS', 5, { min: 1, max: 300 }),
      maxFrames: read.integer('ANALYSIS_MAX_FRAMES', 36_000, { min: 1 }),
      poseIdleSeconds: read.integer('POSE_IDLE_SECONDS', 300, { min: 0, max: 86_400 }),
      retriesPerAnalysisPerDay: read.integer('ANALYSIS_RETRIES_PER_ANALYSIS', 5, { min: 1 }),
      retriesPerUserPerHour: read.integer('ANALYSIS_RETRIES_PER_USER_PER_HOUR', 20, { min: 1 }),
    },
    studio: {
      analysisListShape: read.oneOf('ANALYSIS_LIST_SHAPE', ['object', 'array'] as const, 'object'),
    },
    http: {
      headersTimeoutMs: read.integer('HTTP_HEADERS_TIMEOUT_MS', 10_000, { min: 100, max: 600_000 }),
      idleTimeoutMs: read.integer('HTTP_IDLE_TIMEOUT_MS', 60_000, { min: 100, max: 3_600_000 }),
      keepAliveTimeoutMs: read.integer('HTTP_KEEP_ALIVE_TIMEOUT_MS', 72_000, { min: 100, max: 3_600_000 }),
      bodyTimeoutMs: read.integer('HTTP_BODY_TIMEOUT_MS', 30_000, { min: 100, max: 3_600_000 }),
    },
    metrics: {
      token: read.optionalString('METRICS_TOKEN') ?? null,
      port: env.METRICS_PORT?.trim() ? read.integer('METRICS_PORT', 0, { min: 0, max: 65535 }) : null,
    },
    liveLimits: {
      eventMaxBytes: read.integer('LIVE_EVENT_MAX_BYTES', 16 * 1024, { min: 1024, max: 1024 * 1024 }),
      eventBodyMaxBytes: read.integer('LIVE_EVENT_BODY_MAX_BYTES', 256 * 1024, { min: 1024, max: 16 * 1024 * 1024 }),
      eventsPerRequest: read.integer('LIVE_EVENTS_PER_REQUEST', 100, { min: 1, max: 10_000 }),
      metadataMaxBytes: read.integer('LIVE_METADATA_MAX_BYTES', 2 * 1024, { min: 2, max: 1024 * 1024 }),
      metadataMaxDepth: read.integer('LIVE_METADATA_MAX_DEPTH', 4, { min: 1, max: 32 }),
      openSessionsPerUser: read.integer('LIVE_OPEN_SESSIONS_PER_USER', 20, { min: 1 }),
      openSessionsPerIp: read.integer('LIVE_OPEN_SESSIONS_PER_IP', 20, { min: 1 }),
      openSessionHours: read.integer('LIVE_OPEN_SESSION_HOURS', 24, { min: 1, max: 24 * 365 }),
      eventsPerDayPerUser: read.integer('LIVE_EVENTS_PER_DAY_PER_USER', 100_000, { min: 1 }),
      eventsPerDayPerIp: read.integer('LIVE_EVENTS_PER_DAY_PER_IP', 10_000, { min: 1 }),
    },
    sockets: {
      maxPerUser: read.integer('WS_MAX_SOCKETS_PER_USER', 10, { min: 1, max: 10_000 }),
      messagesPerSecond: read.integer('WS_MESSAGES_PER_SECOND', 20, { min: 1 }),
      messageBurst: read.integer('WS_MESSAGE_BURST', 100, { min: 1 }),
      maxBufferedBytes: read.integer('WS_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, { min: 1024 }),
    },
  };

  const merged = deepMerge<Config>(config, overrides);
  problems.push(...checkProductionSecret(merged));
  problems.push(...checkProductionWebhookSecret(merged));
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(merged);
}

/** Shorter than this, a webhook secret can be guessed even with failed attempts limited per IP. */
const MIN_PRODUCTION_WEBHOOK_SECRET_LENGTH = 16;

function checkProductionWebhookSecret(config: Config): string[] {
  const secret = config.uploads.webhookSecret;
  if (config.env !== 'production' || secret === null) return [];
  if (KNOWN_WEAK_SECRETS.has(secret.toLowerCase()) || secret.length < MIN_PRODUCTION_WEBHOOK_SECRET_LENGTH) {
    return [`MINIO_WEBHOOK_SECRET is too weak for production: use at least ${MIN_PRODUCTION_WEBHOOK_SECRET_LENGTH} random characters (or leave it unset to refuse every notification)`];
  }
  return [];
}

function checkProductionSecret(config: Config): string[] {
  if (config.env !== 'production') return [];
  const secret = config.auth.jwtSecret;
  if (!secret) return ['JWT_SECRET is required when NODE_ENV=production'];
  if (KNOWN_WEAK_SECRETS.has(secret.toLowerCase()) || secret.length < MIN_PRODUCTION_SECRET_LENGTH) {
    return [`JWT_SECRET is too weak for production: use at least ${MIN_PRODUCTION_SECRET_LENGTH} random characters`];
  }
  const { distinct, bits } = estimateSecretEntropy(secret);
  if (distinct < MIN_PRODUCTION_SECRET_DISTINCT || bits < MIN_PRODUCTION_SECRET_BITS) {
    return [`JWT_SECRET is too weak for production: ${distinct} distinct characters, about ${Math.floor(bits)} bits `
      + `estimated (need ${MIN_PRODUCTION_SECRET_DISTINCT} and ${MIN_PRODUCTION_SECRET_BITS}); use 43 or more random `
      + 'base64url characters, e.g. `openssl rand -base64 32`'];
  }
  return [];
}

/** Distinct characters, and Shannon entropy of the character frequencies times the length, in bits. */
export function estimateSecretEntropy(secret: string): { distinct: number; bits: number } {
  const chars = [...secret];
  const counts = new Map<string, number>();
  for (const char of chars) counts.set(char, (counts.get(char) ?? 0) + 1);
  let perChar = 0;
  for (const count of counts.values()) {
    const p = count / chars.length;
    perChar -= p * Math.log2(p);
  }
  return { distinct: counts.size, bits: perChar * chars.length };
}

class EnvReader {
  constructor(private readonly env: Env, private readonly problems: string[]) {}

  optionalString(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  string(name: string, fallback: string): string {
    return this.optionalString(name) ?? fallback;
  }

  integer(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const raw = this.optionalString(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    const { min = -Infinity, max = Infinity } = range;
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.optionalString(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.optionalString(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes'].includes(raw)) return true;
    if (['0', 'false', 'no'].includes(raw)) return false;
    this.problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  }

  /** `a=x,b=y` → {a: x, b: y}, each value matching `valuePattern`. */
  mapping(name: string, valuePattern: RegExp): Record<string, string> {
    const out: Record<string, string> = {};
    for (const entry of this.list(name, [])) {
      const [key, ...rest] = entry.split('=');
      const value = rest.join('=').trim();
      if (!key?.trim() || !valuePattern.test(value)) {
        this.problems.push(`${name} entries must look like name=${valuePattern.source}, got "${entry}"`);
        continue;
      }
      out[key.trim()] = value;
    }
    return out;
  }

  list(name: string, fallback: string[]): string[] {
    const raw = this.optionalString(name);
    if (raw === undefined) return fallback;
    return raw.split(',').map((s) => s.trim()).filter(Boolean);
  }
}

export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge<T>(base: T, overrides: DeepPartial<T>): T {
  if (!isPlainObject(base) || !isPlainObject(overrides)) return (overrides ?? base) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const current = out[key];
    // A union member (e.g. database driver) is replaced whole when the driver changes.
    const sameShape = isPlainObject(current) && isPlainObject(value)
      && (!('driver' in value) || value.driver === current.driver);
    out[key] = sameShape ? deepMerge(current, value as never) : value;
  }
  return out as T;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
