import type { Db } from '../infra/db/database.ts';

export interface Calibration {
  id: string;
  userId: string;
  deviceId: string | null;
  baselineAngle: number;
  createdAt: Date;
}

/** One health sample; every hint may be missing (null), but LiveDevicesService stores none that are all missing. */
export interface DeviceMetricsSample {
  userId: string | null;
  deviceId: string | null;
  batteryLevel: number | null;
  fps: number | null;
}

/** Per-device data of the live client: calibration baselines and health samples. */
export interface LiveDevicesRepository {
  insertCalibration(calibration: Omit<Calibration, 'createdAt'>): Promise<Calibration>;
  /** Newest first. */
  listCalibrations(userId: string): Promise<Calibration[]>;
  insertDeviceMetrics(sample: DeviceMetricsSample): Promise<void>;
}

export function createLiveDevicesRepository(db: Db): LiveDevicesRepository {
  return {
    async insertCalibration({ id, userId, deviceId, baselineAngle }) {
      const row = await db.insertInto('calibrations')
        .values({ id, user_id: userId, device_id: deviceId, baseline_angle: baselineAngle })
        .returningAll().executeTakeFirstOrThrow();
      return toCalibration(row);
    },
    async listCalibrations(userId) {
      const rows = await db.selectFrom('calibrations').selectAll().where('user_id', '=', userId)
        .orderBy('created_at', 'desc').orderBy('id').execute();
      return rows.map(toCalibration);
    },
    async insertDeviceMetrics({ userId, deviceId, batteryLevel, fps }) {
      await db.insertInto('device_metrics')
        .values({ user_id: userId, device_id: deviceId, battery_level: batteryLevel, fps }).execute();
    },
  };
}

function toCalibration(row: { id: string; user_id: string; device_id: string | null; baseline_angle: number; created_at: Date }): Calibration {
  return {
    id: row.id,
    userId: row.user_id,
    deviceId: row.device_id,
    baselineAngle: row.baseline_angle,
    createdAt: new Date(row.created_at),
  };
}
